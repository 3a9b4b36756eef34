"""Webhook message kinds become text the agent can read (payload shapes from Meta's webhook
reference: location, contacts, interactive replies, template buttons, Groups API messages)."""

from __future__ import annotations

from typing import Any

import pytest
from moltbot_whatsapp.normalize import Received, message_changes, parse_change

from .fake_whatsapp import PHONE_NUMBER_ID, USER, FakeWhatsApp

GROUP = "Y2FwaV9ncm91cDoxNzA1NTU1MDEzOToxMjAzNjM0MDQ2OTQyMzM4MjAZD"


def parse(payload: dict[str, Any]) -> list[Received]:
    ((number, value),) = message_changes(payload)
    assert number == PHONE_NUMBER_ID
    received, _ = parse_change(value, channel="whatsapp", account="work")
    return received


def text_of(kind: str, content: dict[str, Any]) -> str | None:
    received = parse(FakeWhatsApp().message(kind, content))
    return received[0].message.text if received else None


@pytest.mark.parametrize(
    ("kind", "content", "text"),
    [
        (
            "location",
            {"latitude": 37.48, "longitude": -122.15, "name": "Philz Coffee", "address": "101 Forest Ave"},
            "[location 37.48,-122.15 Philz Coffee 101 Forest Ave]",
        ),
        ("location", {"latitude": 1.5, "longitude": 2.5}, "[location 1.5,2.5]"),
        ("interactive", {"type": "button_reply", "button_reply": {"id": "yes-1", "title": "Yes"}}, "Yes"),
        (
            "interactive",
            {"type": "list_reply", "list_reply": {"id": "r2", "title": "Tuesday", "description": "9-5"}},
            "Tuesday",
        ),
        ("button", {"payload": "STOP", "text": "Stop promotions"}, "Stop promotions"),
        ("reaction", {"message_id": "wamid.X", "emoji": ""}, None),
        ("unsupported", {}, None),
        ("system", {"body": "changed number"}, None),
    ],
)
def test_kinds_become_text(kind: str, content: dict[str, Any], text: str | None) -> None:
    assert text_of(kind, content) == text


def test_shared_contacts_become_cards() -> None:
    payload = FakeWhatsApp().message("text", {})
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message["type"] = "contacts"
    message["contacts"] = [
        {
            "name": {"formatted_name": "Barbara J. Johnson", "first_name": "Barbara"},
            "phones": [{"phone": "+1 (940) 555-1234", "wa_id": "19405551234", "type": "HOME"}],
            "emails": [{"email": "bjohnson@example.com", "type": "WORK"}],
        },
        {"name": {"formatted_name": "No Phone"}},
    ]
    (received,) = parse(payload)
    assert received.message.text == (
        "[contact Barbara J. Johnson +1 (940) 555-1234 bjohnson@example.com]\n[contact No Phone]"
    )


def test_every_message_carries_the_account() -> None:
    (received,) = parse(FakeWhatsApp().text("hi"))
    message = received.message
    assert (message.account, message.chat_type, message.chat_id, message.sender) == ("work", "dm", USER, USER)
    assert message.sender_name == "Kerry Fisher" and received.attachment is None


def test_group_messages_name_the_group_and_the_participant() -> None:
    fake = FakeWhatsApp()
    (plain,) = parse(
        fake.message("text", {"body": "what do you all think?"}, sender="+16505551234", group_id=GROUP)
    )
    assert (plain.message.chat_type, plain.message.chat_id, plain.message.sender) == ("group", GROUP, USER)
    assert not plain.message.mentions_bot
    (mention,) = parse(fake.message("text", {"body": "@15550001111 summarize"}, group_id=GROUP))
    (reply,) = parse(fake.message("text", {"body": "and?"}, group_id=GROUP, context="wamid.OURS"))
    (to_other,) = parse(
        fake.message(
            "text", {"body": "+1"}, group_id=GROUP, context="wamid.THEIRS", context_from="16505559999"
        )
    )
    assert mention.message.mentions_bot and reply.message.mentions_bot and not to_other.message.mentions_bot


def test_media_messages_describe_their_attachment() -> None:
    fake = FakeWhatsApp()
    content = {
        "filename": "a.pdf",
        "mime_type": "application/pdf",
        "sha256": "abc=",
        "id": "77",
        "caption": "see",
    }
    (received,) = parse(fake.message("document", content))
    assert received.attachment is not None
    assert (received.attachment.filename, received.attachment.media_id, received.attachment.sha256) == (
        "a.pdf",
        "77",
        "abc=",
    )
    assert received.message.media[0].ref == "77" and received.message.text == "see"


def test_other_fields_and_objects() -> None:
    payload = FakeWhatsApp().text("hi")
    payload["entry"][0]["changes"][0]["field"] = "group_lifecycle_update"
    assert list(message_changes(payload)) == []
    with pytest.raises(ValueError, match="not a whatsapp_business_account"):
        list(message_changes({"object": "page", "entry": []}))
