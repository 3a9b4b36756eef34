"""The Docker image, compose file and container entrypoint, checked without a Docker engine.

The Dockerfile and compose.yaml are parsed and their security-relevant promises asserted; the
entrypoint, the HEALTHCHECK command and the plugin installer run as ordinary processes.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- Dockerfile


def dockerfile() -> list[tuple[str, str]]:
    """``(INSTRUCTION, arguments)`` pairs with continuations joined and ARG defaults expanded."""
    logical, pending = [], ""
    for raw in (ROOT / "Dockerfile").read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    args: dict[str, str] = {}
    result = []
    for line in logical:
        instruction, _, rest = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default.strip('"')
        elif instruction != "RUN":
            rest = re.sub(r"\$\{(\w+)\}", lambda m: args.get(m[1], m[0]), rest)
        result.append((instruction, rest.strip()))
    return result


def only(instruction: str) -> list[str]:
    return [rest for name, rest in dockerfile() if name == instruction]


def test_slim_python_base() -> None:
    assert dockerfile()[0] == ("FROM", "python:3.11-slim")


def test_runs_as_a_non_root_user_after_installing() -> None:
    names = [name for name, _ in dockerfile()]
    (user,) = only("USER")
    uid = user.split(":")[0]
    assert uid not in ("root", "0") and int(uid) >= 1000
    assert names.index("USER") > max(i for i, n in enumerate(names) if n == "RUN")
    assert names.index("USER") < names.index("ENTRYPOINT")


def test_installs_core_and_only_the_plugins_build_arg() -> None:
    assert any(rest.startswith("PLUGINS=") for rest in only("ARG"))
    (install,) = [r for r in only("RUN") if "install-plugins" in r]
    assert '"${PLUGINS}"' in install and "pip install" not in install


def test_healthcheck_exposed_port_and_volumes() -> None:
    (health,) = only("HEALTHCHECK")
    assert "moltbot.daemon.healthcheck" in health and "--interval=" in health
    assert only("EXPOSE") == ["18789"]
    volumes = json.loads(only("VOLUME")[0])
    env = " ".join(only("ENV"))
    assert "MOLTBOT_STATE_DIR=/home/moltbot/.moltbot" in env and "MOLTBOT_GATEWAY_BIND=lan" in env
    assert volumes == ["/home/moltbot/.moltbot", "/home/moltbot/clawd"]


def test_entrypoint_and_healthcheck_modules_exist() -> None:
    entry = json.loads(only("ENTRYPOINT")[0])
    assert entry == ["python", "-m", "moltbot.daemon.entrypoint"]
    for module in ("moltbot.daemon.entrypoint", "moltbot.daemon.healthcheck"):
        assert importlib.util.find_spec(module) is not None


def test_dockerignore_sends_only_sources() -> None:
    lines = [ln for ln in (ROOT / ".dockerignore").read_text().splitlines() if ln and not ln.startswith("#")]
    assert lines[0] == "**"
    assert {ln for ln in lines if ln.startswith("!")} == {"!core/", "!plugins/", "!docker/"}


# ---------------------------------------------------------------- compose.yaml


@pytest.fixture
def service() -> dict:
    yaml = pytest.importorskip("yaml", reason="PyYAML is a dev dependency (dependency-groups.dev)")
    doc = yaml.safe_load((ROOT / "compose.yaml").read_text())
    return doc["services"]["moltbot"]


def test_compose_matches_the_seed(service: dict) -> None:
    assert service["ports"] == ["18789:18789"]
    assert service["restart"] == "unless-stopped"
    assert service["image"] == "ghcr.io/moltbot/moltbot:latest"
    names = {entry.split("=", 1)[0] for entry in service["environment"]}
    assert {"CLAWDBOT_GATEWAY_PASSWORD", "CLAWDBOT_AGENT_MODEL"} <= names


def test_compose_volumes_land_on_the_image_state_dir_and_workspace(service: dict) -> None:
    mapping = dict(v.split(":", 1) for v in service["volumes"])
    image_volumes = json.loads(only("VOLUME")[0])
    assert mapping == {"~/.clawdbot": image_volumes[0], "~/clawd": image_volumes[1]}


def test_compose_holds_no_secret_and_requires_the_password(service: dict) -> None:
    values = dict(entry.split("=", 1) for entry in service["environment"])
    assert re.fullmatch(r"\$\{CLAWDBOT_GATEWAY_PASSWORD:\?.+\}", values["CLAWDBOT_GATEWAY_PASSWORD"])


# ---------------------------------------------------------------- processes


def fake_program(directory: Path, name: str) -> Path:
    """An executable that writes its argv and a few environment variables to ``<name>.json``."""
    directory.mkdir(exist_ok=True)
    out = directory / f"{name}.json"
    exe = directory / name
    exe.write_text(
        f"#!{sys.executable}\nimport json, os, sys\n"
        f"keys = ('MOLTBOT_GATEWAY_BIND', 'OPENAI_API_KEY')\n"
        f"json.dump({{'argv': sys.argv[1:], 'env': {{k: os.environ.get(k) for k in keys}}}}, "
        f"open({str(out)!r}, 'w'))\n"
    )
    exe.chmod(0o755)
    return out


@pytest.fixture
def container(tmp_path: Path) -> Iterator[tuple[dict[str, str], Path]]:
    """A clean environment like the image's: state dir, HOME, and a fake ``moltbot`` on PATH."""
    bindir = tmp_path / "bin"
    record = fake_program(bindir, "moltbot")
    env = {
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "HOME": str(tmp_path / "home"),
        "MOLTBOT_STATE_DIR": str(tmp_path / "state"),
    }
    yield env, record


