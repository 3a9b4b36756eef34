from datetime import UTC, datetime
from urllib.parse import unquote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moltbot import InboundMessage
from moltbot.config.model import SessionConfig
from moltbot.sessions import InvalidSessionKey, derive_key, main_key, parse_key


def msg(**kw) -> InboundMessage:
    base = {
        "channel": "telegram",
        "sender": "12345",
        "chat_id": "12345",
        "message_id": "1",
        "timestamp": datetime(2026, 1, 1, tzinfo=UTC),
    }
    return InboundMessage(**{**base, **kw})


def test_default_is_a_private_session_per_sender_and_channel():
    config = SessionConfig()
    assert config.dm_scope == "per-channel-peer"
    assert derive_key(msg(), config) == "agent:main:telegram:dm:12345"
    assert derive_key(msg(sender="999", chat_id="999"), config) == "agent:main:telegram:dm:999"
    assert derive_key(msg(channel="discord"), config) == "agent:main:discord:dm:12345"


@pytest.mark.parametrize(
    ("scope", "key"),
    [
        ("main", "agent:ops:main"),
        ("per-peer", "agent:ops:dm:12345"),
        ("per-channel-peer", "agent:ops:telegram:dm:12345"),
        ("per-account-channel-peer", "agent:ops:telegram:work:dm:12345"),
    ],
)
def test_dm_scopes(scope, key):
    config = SessionConfig(dm_scope=scope)
    assert derive_key(msg(account="work"), config, agent_id="ops") == key


def test_groups_and_threads_get_their_own_sessions_even_with_main_scope():
    config = SessionConfig(dm_scope="main")
    group = msg(chat_type="group", chat_id="-100777")
    assert derive_key(group, config) == "agent:main:telegram:group:-100777"
    topic = msg(chat_type="group", chat_id="-100777", thread_id="42")
    assert derive_key(topic, config) == "agent:main:telegram:group:-100777:thread:42"
    assert parse_key(derive_key(topic, config)).thread == "42"


def test_main_key_follows_config():
    assert main_key("main", SessionConfig(main_key="home")) == "agent:main:home"
    assert parse_key("agent:main:home").chat == "main"


def test_separators_and_path_characters_in_ids_are_encoded():
    key = derive_key(msg(channel="matrix", sender="@bob:example.org/../x"), SessionConfig())
    assert key == "agent:main:matrix:dm:@bob%3Aexample.org%2F..%2Fx"
    parsed = parse_key(key)
    assert (parsed.chat, parsed.channel, unquote(parsed.peer)) == ("dm", "matrix", "@bob:example.org/../x")


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "main",
        "session:main:main",
        "agent:../x:main",
        "agent:main:..",
        "agent:main:telegram:dm:.",
        "agent:main:telegram:dm:a/b",
        "agent:main:telegram:dm:a\\b",
        "agent:main:telegram:dm:a\x00b",
        "agent:main:telegram:dm:a b",
        "agent:Main:main",
        "agent:main::dm:1",
    ],
)
def test_parse_refuses_malformed_and_path_like_keys(bad):
    with pytest.raises(InvalidSessionKey):
        parse_key(bad)


def test_dot_ids_cannot_look_like_path_parts():
    assert derive_key(msg(sender=".."), SessionConfig()) == "agent:main:telegram:dm:%2E%2E"


def test_derive_refuses_bad_channel_and_empty_sender():
    with pytest.raises(InvalidSessionKey):
        derive_key(msg(channel="Tele/gram"), SessionConfig())
    with pytest.raises(InvalidSessionKey):
        derive_key(msg(sender=""), SessionConfig())


@settings(deadline=None)
@given(st.text(min_size=1, max_size=60))
def test_any_sender_id_gives_a_valid_key_that_decodes_back(sender):
    key = derive_key(msg(sender=sender), SessionConfig())
    parsed = parse_key(key)
    assert unquote(parsed.peer, errors="strict") == sender
    assert "/" not in key and "\\" not in key
