"""Progress bars for the ingest stages (load, split, analyse, embed, write), drawn by tqdm on
stderr. ``enabled=None`` draws them only when both stdout and stderr are terminals, so a
pipe, a log file, ``--json`` or the API's writes never get bar characters in their output."""
from __future__ import annotations

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
    return tqdm(total=total, desc=desc, unit=unit, disable=not show, file=sys.stderr, leave=True,
                dynamic_ncols=True, **kwargs)
