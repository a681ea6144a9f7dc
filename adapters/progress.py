"""The one progress bar of the command line (demo, import, rebuild, catch-up): rich's,
on stderr, drawn only where stderr is a terminal unless asked for."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (BarColumn, MofNCompleteColumn, Progress as RichProgress,
                           TextColumn, TimeRemainingColumn)


class Progress:
    """``done`` of ``total`` ``unit`` (organizations, rows, events) with the rate of
    ``rate_unit`` (what the rate counts: events by default) and the time remaining.
    ``update(done, counted=...)`` sets the figures; ``finish()`` draws the last line and
    answers the seconds it took."""

    REDRAW_SECONDS = 0.1  # drawn at most this often, and always by finish()

    def __init__(self, total: int, label: str, *, unit: str = "events",
                 rate_unit: str | None = None, enabled: bool | None = None,
                 stream: TextIO | None = None):
        stream = stream or sys.stderr
        self.enabled = stream.isatty() if enabled is None else enabled
        self.started = time.monotonic()
        self.total, self.unit, self.rate_unit = max(total, 1), unit, rate_unit or unit
        self.done, self.counted = 0, 0
        self._drawn = 0.0
        self._bar: RichProgress | None = None
        if self.enabled:
            self._bar = RichProgress(
                TextColumn(f"{label}"), BarColumn(), MofNCompleteColumn(),
                TextColumn(unit), TextColumn("{task.fields[rate]}"), TimeRemainingColumn(),
                console=Console(file=stream, force_terminal=enabled or None),
                auto_refresh=False)
            self._bar.start()
            self._task = self._bar.add_task(label, total=self.total, rate="")

    def update(self, done: int, counted: int | None = None, force: bool = False) -> None:
        self.done = done
        self.counted = done if counted is None else counted
        now = time.monotonic()
        if self._bar is None or (not force and now - self._drawn < self.REDRAW_SECONDS):
            return
        self._drawn = now
        elapsed = max(now - self.started, 1e-6)
        self._bar.update(self._task, completed=done,
                         rate=f"{self.counted / elapsed:,.0f} {self.rate_unit}/s")
        self._bar.refresh()

    def finish(self) -> float:
        if self._bar is not None:
            self.update(self.done, self.counted, force=True)
            self._bar.stop()
            self._bar = None
        return time.monotonic() - self.started

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.finish()
