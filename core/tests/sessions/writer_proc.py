"""A separate writer process for the crash tests (run as a script, killed by the test).

``loop DIR SIZE``: append entries of SIZE bytes forever, printing each index once its append
returned (so the test knows which appends were acknowledged).
``hold DIR``: take the index lock and a transcript's write lock, print "locked", then sleep.
"""

from __future__ import annotations

import sys
from pathlib import Path

import trio

from moltbot.sessions import SessionStore
from moltbot.sessions import entries as E
from moltbot.sessions.index import INDEX_FILE
from moltbot.sessions.locking import locked_append_fd, pid_lock

KEY = "agent:main:telegram:dm:42"


async def loop(directory: Path, size: int) -> None:
    store = SessionStore(directory)
    await store.open()
    session = await store.session(KEY)
    await store.flush()
    index = 0
    while True:
        try:
            await session.append(E.message("user", f"{index}:" + "x" * size))
        except OSError as exc:  # a short write (disk full): report it, wait to be killed
            print(f"failed {exc.errno}", flush=True)
            await trio.sleep_forever()
        print(index, flush=True)
        index += 1


async def hold(directory: Path) -> None:
    store = SessionStore(directory)
    await store.open()
    session = await store.session(KEY)
    with pid_lock(directory / (INDEX_FILE + ".lock")), locked_append_fd(session.path):
        print("locked", flush=True)
        await trio.sleep_forever()


if __name__ == "__main__":
    mode, target = sys.argv[1], Path(sys.argv[2])
    if mode == "loop":
        trio.run(loop, target, int(sys.argv[3]))
    else:
        trio.run(hold, target)
