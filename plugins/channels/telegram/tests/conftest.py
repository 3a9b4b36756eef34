pytest_plugins = ["moltbot.testing.fixtures"]
