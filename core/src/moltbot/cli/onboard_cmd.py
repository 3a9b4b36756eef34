"""``moltbot onboard``: first-run setup of model, gateway auth, workspace and channels.

Secrets (the model API key, the gateway token or password) go to ``<state dir>/gateway.env``
(mode 0600) and the config refers to them as ``${NAME}``, so the config file can be shared or
backed up without them. Every question has a flag, so ``--non-interactive`` works in scripts;
re-running offers the current values as defaults and keeps secrets unless new ones are given.
Nothing is written unless the whole resulting config validates.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path
from typing import Any

import click
from pydantic import BaseModel

from moltbot.cli.state import CliState, pass_state
from moltbot.config import read_raw, validate, write_config
from moltbot.config.load import apply_env_overrides, expand_env
from moltbot.config.store import set_path
from moltbot.daemon.envfile import env_file_path, read_env_file, write_env_file

MIN_PASSWORD = 12
MIN_TOKEN = 24
DEFAULT_MODELS = {"openai": "gpt-4o-mini", "anthropic": "claude-3-5-sonnet-20241022"}
TOKEN_VAR, PASSWORD_VAR = "MOLTBOT_GATEWAY_TOKEN", "MOLTBOT_GATEWAY_PASSWORD"
_SECRET_RE = re.compile(r"(token|secret|password|key)$", re.IGNORECASE)


def key_var(provider: str) -> str:
    """``openai`` -> ``OPENAI_API_KEY``, the variable provider plugins read."""
    return provider.upper().replace("-", "_").replace(".", "_") + "_API_KEY"


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"the password must have at least {MIN_PASSWORD} characters"
    if len(set(password)) < 4:
        return "the password repeats too few different characters"
    return None


class Asker:
    """Takes a flag's value when given, the default when non-interactive, else prompts."""

    def __init__(self, interactive: bool) -> None:
        self.interactive = interactive

    def text(self, given: Any, question: str, default: Any, *, flag: str, **kwargs: Any) -> Any:
        if given is not None:
            return given
        if self.interactive:
            return click.prompt(question, default=default, **kwargs)
        if default is None:
            raise click.UsageError(f"--non-interactive needs {flag}")
        return default

    def secret(
        self, given: str | None, question: str, *, keep: bool, flag: str, confirm: bool = False
    ) -> str | None:
        """A hidden answer; ``None`` keeps the stored one (Enter at the prompt)."""
        if given is not None:
            return given
        if not self.interactive:
            if keep:
                return None
            raise click.UsageError(f"--non-interactive needs {flag}")
        suffix = " (Enter keeps the stored one)" if keep else ""
        answer = click.prompt(
            question + suffix,
            hide_input=True,
            default="" if keep else None,
            show_default=False,
            confirmation_prompt=confirm and not keep,
        )
        return answer or None


