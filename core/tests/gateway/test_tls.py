"""``gateway.ssl``: the same port speaks wss:// and https:// with the configured certificate."""

from __future__ import annotations

import datetime
import ipaddress
import ssl
from functools import partial

import httpx
import pytest
import trio
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from moltbot.gateway.client import ConnectOptions, connect

from .conftest import TOKEN, base_config, running


def _self_signed(tmp_path):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


async def test_tls_serves_wss_and_https(make_app, tmp_path):
    cert, key = _self_signed(tmp_path)
    app = make_app(base_config(ssl={"enabled": True, "certPath": str(cert), "keyPath": str(key)}))
    # the certificate names 127.0.0.1 itself: "localhost" may resolve to ::1 first, where any
    # other process may be listening on the same port number
    with trio.fail_after(20):
        async with running(app) as gw:
            url = gw.urls[0]
            assert url.startswith("wss://127.0.0.1:")
            context = ssl.create_default_context(cafile=str(cert))
            async with connect(url, ConnectOptions(token=TOKEN), ssl_context=context) as c:
                assert (await c.call("health"))["ok"]
            async with httpx.AsyncClient(verify=context, timeout=5) as http:
                response = await http.get(url.replace("wss", "https", 1) + "/healthz")
                assert response.json() == {"ok": True, "status": "live"}


async def test_a_client_that_never_finishes_the_tls_handshake_is_dropped(make_app, tmp_path):
    cert, key = _self_signed(tmp_path)
    config = base_config(ssl={"enabled": True, "certPath": str(cert), "keyPath": str(key)})
    app = make_app({**config, "performance": {"gateway": {"connectionTimeout": 200}}})
    with trio.fail_after(20):
        async with running(app) as gw:
            port = int(gw.urls[0].rsplit(":", 1)[1])
            async with await trio.open_tcp_stream("127.0.0.1", port) as silent:
                assert await silent.receive_some(1024) == b""  # closed by the server, not held


async def test_the_client_gives_up_on_a_server_that_never_answers_the_handshake():
    held: list[trio.SocketStream] = []

    async def accept_and_hold(stream: trio.SocketStream) -> None:
        held.append(stream)
        await trio.sleep_forever()

    with trio.fail_after(20):
        async with trio.open_nursery() as nursery:
            (listener,) = await nursery.start(partial(trio.serve_tcp, accept_and_hold, 0, host="127.0.0.1"))
            port = listener.socket.getsockname()[1]
            for url in (f"wss://127.0.0.1:{port}", f"ws://127.0.0.1:{port}"):
                with pytest.raises(trio.TooSlowError):
                    async with connect(url, ConnectOptions(token=TOKEN), timeout=0.2):
                        pass
            for stream in held:
                await stream.aclose()
            nursery.cancel_scope.cancel()
