"""Shared pytest setup: the opt-in fixtures moltbot offers plugin authors."""

pytest_plugins = ["moltbot.testing.fixtures"]
