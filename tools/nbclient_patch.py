"""Keep a notebook executor from stalling on a reply that has already arrived.

Seen on the book's 2-core machines: nbclient (behind `make book`, `make bench` and `make seeds`) waits for a
cell's `execute_reply` with one `poll()` on the kernel's shell socket for the whole cell timeout. The reply
arrives, but the socket's wake-up is lost (zmq's file descriptor signals edges, and the event is consumed
while the executor reads the IOPub socket), so the wait lasts until the timeout — 600 s in `make book` — and
only then finds the reply. It struck cells that open widgets (chapters 6, 7, 8) in up to half of the runs.
`apply()` makes every such wait poll in slices of at most a second, so a lost wake-up costs a second. nbval
(`make test`) uses the blocking client and is not affected.

    python tools/nbclient_patch.py build ...   # `jupyter-book build ...` with the patch applied
"""
from __future__ import annotations

import sys
import time
from queue import Empty

POLL_S = 1.0


def apply() -> None:
    """Make ``AsyncZMQSocketChannel.get_msg`` poll in slices of at most ``POLL_S`` seconds (idempotent)."""
    from jupyter_client.channels import AsyncZMQSocketChannel

    if getattr(AsyncZMQSocketChannel.get_msg, "_book_sliced", False):
        return
    original = AsyncZMQSocketChannel.get_msg

    async def get_msg(self, timeout: float | None = None):
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = POLL_S if deadline is None else max(0.0, min(POLL_S, deadline - time.monotonic()))
            try:
                return await original(self, timeout=step)
            except Empty:
                if deadline is not None and time.monotonic() >= deadline:
                    raise

    get_msg._book_sliced = True
    AsyncZMQSocketChannel.get_msg = get_msg


if __name__ == "__main__":
    apply()
    from jupyter_book.cli.main import main

    sys.argv[0] = "jupyter-book"
    sys.exit(main())
