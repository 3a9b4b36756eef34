"""Long replies split at the limit without breaking words or code fences."""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from moltbot.channels.chunking import split_text


def fences_balanced(chunk: str) -> bool:
    return len(re.findall(r"^```", chunk, flags=re.MULTILINE)) % 2 == 0


def test_short_text_is_one_chunk() -> None:
    assert split_text("hello world", 4096) == ["hello world"]


def test_splits_on_words_within_the_limit() -> None:
    text = " ".join(f"word{i}" for i in range(2000))
    chunks = split_text(text, 4096)
    assert len(chunks) > 1
    assert all(len(c) <= 4096 for c in chunks)
    assert " ".join(chunks).split() == text.split()


def test_code_fence_is_closed_and_reopened() -> None:
    code = "\n".join(f"print({i})  # line {i}" for i in range(600))
    text = f"Here is the script:\n\n```python\n{code}\n```\n\nThat is all."
    chunks = split_text(text, 4096)
    assert len(chunks) >= 3
    assert all(len(c) <= 4096 for c in chunks)
    assert all(fences_balanced(c) for c in chunks)
    assert chunks[1].startswith("```python\n")
    body = [line for c in chunks for line in c.splitlines() if line.startswith("print(")]
    assert body == code.splitlines()


def test_a_word_longer_than_the_limit_is_cut_hard() -> None:
    chunks = split_text("x" * 100, 40)
    assert "".join(chunks) == "x" * 100
    assert all(len(c) <= 40 for c in chunks)


def test_tiny_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        split_text("hello", 8)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.text(alphabet="ab \n", min_size=1, max_size=80), st.just("```py"), st.just("```")),
        max_size=40,
    ),
    st.integers(min_value=30, max_value=200),
)
def test_chunks_respect_the_limit_and_keep_all_words(parts: list[str], limit: int) -> None:
    text = "\n".join(parts)
    chunks = split_text(text, limit)
    assert all(len(c) <= limit for c in chunks)
    words = [w for w in text.split() if not w.startswith("```")]
    assert [w for c in chunks for w in c.split() if not w.startswith("```")] == words
