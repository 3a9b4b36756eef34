"""Reply text to Telegram HTML (``parse_mode: "HTML"``): everything escaped, fenced code as
``<pre><code>``, inline code as ``<code>``, ``**bold**`` as ``<b>``. Only ``<``, ``>`` and ``&``
need escaping in this mode, so an agent's text can never inject markup."""

from __future__ import annotations

import html
import re

_FENCE_RE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
_INLINE_RE = re.compile(r"`([^`\n]+)`|\*\*([^*\n]+)\*\*")


def _inline(text: str) -> str:
    out, pos = [], 0
    for match in _INLINE_RE.finditer(text):
        out.append(html.escape(text[pos : match.start()], quote=False))
        if match[1] is not None:
            out.append(f"<code>{html.escape(match[1], quote=False)}</code>")
        else:
            out.append(f"<b>{html.escape(match[2], quote=False)}</b>")
        pos = match.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out)


def to_html(text: str) -> str:
    """``text`` (light Markdown) as Telegram HTML."""
    out, pos = [], 0
    for match in _FENCE_RE.finditer(text):
        out.append(_inline(text[pos : match.start()]))
        lang = f' class="language-{match[1]}"' if match[1] else ""
        out.append(f"<pre><code{lang}>{html.escape(match[2].rstrip(chr(10)), quote=False)}</code></pre>")
        pos = match.end()
    out.append(_inline(text[pos:]))
    return "".join(out)
