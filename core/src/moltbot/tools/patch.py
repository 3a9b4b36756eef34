"""``apply_patch``: the OpenAI/Codex "apply_patch" envelope format, applied all-or-nothing.

Format::

    *** Begin Patch
    *** Add File: notes/todo.md
    +first line
    *** Update File: src/app.py
    *** Move to: src/main.py          (optional rename)
    @@ def main():                     (optional context line, searched for first)
     unchanged context line
    -removed line
    +added line
    *** Delete File: old.txt
    *** End Patch

Each hunk's context and removed lines must be found in the file (after the previous hunk);
every file is checked before any file is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from pydantic import Field

from moltbot.interfaces.tool import Tool, ToolContext, ToolError
from moltbot.specs import BuildContext
from moltbot.tools.fs import Params, decode_text
from moltbot.tools.paths import delete_file, display, read_bytes, resolve_path, write_bytes

BEGIN, END = "*** Begin Patch", "*** End Patch"
ADD, UPDATE, DELETE, MOVE = "*** Add File: ", "*** Update File: ", "*** Delete File: ", "*** Move to: "


@dataclass
class Hunk:
    anchor: str | None
    old: list[str] = field(default_factory=list)
    new: list[str] = field(default_factory=list)


@dataclass
class FileOp:
    kind: str  # "add" | "update" | "delete"
    path: str
    move_to: str | None = None
    added: list[str] = field(default_factory=list)
    hunks: list[Hunk] = field(default_factory=list)


def parse_patch(text: str) -> list[FileOp]:
    """The operations in ``text``; :class:`ToolError` naming the line for anything malformed."""
    lines = text.strip("\n").split("\n")
    if not lines or lines[0].strip() != BEGIN:
        raise ToolError(f"the patch must start with {BEGIN!r}")
    if lines[-1].strip() != END:
        raise ToolError(f"the patch must end with {END!r}")
    ops: list[FileOp] = []
    for number, line in enumerate(lines[1:-1], start=2):
        op = ops[-1] if ops else None
        if line.startswith(ADD):
            ops.append(FileOp("add", line[len(ADD) :].strip()))
        elif line.startswith(UPDATE):
            ops.append(FileOp("update", line[len(UPDATE) :].strip()))
        elif line.startswith(DELETE):
            ops.append(FileOp("delete", line[len(DELETE) :].strip()))
        elif op is None:
            raise ToolError(f"line {number}: expected '*** Add/Update/Delete File: <path>', got {line!r}")
        elif line.startswith(MOVE) and op.kind == "update" and not op.hunks:
            op.move_to = line[len(MOVE) :].strip()
        elif line.strip() == "*** End of File":
            continue
        elif op.kind == "add":
            if not line.startswith("+"):
                raise ToolError(f"line {number}: every line of an added file starts with '+'")
            op.added.append(line[1:])
        elif op.kind == "delete":
            raise ToolError(f"line {number}: a deleted file takes no content lines")
        elif line.startswith("@@"):
            op.hunks.append(Hunk(anchor=line[2:].strip() or None))
        else:
            if not op.hunks:
                op.hunks.append(Hunk(anchor=None))
            hunk = op.hunks[-1]
            marker, body = (line[:1], line[1:]) if line else (" ", "")
            if marker == " ":
                hunk.old.append(body)
                hunk.new.append(body)
            elif marker == "-":
                hunk.old.append(body)
            elif marker == "+":
                hunk.new.append(body)
            else:
                raise ToolError(f"line {number}: hunk lines start with ' ', '-' or '+', got {line!r}")
    for op in ops:
        if not op.path:
            raise ToolError("a file operation has an empty path")
        if op.kind == "update" and not op.hunks and not op.move_to:
            raise ToolError(f"Update File {op.path}: no hunks")
    if not ops:
        raise ToolError("the patch contains no file operations")
    return ops


def _find(lines: list[str], block: list[str], start: int) -> int:
    """Index of ``block`` in ``lines`` at or after ``start``: exact first, then ignoring trailing space."""
    for same in (lambda a, b: a == b, lambda a, b: a.rstrip() == b.rstrip()):
        for i in range(start, len(lines) - len(block) + 1):
            if all(same(lines[i + k], block[k]) for k in range(len(block))):
                return i
    return -1


def apply_hunks(path: str, text: str, hunks: list[Hunk]) -> str:
    ends_with_newline = text.endswith("\n")
    lines = text.split("\n")
    if ends_with_newline:
        lines.pop()
    position = 0
    for number, hunk in enumerate(hunks, start=1):
        if hunk.anchor is not None:
            found = _find(lines, [hunk.anchor], position)
            if found < 0:
                raise ToolError(f"{path}: hunk {number}: the @@ line {hunk.anchor!r} was not found")
            position = found + 1
        if not hunk.old:
            at = position if hunk.anchor is not None else len(lines)
        else:
            at = _find(lines, hunk.old, position)
            if at < 0:
                preview = "\n".join(hunk.old[:5])
                raise ToolError(f"{path}: hunk {number}: these lines were not found:\n{preview}")
        lines[at : at + len(hunk.old)] = hunk.new
        position = at + len(hunk.new)
    return "\n".join(lines) + ("\n" if ends_with_newline or not lines else "")


class ApplyPatchParams(Params):
    patch: str = Field(description="The patch text, from '*** Begin Patch' to '*** End Patch'")


class ApplyPatchTool(Tool):
    name = "apply_patch"
    description = (
        "Add, update, rename or delete workspace files with one patch in the apply_patch format:\n"
        "*** Begin Patch\n*** Update File: path\n@@ optional line to search for\n context line\n"
        "-removed line\n+added line\n*** Add File: path\n+content line\n*** Delete File: path\n"
        "*** End Patch\nNothing is written unless every part applies."
    )
    parameters = ApplyPatchParams
    group: ClassVar[str | None] = "group:fs"

    def __init__(self, config: object = None, ctx: BuildContext | None = None) -> None:
        self.max_bytes = ctx.settings.tools.max_write_bytes if ctx else 2_000_000

    async def run(self, ctx: ToolContext, params: ApplyPatchParams) -> str:
        ops = parse_patch(params.patch)
        writes: list[tuple[str, bytes]] = []
        deletes: list[str] = []
        summary: list[str] = []
        for op in ops:
            if op.kind == "add":
                if resolve_path(ctx, op.path).exists():
                    raise ToolError(f"Add File {op.path}: the file already exists; use Update File")
                writes.append((op.path, ("\n".join(op.added) + "\n").encode()))
                summary.append(f"A {op.path}")
            elif op.kind == "delete":
                read_bytes(ctx, op.path, 0)  # exists, regular, confined
                deletes.append(op.path)
                summary.append(f"D {op.path}")
            else:
                _p, data, size = read_bytes(ctx, op.path, self.max_bytes + 1)
                if size > self.max_bytes:
                    raise ToolError(
                        f"{op.path} is {size} bytes; files over {self.max_bytes} cannot be patched"
                    )
                new = apply_hunks(op.path, decode_text(op.path, data, truncated=False), op.hunks)
                target = op.move_to or op.path
                writes.append((target, new.encode()))
                if op.move_to:
                    if resolve_path(ctx, op.move_to).exists():
                        raise ToolError(f"Move to {op.move_to}: the file already exists")
                    deletes.append(op.path)
                    summary.append(f"R {op.path} -> {op.move_to}")
                else:
                    summary.append(f"M {op.path}")
        for path, data in writes:
            if len(data) > self.max_bytes:
                raise ToolError(f"{path} would be {len(data)} bytes; the limit is {self.max_bytes}")
        written = {display(ctx, write_bytes(ctx, path, data)) for path, data in writes}
        for path in deletes:
            if display(ctx, resolve_path(ctx, path)) not in written:
                delete_file(ctx, path)
        return "applied:\n" + "\n".join(summary)