@click.command("onboard")
@click.option(
    "--non-interactive", is_flag=True, help="Never prompt; use flags, then current values, then defaults."
)
@click.option("--provider", help="Model provider id (openai, anthropic, ...).")
@click.option("--model", help="Model name at the provider (the config gets provider/model).")
@click.option("--api-key", help="The provider's API key (stored in gateway.env, never echoed).")
@click.option("--no-api-key", is_flag=True, help="The provider needs no key (a local server).")
@click.option("--auth", "auth_mode", type=click.Choice(["token", "password"]), help="Gateway auth mode.")
@click.option("--token", help="Gateway token (default: the stored one, or a generated one).")
@click.option("--password", help=f"Gateway password ({MIN_PASSWORD}+ characters).")
@click.option("--port", type=click.IntRange(1, 65535), help="Gateway port (default 18789).")
@click.option("--bind", type=click.Choice(["loopback", "lan"]), help="Where the gateway listens.")
@click.option("--workspace", type=click.Path(path_type=Path), help="The agent's workspace directory.")
@click.option("--channel", "channels", multiple=True, help="Enable an installed channel (repeatable).")
@click.option("--no-channels", is_flag=True, help="Disable every channel.")
@click.option(
    "--channel-option",
    "channel_options",
    multiple=True,
    metavar="CHANNEL.KEY=VALUE",
    help="A channel setting, e.g. telegram.botToken=...; secrets go to gateway.env (repeatable).",
)
@click.option("--install-daemon", is_flag=True, help="Finish by installing and starting the gateway service.")
@click.option("--unit-dir", type=click.Path(path_type=Path), envvar="MOLTBOT_DAEMON_UNIT_DIR", hidden=True)
@pass_state
def onboard_command(state: CliState, **opts: Any) -> None:
    """Set up moltbot: model and API key, gateway auth, workspace, channels.

    Re-run it any time: current values are the defaults and stored secrets are kept.
    """
    ask = Asker(interactive=not opts["non_interactive"])
    raw = read_raw(state.paths.config_path)
    env_path = env_file_path(state.paths.state_dir)
    stored = read_env_file(env_path)
    secrets_out = dict(stored)

    raw = _model(state, ask, raw, opts, stored, secrets_out)
    raw = _gateway(ask, raw, opts, stored, secrets_out)
    raw, workspace = _workspace(ask, raw, opts)
    raw = _channels(state, ask, raw, opts, secrets_out)

    expanded, problems = expand_env(raw, {**state.env, **secrets_out})
    if problems:
        raise click.ClickException("; ".join(f"{p}: {m}" for p, m in problems))
    validate(apply_env_overrides(expanded, {}), state.plugins, source=str(state.paths.config_path))

    workspace.mkdir(parents=True, exist_ok=True, mode=0o700)
    write_env_file(env_path, secrets_out)
    write_config(state.paths.config_path, raw)
    click.echo(f"config written to {state.paths.config_path}")
    click.echo(f"secrets stored in {env_path} (mode 0600); the config refers to them as ${{NAME}}")
    click.echo(f"workspace: {workspace}")
    if opts["install_daemon"]:
        from moltbot.cli.daemon_cmd import install_service

        for line in install_service(state, unit_dir=opts["unit_dir"]):
            click.echo(line)
    else:
        click.echo(
            "next: `moltbot run` to start in this terminal, or `moltbot gateway install` for a service"
        )


def _model(state: CliState, ask: Asker, raw: dict, opts: dict, stored: dict, out: dict) -> dict:
    installed = sorted(state.plugins.model_providers())
    current = str((raw.get("agent") or {}).get("model") or "")
    cur_provider, _, cur_model = current.partition("/")
    default_provider = cur_provider or (installed[0] if installed else "openai")
    provider = ask.text(
        opts["provider"],
        "Model provider" + (f" ({', '.join(installed)})" if installed else ""),
        default_provider,
        flag="--provider",
    ).strip()
    if installed and provider not in installed:
        click.echo(f"note: no installed plugin provides {provider!r} yet (installed: {', '.join(installed)})")
    default_model = cur_model if provider == cur_provider and cur_model else DEFAULT_MODELS.get(provider)
    model = ask.text(opts["model"], "Model", default_model, flag="--model").strip()
    raw = set_path(raw, "agent.model", f"{provider}/{model}")
    var = key_var(provider)
    if opts["no_api_key"]:
        return raw
    key = ask.secret(
        opts["api_key"], f"{provider} API key", keep=var in stored or var in state.env, flag="--api-key"
    )
    if key is not None:
        out[var] = key.strip()
    if var in out:
        raw = set_path(raw, f"models.providers.{provider}.apiKey", "${" + var + "}")
    return raw


def _gateway(ask: Asker, raw: dict, opts: dict, stored: dict, out: dict) -> dict:
    gateway = raw.get("gateway") or {}
    auth = gateway.get("auth") or {}
    mode = ask.text(
        opts["auth_mode"],
        "Gateway auth",
        auth.get("mode") if auth.get("mode") in ("token", "password") else "token",
        flag="--auth",
        type=click.Choice(["token", "password"]),
    )
    if mode == "token":
        if opts["token"] is not None and len(opts["token"]) < MIN_TOKEN:
            raise click.BadParameter(
                f"a gateway token needs at least {MIN_TOKEN} characters", param_hint="--token"
            )
        token = opts["token"] or stored.get(TOKEN_VAR) or secrets.token_urlsafe(32)
        out[TOKEN_VAR] = token
        out.pop(PASSWORD_VAR, None)
        raw = set_path(raw, "gateway.auth", {"mode": "token", "token": "${" + TOKEN_VAR + "}"})
    else:
        while True:
            password = ask.secret(
                opts["password"],
                "Gateway password",
                keep=PASSWORD_VAR in stored,
                flag="--password",
                confirm=True,
            )
            password = password if password is not None else stored[PASSWORD_VAR]
            problem = password_problem(password)
            if problem is None:
                break
            if not ask.interactive or opts["password"] is not None:
                raise click.BadParameter(problem, param_hint="--password")
            click.echo(f"{problem}; try again")
        out[PASSWORD_VAR] = password
        out.pop(TOKEN_VAR, None)
        raw = set_path(raw, "gateway.auth", {"mode": "password", "password": "${" + PASSWORD_VAR + "}"})
    port = ask.text(opts["port"], "Gateway port", gateway.get("port", 18789), flag="--port", type=int)
    bind = ask.text(
        opts["bind"],
        "Listen on",
        gateway.get("bind", "loopback"),
        flag="--bind",
        type=click.Choice(["loopback", "lan", "custom"]),
    )
    raw = set_path(raw, "gateway.port", int(port))
    return set_path(raw, "gateway.bind", bind)


