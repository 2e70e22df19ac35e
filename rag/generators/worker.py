"""Streaming a generation produced in a worker thread of its own (see `rag.generators.base`:
a generator holding a shared resource, a model lock or a server connection, never holds it in
a suspended generator frame)."""
from __future__ import annotations

import queue
import threading
from typing import Any, Callable, Iterator

from rag.generators.base import Cancellation, Generation

POLL_S = 0.05  # how often a reader waiting for the next piece checks whether it is still wanted


def stream_from_worker(produce: Callable[[Callable[[str], None]], Generation], cancel: Cancellation,
                       name: str) -> Iterator[str | Generation]:
    """Run ``produce(on_piece)`` in a daemon thread that always runs to its end (done, cancelled
    or at the deadline) and yield its pieces, then its Generation; what it raises is raised
    here. The reader stops at once when ``cancel`` is stopped (GenerationCancelled /
    GenerationTimeout) even while ``produce`` waits; a reader that closes or drops this
    iterator early cancels ``cancel``, so the worker frees what it holds."""
    out: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()

    def run() -> None:
        try:
            out.put(("done", produce(lambda piece: out.put(("piece", piece)))))
        except BaseException as exc:  # handed to the reader, raised there
            out.put(("error", exc))

    threading.Thread(target=run, name=name, daemon=True).start()
    finished = False
    try:
        while True:
            try:
                kind, value = out.get(timeout=POLL_S)
            except queue.Empty:
                if cancel.stopped():
                    finished = True
                    cancel.raise_if_stopped()
                continue
            if kind == "piece":
                yield value
            elif kind == "done":
                finished = True
                yield value
                return
            else:
                finished = True
                raise value
    finally:
        if not finished:
            cancel.cancel("the reader stopped reading the stream")
