"""The shared secret filter: defaults, configured secrets, user patterns, and the off switch."""

import pytest

from moltbot.logs.redact import MASK, Redactor

TELEGRAM = "123456789:AAH3kYz_abcdefghijklmnopqrstuvwxyz0"  # 35 characters after the colon
PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAA\nAAAA\n-----END OPENSSH PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("using key sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv", "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv"),
        ("openai sk-proj-1234567890abcdefghij", "sk-proj-1234567890abcdefghij"),
        ("Authorization: Bearer eyJhbGciOi.payload.sig", "eyJhbGciOi.payload.sig"),
        (f"telegram token {TELEGRAM} loaded", TELEGRAM),
        (f"key follows\n{PEM}\ndone", "b3BlbnNzaC1rZXktdjEAAAA"),
        ('{"password": "correct horse", "user": "bob"}', "correct horse"),
        ("{'apiKey': 'abc123xyz'}", "abc123xyz"),
        ("token=tok_live_99 next", "tok_live_99"),
    ],
)
def test_defaults_mask_secrets(text: str, secret: str) -> None:
    out = Redactor().text(text)
    assert secret not in out
    assert MASK in out


def test_configured_gateway_credentials_and_user_patterns() -> None:
    redactor = Redactor(patterns=[r"acct-\d{6}"], literals=["gw-secret-value", None])
    out = redactor.text("gateway gw-secret-value for acct-123456 ok")
    assert out == f"gateway {MASK} for {MASK} ok"


def test_fields_under_secret_names_are_masked_whole() -> None:
    redactor = Redactor()
    fields = redactor.value(
        {"token": "short", "nested": {"password": "x"}, "note": ["sk-abcdefghijklmnopqrstu"]}
    )
    assert fields == {"token": MASK, "nested": {"password": MASK}, "note": [MASK]}


def test_disabled_redactor_passes_everything() -> None:
    text = "sk-ant-api03-AbCdEfGhIjKlMnOpQrStUv"
    assert Redactor(enabled=False).text(text) == text
