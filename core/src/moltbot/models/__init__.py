"""Model references, provider credentials, failover and usage accounting.

Modules: :mod:`.config` (the ``models`` config section), :mod:`.refs` (``provider/model``
references, aliases, candidate lists), :mod:`.errors` (HTTP error classification shared by the
provider plugins), :mod:`.sse` (server-sent events parsing), :mod:`.auth` (auth profiles from
config and environment), :mod:`.registry` (building providers from config),
:mod:`.failover` (profile rotation, fallbacks, cooldowns) and :mod:`.usage` (tokens and cost).
This package imports nothing at load time so the config schema can use :mod:`.config`.
"""