def _workspace(ask: Asker, raw: dict, opts: dict) -> tuple[dict, Path]:
    current = (raw.get("agent") or {}).get("workspace") or "~/clawd"
    answer = ask.text(opts["workspace"], "Workspace directory", current, flag="--workspace")
    text = str(answer)
    return set_path(raw, "agent.workspace", text), Path(text).expanduser()


def _channels(state: CliState, ask: Asker, raw: dict, opts: dict, out: dict) -> dict:
    specs = state.plugins.channels()
    always_on = {name for name, spec in specs.items() if spec.default_enabled}  # WebChat
    installed = sorted(set(specs) - always_on)
    sections = dict(raw.get("channels") or {})
    unknown = [c for c in opts["channels"] if c not in installed]
    if unknown:
        raise click.BadParameter(
            f"no installed channel plugin named {', '.join(unknown)} "
            f"(installed: {', '.join(installed) or 'none'})",
            param_hint="--channel",
        )
    if opts["no_channels"]:
        wanted: set[str] = set()
    elif opts["channels"]:
        wanted = set(opts["channels"])
    elif ask.interactive:
        wanted = {
            name
            for name in installed
            if click.confirm(f"Enable the {name} channel?", default=_enabled(sections.get(name)))
        }
    else:
        return raw
    given = _channel_options(opts["channel_options"], installed)
    for name in sorted((set(installed) | set(sections)) - always_on):
        section = dict(sections.get(name) or {})
        if name in wanted:
            model = state.plugins.channels()[name].config
            section = _required_settings(ask, name, model, {**section, **given.get(name, {})}, out)
            sections[name] = {**section, "enabled": True}
        elif name in sections:
            sections[name] = {**section, "enabled": False}
    return set_path(raw, "channels", sections)


def _channel_options(values: tuple[str, ...], installed: list[str]) -> dict[str, dict[str, str]]:
    """``--channel-option telegram.botToken=...`` -> ``{"telegram": {"botToken": "..."}}``."""
    parsed: dict[str, dict[str, str]] = {}
    for item in values:
        target, sep, value = item.partition("=")
        channel, dot, key = target.partition(".")
        if not sep or not dot or channel not in installed:
            raise click.BadParameter(
                f"expected <channel>.<key>=<value> for an installed channel, got {item!r}"
            )
        parsed.setdefault(channel, {})[key] = value
    return parsed


def _required_settings(ask: Asker, channel: str, model: type[BaseModel], section: dict, out: dict) -> dict:
    """Ask for the channel's required settings that are missing; secret-looking values (``...Token``,
    ``...Secret``, ``...Password``, ``...Key``) move to gateway.env and are referenced as ``${NAME}``."""
    section = dict(section)
    for name, field in model.model_fields.items():
        key = field.alias or name
        value = section.get(key)
        if value is None:
            if not field.is_required():
                continue
            if not ask.interactive:
                raise click.UsageError(
                    f"the {channel} channel needs {key}: pass --channel-option {channel}.{key}=..."
                )
            value = click.prompt(f"{channel} {key}", hide_input=_is_secret(key))
        if _is_secret(key) and isinstance(value, str) and not value.startswith("${"):
            var = re.sub(
                r"[^A-Z0-9]+", "_", f"MOLTBOT_{channel}_{re.sub(r'(?<=[a-z0-9])(?=[A-Z])', '_', key)}".upper()
            )
            out[var] = value
            value = "${" + var + "}"
        section[key] = value
    return section


def _is_secret(key: str) -> bool:
    return bool(_SECRET_RE.search(key))


def _enabled(section: Any) -> bool:
    return isinstance(section, dict) and section.get("enabled", True) is not False
