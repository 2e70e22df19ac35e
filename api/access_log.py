"""The access log writes paths only, never query strings.

Questions travel in ``GET /search?q=...`` (students' questions are their own business) and
people paste tokens into URLs; neither belongs in a log file. uvicorn's access logger formats
``(client, method, path with query, http version, status)``; this filter cuts the query off
the third argument before any handler formats it.
"""
from __future__ import annotations

import logging

ACCESS_LOGGER = "uvicorn.access"


class PathOnly(logging.Filter):
    """Drops the ``?query`` (and any ``#fragment``) of the path in uvicorn access records."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            path = args[2].split("?", 1)[0].split("#", 1)[0]
            record.args = (args[0], args[1], path, args[3], args[4])
        return True


def install() -> None:
    """Add the filter to uvicorn's access logger (once per process; uvicorn has configured its
    logging before it builds the app, so the filter stays)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, PathOnly) for f in logger.filters):
        logger.addFilter(PathOnly())
