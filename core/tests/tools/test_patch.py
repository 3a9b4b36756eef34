"""apply_patch: the OpenAI-style envelope, applied all-or-nothing."""

from moltbot.tools import invoke_tool
from moltbot.tools.patch import ApplyPatchTool


async def apply(ctx, patch):
    return await invoke_tool(ApplyPatchTool(), ctx, {"patch": patch})


async def test_add_update_move_and_delete_in_one_patch(sandboxed):
    ws = sandboxed.workspace
    (ws / "app.py").write_text("import os\n\ndef main():\n    print('hi')\n    return 0\n")
    (ws / "old.txt").write_text("bye\n")
    (ws / "mv.txt").write_text("a\nb\n")
    patch = """*** Begin Patch
*** Add File: docs/new.md
+# Title
+body
*** Update File: app.py
@@ def main():
-    print('hi')
+    print('hello')
     return 0
*** Update File: mv.txt
*** Move to: moved.txt
 a
-b
+c
*** Delete File: old.txt
*** End Patch"""
    result = await apply(sandboxed, patch)
    assert not result.is_error, result.text
    assert (ws / "docs/new.md").read_text() == "# Title\nbody\n"
    assert (ws / "app.py").read_text() == "import os\n\ndef main():\n    print('hello')\n    return 0\n"
    assert (ws / "moved.txt").read_text() == "a\nc\n" and not (ws / "mv.txt").exists()
    assert not (ws / "old.txt").exists()
    assert result.text.splitlines()[1:] == ["A docs/new.md", "M app.py", "R mv.txt -> moved.txt", "D old.txt"]


async def test_nothing_is_written_when_one_hunk_fails(sandboxed):
    ws = sandboxed.workspace
    (ws / "a.txt").write_text("one\n")
    (ws / "b.txt").write_text("two\n")
    patch = """*** Begin Patch
*** Update File: a.txt
-one
+ONE
*** Update File: b.txt
-three
+THREE
*** End Patch"""
    result = await apply(sandboxed, patch)
    assert result.is_error and "b.txt: hunk 1: these lines were not found" in result.text
    assert (ws / "a.txt").read_text() == "one\n"


async def test_malformed_patches_name_the_problem(sandboxed):
    (sandboxed.workspace / "a.txt").write_text("x\n")
    cases = {
        "*** Update File: a.txt\n-x\n*** End Patch": "must start with",
        "*** Begin Patch\n*** Update File: a.txt\n-x\n": "must end with",
        "*** Begin Patch\nhello\n*** End Patch": "line 2: expected",
        "*** Begin Patch\n*** Add File: n.txt\nno plus\n*** End Patch": "starts with '+'",
        "*** Begin Patch\n*** Add File: a.txt\n+x\n*** End Patch": "already exists",
        "*** Begin Patch\n*** Update File: a.txt\n?x\n*** End Patch": "hunk lines start with",
        "*** Begin Patch\n*** End Patch": "no file operations",
    }
    for patch, expected in cases.items():
        result = await apply(sandboxed, patch)
        assert result.is_error and expected in result.text, (patch, result.text)


async def test_trailing_whitespace_differences_still_match(sandboxed):
    (sandboxed.workspace / "a.txt").write_text("keep   \nold\n")
    result = await apply(
        sandboxed, "*** Begin Patch\n*** Update File: a.txt\n keep\n-old\n+new\n*** End Patch"
    )
    assert not result.is_error, result.text
    assert (sandboxed.workspace / "a.txt").read_text() == "keep\nnew\n"


async def test_moving_onto_an_existing_file_is_refused(sandboxed):
    (sandboxed.workspace / "a.txt").write_text("a\n")
    (sandboxed.workspace / "b.txt").write_text("b\n")
    patch = "*** Begin Patch\n*** Update File: a.txt\n*** Move to: b.txt\n*** End Patch"
    result = await apply(sandboxed, patch)
    assert result.is_error and "already exists" in result.text
    assert (sandboxed.workspace / "b.txt").read_text() == "b\n" and (sandboxed.workspace / "a.txt").exists()
