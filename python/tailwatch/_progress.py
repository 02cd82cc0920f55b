"""Progress bars (tqdm, when it is importable) for long calls.

The native module calls ``Progress(kind, done, total, label)`` from the thread that holds the GIL,
whenever a count changed: kind ``"layers"`` (layers finished in the current model) or
``"models"`` (a study's models).
"""

from __future__ import annotations

import logging
import time
from typing import Any, Optional

#: With ``progress=None`` (the default) a bar appears once a call has run this long.
AUTO_AFTER_S = 2.0

logger = logging.getLogger("tailwatch")


class Progress:
    """``progress=True``: bars from the start; ``None``: only for runs longer than
    ``AUTO_AFTER_S``; ``False``: none. Without tqdm there are no bars (``True`` says so once)."""

    def __init__(self, mode: Optional[bool]) -> None:
        if mode not in (True, False, None):
            raise TypeError(f"progress={mode!r}: True, False or None (automatic)")
        self.mode = mode
        self.started = time.monotonic()
        self.bars: dict[str, Any] = {}
        self.tqdm: Any = None
        if mode is not False:
            try:
                from tqdm.auto import tqdm
            except ImportError:
                if mode is True:
                    logger.warning("progress=True needs tqdm (pip install tqdm): no progress bar")
            else:
                self.tqdm = tqdm

    def __call__(self, kind: str, done: int, total: int, label: str) -> None:
        if self.tqdm is None:
            return
        if self.mode is None and time.monotonic() - self.started < AUTO_AFTER_S:
            return
        bar = self.bars.get(kind)
        if bar is None:
            bar = self.tqdm(total=total, desc=kind, unit=kind.rstrip("s"), leave=False)
            self.bars[kind] = bar
        bar.total = total
        bar.n = done
        if label and kind == "models":
            bar.set_postfix_str(label, refresh=False)
        bar.refresh()

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()
