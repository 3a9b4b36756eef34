"""The workspace file tools: ``read``, ``write`` and ``edit``."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from moltbot.interfaces.tool import Tool, ToolContext, ToolError, ToolResult
from moltbot.specs import BuildContext
from moltbot.tools.paths import display, read_bytes, write_bytes

SNIFF_BYTES = 8192


class Params(BaseModel):
    """Tool parameters: unknown arguments are errors the model gets to see."""

    model_config = ConfigDict(extra="forbid")


def decode_text(raw: str, data: bytes, *, truncated: bool) -> str:
    """UTF-8 text, or a :class:`ToolError` for binary content (NUL bytes or invalid UTF-8)."""
    if b"\x00" in data[:SNIFF_BYTES]:
        raise ToolError(f"{raw} is a binary file; not shown")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        if truncated and exc.start >= len(data) - 3:
            return data[: exc.start].decode("utf-8")  # a character cut at the size cap
        raise ToolError(f"{raw} is not UTF-8 text (a binary file?); not shown") from None


class ReadParams(Params):
    path: str = Field(description="File path, relative to the workspace")
    offset: int = Field(1, ge=1, description="First line to return (1-based)")
    limit: int | None = Field(None, ge=1, description="How many lines to return (default: all that fit)")


class ReadTool(Tool):
    name = "read"
    description = "Read a UTF-8 text file from the workspace, optionally a range of lines."
    parameters = ReadParams
    group: ClassVar[str | None] = "group:fs"

    def __init__(self, config: object = None, ctx: BuildContext | None = None) -> None:
        self.max_bytes = ctx.settings.tools.max_read_bytes if ctx else 256_000

    async def run(self, ctx: ToolContext, params: ReadParams) -> ToolResult:
        _path, data, size = read_bytes(ctx, params.path, self.max_bytes + 1)
        truncated = len(data) > self.max_bytes
        text = decode_text(params.path, data[: self.max_bytes], truncated=truncated)
        lines = text.splitlines(keepends=True)
        if truncated and lines and not lines[-1].endswith("\n"):
            lines.pop()  # a partial last line would mislead
        start = params.offset - 1
        if start > 0 and start >= len(lines):
            raise ToolError(f"{params.path} has only {len(lines)} lines (offset {params.offset})")
        end = len(lines) if params.limit is None else min(len(lines), start + params.limit)
        body = "".join(lines[start:end])
        notes = []
        if truncated and end == len(lines):
            notes.append(
                f"[truncated: the file has {size} bytes and only the first {self.max_bytes} are read;"
                f" continue with offset={end + 1}]"
            )
        elif end < len(lines):
            notes.append(f"[showing lines {start + 1}-{end} of {len(lines)}; continue with offset={end + 1}]")
        return ToolResult(
            text=body + ("\n" if notes and body and not body.endswith("\n") else "") + "".join(notes)
        )


class WriteParams(Params):
    path: str = Field(description="File path, relative to the workspace")
    content: str = Field(description="The complete new content of the file")


class WriteTool(Tool):
    name = "write"
    description = "Create or overwrite a text file in the workspace with the given content."
    parameters = WriteParams
    group: ClassVar[str | None] = "group:fs"

    def __init__(self, config: object = None, ctx: BuildContext | None = None) -> None:
        self.max_bytes = ctx.settings.tools.max_write_bytes if ctx else 2_000_000

    async def run(self, ctx: ToolContext, params: WriteParams) -> str:
        data = params.content.encode("utf-8")
        if len(data) > self.max_bytes:
            raise ToolError(f"content is {len(data)} bytes; the limit is {self.max_bytes}")
        path = write_bytes(ctx, params.path, data)
        return f"wrote {len(data)} bytes to {display(ctx, path)}"


class EditParams(Params):
    path: str = Field(description="File path, relative to the workspace")
    old_text: str = Field(min_length=1, description="Exact text to replace; must occur exactly once")
    new_text: str = Field(description="Replacement text")


class EditTool(Tool):
    name = "edit"
    description = (
        "Replace one exact occurrence of old_text with new_text in a workspace file. old_text must"
        " match exactly once (whitespace included); add surrounding lines to make it unique."
    )
    parameters = EditParams
    group: ClassVar[str | None] = "group:fs"

    def __init__(self, config: object = None, ctx: BuildContext | None = None) -> None:
        self.max_bytes = ctx.settings.tools.max_write_bytes if ctx else 2_000_000

    async def run(self, ctx: ToolContext, params: EditParams) -> str:
        _path, data, size = read_bytes(ctx, params.path, self.max_bytes + 1)
        if size > self.max_bytes:
            raise ToolError(f"{params.path} is {size} bytes; files over {self.max_bytes} cannot be edited")
        text = decode_text(params.path, data, truncated=False)
        count = text.count(params.old_text)
        if count == 0:
            raise ToolError(
                f"old_text was not found in {params.path}; it must match exactly, whitespace included"
            )
        if count > 1:
            raise ToolError(
                f"old_text occurs {count} times in {params.path}; include more surrounding text so it"
                " matches exactly once"
            )
        new = text.replace(params.old_text, params.new_text, 1).encode("utf-8")
        if len(new) > self.max_bytes:
            raise ToolError(f"the edited file would be {len(new)} bytes; the limit is {self.max_bytes}")
        path = write_bytes(ctx, params.path, new, create_dirs=False)
        line = text[: text.index(params.old_text)].count("\n") + 1
        return f"edited {display(ctx, path)} at line {line}"
