"""A real ``redis-server`` on a free loopback port, for the whole test session."""

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass

import pytest


@dataclass
class RedisServer:
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers_ping(port: int) -> bool:
    """Up and answering (``-NOAUTH`` counts: a server with a password is up too)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith((b"+PONG", b"-NOAUTH"))
    except OSError:
        return False


def start_redis(port: int, directory, *extra: str) -> subprocess.Popen:
    """Start ``redis-server`` without persistence; skip the test when it cannot start."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (Debian package redis-server; .ci/run installs it)")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(directory), "--save", "",
         "--appendonly", "no", "--protected-mode", "yes", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = process.stdout.read().decode(errors="replace")[-500:]
            pytest.skip(f"redis-server exited at start (status {process.returncode}): {output}")
        if _answers_ping(port):
            return process
        time.sleep(0.02)
    process.kill()
    process.wait()
    pytest.skip("redis-server did not answer PING within 10 s")


def stop_redis(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory):
    port = _free_port()
    process = start_redis(port, tmp_path_factory.mktemp("redis"))
    server = RedisServer(port, process)
    yield server
    stop_redis(server.process)
