"""The plugin registry: attribution, isolation, conflicts, allow/deny, strict mode."""

import pytest

import moltbot
from moltbot.plugins import Plugins, module_plugin
from moltbot.testing import MemoryChatChannel, make_plugins


def channel_impl(*names: str):
    @moltbot.hookimpl
    def moltbot_register_channels():
        for name in names:
            yield moltbot.ChannelSpec(name=name, factory=MemoryChatChannel)

    return moltbot_register_channels


def test_builtins_are_registered_like_plugins():
    plugins = make_plugins()
    assert "console" in plugins.log_sinks()
    assert {"plugins", "config"} <= set(plugins.commands())
    owner = plugins.owner("log_sinks", "console")
    assert owner.distribution == "moltbot-core" and owner.builtin


def test_specs_are_attributed_to_their_plugin():
    plugins = make_plugins(channel_impl("memory"))
    assert plugins.channels()["memory"].factory is MemoryChatChannel
    assert plugins.owner("channels", "memory").name == "inline"
    inline = next(r for r in plugins.records() if r.name == "inline")
    assert inline.provides == {"channels": ["memory"]}


def test_duplicate_names_are_rejected_naming_both_distributions():
    plugins = Plugins()
    plugins.register(module_plugin("a", channel_impl("chat")), name="a", distribution="moltbot-a")
    plugins.register(module_plugin("b", channel_impl("chat")), name="b", distribution="moltbot-b")
    assert "chat" not in plugins.channels()
    records = {r.name: r for r in plugins.records()}
    for name in ("a", "b"):
        assert records[name].status == "failed"
        assert "moltbot-a" in records[name].reason and "moltbot-b" in records[name].reason


def test_conflict_is_fatal_in_strict_mode():
    plugins = Plugins(strict=True)
    plugins.register(module_plugin("a", channel_impl("chat")), name="a", distribution="moltbot-a")
    plugins.register(module_plugin("b", channel_impl("chat")), name="b", distribution="moltbot-b")
    with pytest.raises(moltbot.PluginConflictError, match="moltbot-a"):
        plugins.channels()


def test_a_raising_registration_hook_is_isolated():
    @moltbot.hookimpl
    def moltbot_register_channels():
        raise RuntimeError("boom")

    plugins = Plugins()
    plugins.register(module_plugin("bad", moltbot_register_channels), name="bad")
    plugins.register(module_plugin("good", channel_impl("fine")), name="good")
    assert list(plugins.channels()) == ["fine"]
    bad = next(r for r in plugins.records() if r.name == "bad")
    assert bad.status == "failed" and "boom" in bad.reason


def test_wrong_record_type_fails_the_plugin():
    @moltbot.hookimpl
    def moltbot_register_channels():
        yield moltbot.ToolSpec(name="oops", factory=MemoryChatChannel)

    plugins = make_plugins(moltbot_register_channels)
    assert list(plugins.channels()) == ["webchat"]  # only the built-in
    assert "expected ChannelSpec" in next(r for r in plugins.records() if r.name == "inline").reason


def test_misspelled_hook_is_reported_with_a_suggestion():
    def moltbot_register_chanels():
        return []

    moltbot_register_chanels = moltbot.hookimpl(moltbot_register_chanels)
    plugins = make_plugins(moltbot_register_chanels)
    record = next(r for r in plugins.records() if r.name == "inline")
    assert record.status == "failed"
    assert "did you mean 'moltbot_register_channels'" in record.reason


def test_bad_component_name_fails_the_plugin():
    plugins = make_plugins(channel_impl("Bad Name"))
    assert list(plugins.channels()) == ["webchat"]  # only the built-in


def test_deny_blocks_before_import():
    imported = []
    plugins = Plugins(deny=["blocked"])
    plugins._admit("blocked", "moltbot-blocked", "1", builtin=False, load=lambda: imported.append(1))
    record = plugins.records()[0]
    assert record.status == "blocked" and imported == []


def test_allow_list_applies_to_third_party_plugins_only():
    plugins = make_plugins(channel_impl("x"), allow=["something-else"])
    statuses = {r.name: r.status for r in plugins.records()}
    assert statuses["inline"] == "blocked"
    assert statuses["core-console"] == "active"


def test_import_failure_is_isolated_and_strict_mode_raises():
    def broken():
        raise ImportError("No module named 'missing_dependency'")

    plugins = Plugins()
    plugins._admit("broken", "moltbot-broken", "1", builtin=False, load=broken)
    assert "missing_dependency" in plugins.records()[0].reason
    strict = Plugins(strict=True)
    with pytest.raises(moltbot.PluginLoadError, match="moltbot-broken"):
        strict._admit("broken", "moltbot-broken", "1", builtin=False, load=broken)


def test_lifecycle_hooks_reach_plugins():
    seen = []

    @moltbot.hookimpl
    def moltbot_startup(app):
        seen.append(app)

    plugins = make_plugins(moltbot_startup)
    plugins.hook.moltbot_startup(app="the-app")
    assert seen == ["the-app"]
