"""The diagnostics bundle carries what a bug report needs and none of the planted secrets."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

PASSWORD = "planted-Password-0123456789"
BOT_TOKEN = "123456789:AAEplantedTelegramTokenValue0123456"
API_KEY = "sk-plantedOpenAIKey0123456789abcdef"
ENV_TOKEN = "planted-env-gateway-token-abcdefghijkl"
LOG_SECRET = "planted-log-only-bearer-value-xyz"


def test_bundle_is_redacted(moltbot_home: Path, write_cfg, run_cli, tmp_path: Path, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    (moltbot_home / "gateway.env").parent.mkdir(parents=True, exist_ok=True)
    write_cfg(
        {
            "agent": {"model": "openai/gpt-4o"},
            "gateway": {"auth": {"mode": "password", "password": PASSWORD}},
            "channels": {"telegram": {"botToken": BOT_TOKEN, "dmPolicy": "pairing"}},
            "models": {"providers": {"openai": {"apiKey": "${OPENAI_API_KEY}"}}},
        }
    )
    env_file = moltbot_home / "gateway.env"
    env_file.write_text(f"MOLTBOT_GATEWAY_TOKEN={ENV_TOKEN}\n")
    env_file.chmod(0o600)
    logs = moltbot_home / "logs"
    logs.mkdir()
    (logs / "moltbot.log").write_text(
        "\n".join(
            [
                json.dumps({"level": "info", "message": f"login with password {PASSWORD}"}),
                json.dumps(
                    {"level": "debug", "message": f"calling https://api.telegram.org/bot{BOT_TOKEN}/getMe"}
                ),
                json.dumps({"level": "debug", "headers": {"authorization": f"Bearer {LOG_SECRET}"}}),
                json.dumps({"level": "debug", "message": f"openai key {API_KEY} token={ENV_TOKEN}"}),
                f"bare {ENV_TOKEN} and {API_KEY[3:]}",
                "plain line kept",
            ]
        )
        + "\n"
    )
    out = tmp_path / "bundle.tar.gz"
    result = run_cli("diagnostics", "export", "--output", str(out))
    assert result.exit_code == 0, result.output
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    with tarfile.open(out) as tar:
        contents = {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar if m.isfile()}
    assert {"doctor.json", "config.redacted.json", "versions.json", "logs/moltbot.log", "README.txt"} <= set(
        contents
    )
    blob = b"\n".join(contents.values())
    for secret in (PASSWORD, BOT_TOKEN, API_KEY, ENV_TOKEN, LOG_SECRET, BOT_TOKEN.split(":")[1]):
        assert secret.encode() not in blob, secret
    assert b"plain line kept" in contents["logs/moltbot.log"]
    config = json.loads(contents["config.redacted.json"])
    assert config["gateway"]["auth"]["password"] == "<redacted>"
    assert config["agent"]["model"] == "openai/gpt-4o"
    doctor = json.loads(contents["doctor.json"])
    assert doctor["kind"] == "doctor" and "system" in doctor
    assert json.loads(contents["versions.json"])["moltbot"]
