"""Progress bars for the ingest stages (load, split, analyse, embed, write), drawn by tqdm on
stderr. ``enabled=None`` draws them only when both stdout and stderr are terminals, so a
pipe, a log file, ``--json`` or the API's writes never get bar characters in their output."""
from __future__ import annotations

import os
import sys
from typing import Any

from tqdm import tqdm


def on_terminal() -> bool:
    """Whether stdout and stderr are both terminals (a closed or replaced stream counts as not)."""
    try:
        return sys.stdout.isatty() and sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


def bar(enabled: bool | None, total: int, desc: str, unit: str = "file", **kwargs: Any) -> tqdm:
    """A tqdm bar on stderr, or a disabled one (same interface, draws nothing)."""
    show = on_terminal() if enabled is None else enabled
    width = _width() if show else 0
    # a terminal that reports no size (0 columns: some ptys, serial consoles) gets 80 columns
    return tqdm(total=total, desc=desc, unit=unit, disable=not show, file=sys.stderr, leave=True,
                dynamic_ncols=width > 0, ncols=None if width > 0 else 80, **kwargs)


def _width() -> int:
    try:
        return os.get_terminal_size(sys.stderr.fileno()).columns
    except (AttributeError, ValueError, OSError):
        return 0
