"""``moltbot metrics`` and ``moltbot alerts`` from the command line."""

import json
import socket

from click.testing import CliRunner

from moltbot.cli import cli


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_falls_back_to_a_local_sample_and_says_so(moltbot_home) -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = CliRunner().invoke(cli, ["metrics", "--json", "--url", url])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["source"].startswith(f"local sample (no gateway at {url}")
    assert 0 < data["metrics"]["system"]["memoryUsage"] < 1
    text = CliRunner().invoke(cli, ["metrics", "--url", url])
    assert text.output.startswith("source: local sample") and "system   cpu" in text.output


def test_alerts_test_then_list(moltbot_home) -> None:
    runner = CliRunner()
    assert runner.invoke(cli, ["alerts", "list"]).output.strip() == "no alerts recorded"
    sent = runner.invoke(cli, ["alerts", "test"])
    assert sent.exit_code == 0, sent.output
    assert "log: ok" in sent.output
    listed = json.loads(runner.invoke(cli, ["alerts", "list", "--json"]).output)
    assert listed[0]["metric"] == "test.alert" and listed[0]["deliveries"] == {"log": "ok"}
    assert "test.alert" in runner.invoke(cli, ["alerts", "list"]).output
