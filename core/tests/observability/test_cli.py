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


def test_metrics_come_from_the_running_gateway_with_its_token(moltbot_home) -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    seen: list[tuple[str, str | None]] = []
    body = {
        "gateway": {"uptime": 12.0, "activeConnections": 2, "requestsPerSecond": 1.5, "errorRate": 0.0},
        "agents": {"activeSessions": 1, "averageResponseTime": 850.0,
                   "tokenUsage": {"input": 10, "output": 5, "total": 15}},
        "system": {"cpuUsage": 0.25, "memoryUsage": 0.5, "diskUsage": 0.4,
                   "networkIO": {"in": 2048.0, "out": 1024.0}},
    }  # fmt: skip

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append((self.path, self.headers.get("Authorization")))
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        moltbot_home.mkdir(parents=True, exist_ok=True)
        port = server.server_address[1]
        (moltbot_home / "moltbot.json").write_text(
            json.dumps({"gateway": {"port": port, "auth": {"token": "tok-123456"}}})
        )
        result = CliRunner().invoke(cli, ["metrics"])
    finally:
        server.shutdown()
        server.server_close()
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"source: gateway http://127.0.0.1:{port}")
    assert "connections 2" in result.output and "avg response 850 ms" in result.output
    assert seen == [("/api/metrics", "Bearer tok-123456")]
