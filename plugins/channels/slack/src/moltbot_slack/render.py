"""Reply text (light Markdown) to Slack ``mrkdwn``.

``&``, ``<`` and ``>`` are Slack's control characters and are escaped everywhere, so nothing an
agent writes can become a ``<!channel>``, ``<!here>`` or ``<@U123>`` ping or a disguised link.
Then the Markdown Slack would show literally is translated: ``**bold**`` to ``*bold*``,
``[label](https://url)`` to ``<https://url|label>``, ``# Heading`` lines to bold lines, and the
language tag of a code fence is dropped (mrkdwn would print it). Code is left as it is.
"""

from __future__ import annotations

import re

_FENCE_RE = re.compile(r"^```[\w+-]*[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
_INLINE_RE = re.compile(
    r"`([^`\n]+)`|\*\*([^*\n]+)\*\*|\[([^\[\]|\n]+)\]\((https?://[^\s()<>|]+)\)|^#{1,6}[ \t]+(.+)$",
    re.MULTILINE,
)


def escape(text: str) -> str:
    """``text`` with Slack's three control characters as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _inline(text: str) -> str:
    out, pos = [], 0
    for match in _INLINE_RE.finditer(text):
        out.append(escape(text[pos : match.start()]))
        code, bold, label, url, heading = match.groups()
        if code is not None:
            out.append(f"`{escape(code)}`")
        elif bold is not None:
            out.append(f"*{escape(bold)}*")
        elif label is not None:
            out.append(f"<{escape(url)}|{escape(label)}>")
        else:
            out.append(f"*{escape(heading.strip().strip('*'))}*")
        pos = match.end()
    out.append(escape(text[pos:]))
    return "".join(out)


def to_mrkdwn(text: str) -> str:
    """``text`` as Slack mrkdwn (see the module docstring)."""
    out, pos = [], 0
    for match in _FENCE_RE.finditer(text):
        out.append(_inline(text[pos : match.start()]))
        out.append(f"```\n{escape(match[1].rstrip(chr(10)))}\n```")
        pos = match.end()
    out.append(_inline(text[pos:]))
    return "".join(out)
