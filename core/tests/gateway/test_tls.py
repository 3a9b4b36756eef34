"""``gateway.ssl``: the same port speaks wss:// and https:// with the configured certificate."""

from __future__ import annotations

import datetime
import ssl

import httpx
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
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
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
    async with running(app) as gw:
        assert gw.urls[0].startswith("wss://")
        context = ssl.create_default_context(cafile=str(cert))
        url = gw.urls[0].replace("127.0.0.1", "localhost")
        async with connect(url, ConnectOptions(token=TOKEN), ssl_context=context) as c:
            assert (await c.call("health"))["ok"]
        async with httpx.AsyncClient(verify=context) as http:
            response = await http.get(url.replace("wss", "https", 1) + "/healthz")
            assert response.json() == {"ok": True, "status": "live"}
