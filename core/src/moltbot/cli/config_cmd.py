"""``moltbot config``: get, set, unset, validate, path, schema."""

from __future__ import annotations

import json
from typing import Any

import click
import json5

from moltbot.cli.state import CliState, pass_state
from moltbot.config import read_raw, validate, write_config
from moltbot.config.load import apply_env_overrides, expand_env
from moltbot.config.schema import full_schema, lookup
from moltbot.config.store import get_path, set_path, unset_path
from moltbot.errors import EX_CONFIG, ConfigError


@click.group("config")
def config_command() -> None:
    """Read, change and check the configuration file."""


@config_command.command("path")
@pass_state
def path_cmd(state: CliState) -> None:
    """Print the config file's path."""
    click.echo(str(state.paths.config_path))


@config_command.command("get")
@click.argument("key", required=False)
@click.option("--json", "as_json", is_flag=True, help="Print JSON even for plain strings.")
@click.option("--effective", is_flag=True, help="Include defaults and environment overrides.")
@pass_state
def get_cmd(state: CliState, key: str | None, as_json: bool, effective: bool) -> None:
    """Print the value at KEY (dotted, e.g. gateway.auth.mode), or the whole file."""
    data: Any = read_raw(state.paths.config_path)
    if effective:
        data = state.settings().model_dump(mode="json", by_alias=True, exclude_none=True)
    if key:
        try:
            data = get_path(data, key)
        except (KeyError, ValueError) as exc:
            raise click.ClickException(str(exc).strip("'\"")) from None
    if isinstance(data, str) and not as_json:
        click.echo(data)
    else:
        click.echo(json.dumps(data, indent=2, ensure_ascii=False))


@config_command.command("set")
@click.argument("key")
@click.argument("value")
@click.option("--string", "as_string", is_flag=True, help="Store VALUE as a string, unparsed.")
@pass_state
def set_cmd(state: CliState, key: str, value: str, as_string: bool) -> None:
    """Set KEY to VALUE (parsed as JSON5 when possible: 18789, true, ["a"], {...})."""
    parsed: Any = value
    if not as_string:
        try:
            parsed = json5.loads(value)
        except ValueError:
            parsed = value
    _write_checked(state, lambda raw: set_path(raw, key, parsed))
    click.echo(f"set {key}")


@config_command.command("unset")
@click.argument("key")
@pass_state
def unset_cmd(state: CliState, key: str) -> None:
    """Remove KEY from the file (its default applies again)."""
    _write_checked(state, lambda raw: unset_path(raw, key))
    click.echo(f"unset {key}")


def _write_checked(state: CliState, change: Any) -> None:
    """Apply ``change`` to the raw file, validate the result, and only then write it."""
    raw = read_raw(state.paths.config_path)
    try:
        updated = change(raw)
    except (KeyError, ValueError, IndexError, TypeError) as exc:
        raise click.ClickException(str(exc).strip("'\"")) from None
    expanded, problems = expand_env(updated, state.env)
    if problems:
        raise ConfigError(problems, source=str(state.paths.config_path))
    validate(
        apply_env_overrides(expanded, state.env),
        state.plugins,
        source=f"{state.paths.config_path} (after the change; not written)",
    )
    write_config(state.paths.config_path, updated)


@config_command.command("validate")
@click.option("--json", "as_json", is_flag=True, help="One JSON document on stdout.")
@pass_state
def validate_cmd(state: CliState, as_json: bool) -> None:
    """Check the config file; exit 78 when it is invalid."""
    try:
        state.settings()
    except ConfigError as exc:
        if as_json:
            click.echo(
                json.dumps(
                    {
                        "ok": False,
                        "path": str(state.paths.config_path),
                        "problems": [{"path": p, "message": m} for p, m in exc.problems],
                    },
                    indent=2,
                )
            )
        else:
            click.echo(str(exc), err=True)
        raise SystemExit(EX_CONFIG) from None
    if as_json:
        click.echo(json.dumps({"ok": True, "path": str(state.paths.config_path)}))
    else:
        click.echo(f"{state.paths.config_path}: valid")


@config_command.command("schema")
@click.argument("path", required=False)
@pass_state
def schema_cmd(state: CliState, path: str | None) -> None:
    """Print the JSON Schema of the config file (plugin sections included), or of one PATH
    such as gateway.auth.mode."""
    schema = full_schema(state.plugins)
    if path:
        found = lookup(schema, path)
        if found is None:
            raise click.BadParameter(f"no config key {path!r}", param_hint="PATH")
        schema = found
    click.echo(json.dumps(schema, indent=2))


@config_command.command("suggest")
@click.option("--production", is_flag=True, help="Settings for an always-on gateway (default: development).")
def suggest_cmd(production: bool) -> None:
    """Print the suggested performance settings for this machine (JSON5)."""
    from moltbot.ops.advice import render_suggestion
    from moltbot.ops.sysinfo import system_info

    click.echo(render_suggestion(system_info(), production=production), nl=False)


@config_command.command("template")
@click.option("--secure", "secure", is_flag=True, default=True, help="The secure template (the default).")
def template_cmd(secure: bool) -> None:
    """Print a secure starting config with a freshly generated password (JSON5)."""
    from moltbot.ops.advice import render_template

    click.echo(render_template(), nl=False)
