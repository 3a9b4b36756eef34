"""Capped command output: the first and the last bytes are kept, the middle is dropped visibly."""

from __future__ import annotations


class OutputBuffer:
    """Keeps the first ``limit // 2`` bytes and the last ``limit // 2``; counts everything."""

    def __init__(self, limit: int) -> None:
        self.head_limit = limit // 2
        self.tail_limit = limit - self.head_limit
        self.head = bytearray()
        self.tail = bytearray()
        self.total = 0

    def write(self, data: bytes) -> None:
        self.total += len(data)
        room = self.head_limit - len(self.head)
        if room > 0:
            self.head += data[:room]
            data = data[room:]
        self.tail += data
        if len(self.tail) > self.tail_limit:
            del self.tail[: len(self.tail) - self.tail_limit]

    @property
    def tail_start(self) -> int:
        return self.total - len(self.tail)

    def read_since(self, offset: int) -> tuple[str, int, int]:
        """``(text written after offset, new offset, bytes dropped in between)``."""
        chunks: list[bytes] = []
        if offset < len(self.head):
            chunks.append(bytes(self.head[offset:]))
            offset = len(self.head)
        dropped = max(0, self.tail_start - offset)
        chunks.append(bytes(self.tail[max(0, offset - self.tail_start) :]))
        text = b"".join(chunks)
        if dropped:
            return (
                _decode(chunks[0]) + f"\n[... {dropped} bytes of output omitted ...]\n" + _decode(chunks[-1])
                if len(chunks) == 2
                else f"[... {dropped} bytes of output omitted ...]\n" + _decode(text),
                self.total,
                dropped,
            )
        return _decode(text), self.total, 0

    def text(self) -> str:
        return self.read_since(0)[0]


def _decode(data: bytes) -> str:
    return data.decode("utf-8", errors="replace")
