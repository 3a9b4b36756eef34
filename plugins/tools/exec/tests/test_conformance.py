"""exec and process pass the tool conformance suite (host and sandboxed sessions)."""

import pytest

from moltbot.testing.conformance import ToolConformance


class TestExecOnHost(ToolConformance):
    tool = pytest.fixture(lambda self, make_tools: make_tools()[0])
    tool_context = pytest.fixture(lambda self, host: host)
    valid_params = pytest.fixture(lambda self: {"command": "echo conformance"})
    invalid_params = pytest.fixture(lambda self: {"command": ""})


class TestExecSandboxed(TestExecOnHost):
    tool_context = pytest.fixture(lambda self, sandboxed: sandboxed)


class TestProcess(ToolConformance):
    tool = pytest.fixture(lambda self, make_tools: make_tools()[1])
    tool_context = pytest.fixture(lambda self, host: host)
    valid_params = pytest.fixture(lambda self: {"action": "list"})
    invalid_params = pytest.fixture(lambda self: {"action": "explode"})
