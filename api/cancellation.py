"""A client that goes away cancels its generation, streamed or not.

The answer pipeline is synchronous (retrieval and llama.cpp run in threads), so each route
hands it a :class:`~rag.generators.base.Cancellation` and cancels it when the client leaves:

* plain routes: :func:`run_cancellable` runs the work in a thread and, meanwhile, waits for
  the ASGI ``http.disconnect`` message;
* streams: :class:`CancellingStream`, which watches for the disconnect too and whose
  ``__call__`` cancels in a ``finally``. That frame
  is a coroutine, not a generator, so it always runs when the response ends (finished, send
  failed, or cancelled by Starlette on disconnect), unlike a ``finally`` in a suspended
  generator. Its body comes from :func:`produce_in_thread`, a thread that drains the sync
  stream into an unbounded queue, so the work never waits on a slow or vanished reader and
  reading it can be interrupted at any await.
"""
from __future__ import annotations

import asyncio
import logging
import threading
from typing import Any, AsyncIterator, Callable, Iterator, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

from rag.generators.base import CLIENT_GONE, Cancellation

log = logging.getLogger(__name__)
T = TypeVar("T")
_END = object()


async def _until_disconnect(receive: Receive, cancel: Cancellation) -> None:
    """The body has been read, so the next ASGI message is the disconnect."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            cancel.cancel(CLIENT_GONE)
            return


async def run_cancellable(request: Request, cancel: Cancellation, func: Callable[..., T], /, *args: Any,
                          **kwargs: Any) -> T:
    """``func(*args, **kwargs)`` in the threadpool; cancels ``cancel`` if the client goes away
    (or the request task is cancelled) before it returns."""
    watcher = asyncio.ensure_future(_until_disconnect(request.receive, cancel))
    try:
        return await run_in_threadpool(func, *args, **kwargs)
    except asyncio.CancelledError:
        cancel.cancel("the request was cancelled")
        raise
    finally:
        watcher.cancel()


async def produce_in_thread(make: Callable[[], Iterator[T]], cancel: Cancellation,
                            on_error: Callable[[Exception], T]) -> AsyncIterator[T]:
    """Items of ``make()``, iterated to its end by a thread of its own. An unexpected error
    becomes ``on_error(exc)`` as the last item (a stream's error event), logged once."""
    loop = asyncio.get_running_loop()
    items: asyncio.Queue[Any] = asyncio.Queue()

    def put(item: Any) -> None:
        try:
            loop.call_soon_threadsafe(items.put_nowait, item)
        except RuntimeError:  # the loop is closed (shutdown): nobody is reading
            cancel.cancel("the server is shutting down")

    def work() -> None:
        try:
            for item in make():
                put(item)
        except Exception as exc:
            if not cancel.cancelled:
                log.exception("stream failed")
            put(on_error(exc))
        finally:
            put(_END)

    threading.Thread(target=work, name="answer-stream", daemon=True).start()
    try:
        while (item := await items.get()) is not _END:
            yield item
    finally:
        cancel.cancel(CLIENT_GONE)  # no-op once the work has ended


class CancellingStream(StreamingResponse):
    """A StreamingResponse that cancels its generation however the response ends."""

    def __init__(self, content: AsyncIterator[Any], cancel: Cancellation, status_code: int = 200,
                 **kwargs: Any) -> None:
        super().__init__(content, status_code, **kwargs)
        self.cancel = cancel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Sends to a vanished client may be dropped silently rather than fail, so the
        # disconnect is watched for, not only inferred from a failed send.
        watcher = asyncio.ensure_future(_until_disconnect(receive, self.cancel))
        try:
            await super().__call__(scope, receive, send)
        finally:
            watcher.cancel()
            self.cancel.cancel(CLIENT_GONE)  # no-op when the stream has ended


class CancellingEventStream(CancellingStream):
    """Server-Sent Events (``text/event-stream``) that cancel their generation the same way."""

    media_type = "text/event-stream"