def entrypoint(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "moltbot.daemon.entrypoint", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_entrypoint_refuses_to_start_without_a_secret(container) -> None:
    env, record = container
    result = entrypoint(env)
    assert result.returncode == 78
    assert "refusing to start" in result.stderr and "CLAWDBOT_GATEWAY_PASSWORD" in result.stderr
    assert not record.exists()


def test_entrypoint_refuses_auth_none_in_the_mounted_config(container, tmp_path: Path) -> None:
    env, record = container
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "clawdbot.json").write_text('{gateway: {auth: {mode: "none"}}}')
    result = entrypoint(env)
    assert result.returncode == 78 and '"none"' in result.stderr and not record.exists()


def test_entrypoint_runs_the_gateway_on_lan_with_the_seed_password(container) -> None:
    env, record = container
    result = entrypoint({**env, "CLAWDBOT_GATEWAY_PASSWORD": "correct horse battery"}, "--verbose")
    assert result.returncode == 0, result.stderr
    ran = json.loads(record.read_text())
    assert ran["argv"] == ["gateway", "run", "--verbose"]
    assert ran["env"]["MOLTBOT_GATEWAY_BIND"] == "lan"


def test_entrypoint_loads_secrets_from_the_state_dir_env_file(container, tmp_path: Path) -> None:
    from moltbot.daemon import write_env_file

    env, record = container
    write_env_file(
        tmp_path / "state" / "gateway.env", {"MOLTBOT_GATEWAY_TOKEN": "t" * 32, "OPENAI_API_KEY": "sk-x"}
    )
    assert entrypoint(env).returncode == 0
    assert json.loads(record.read_text())["env"]["OPENAI_API_KEY"] == "sk-x"


def test_entrypoint_passes_other_commands_through(container) -> None:
    env, record = container
    assert entrypoint(env, "moltbot", "doctor").returncode == 0
    assert json.loads(record.read_text())["argv"] == ["doctor"]


@pytest.fixture
def healthz_port() -> Iterator[int]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_healthcheck_command(healthz_port: int) -> None:
    def check(port: int) -> int:
        env = {**os.environ, "MOLTBOT_GATEWAY_PORT": str(port)}
        command = [sys.executable, "-m", "moltbot.daemon.healthcheck"]
        return subprocess.run(command, env=env, capture_output=True, timeout=30, check=False).returncode

    assert check(healthz_port) == 0
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    assert check(closed) == 1


def test_install_plugins_installs_core_and_named_plugins_only(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    record = fake_program(bindir, "pip")
    env = {**os.environ, "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}"}
    script = str(ROOT / "docker" / "install-plugins.sh")
    done = subprocess.run([script, "echo", str(ROOT)], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert json.loads(record.read_text())["argv"] == [
        "install",
        "--no-cache-dir",
        str(ROOT / "core"),
        str(ROOT / "plugins" / "channels" / "echo"),
    ]
    bad = subprocess.run(
        [script, "echo,nosuch", str(ROOT)], env=env, capture_output=True, text=True, check=False
    )
    assert bad.returncode == 1 and "no plugin named 'nosuch'" in bad.stderr
