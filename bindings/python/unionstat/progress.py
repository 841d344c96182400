"""A tiny progress bar for long command-line runs, written to stderr."""

from __future__ import annotations

import sys
import time
from types import TracebackType
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Steps of a run shown as one self-overwriting line::

        [##########··············] 2/5 validating 1,000,000 reports  3.1s

    Disabled (every call a no-op) unless ``enabled``; the command line enables it when
    stderr is a terminal or ``--progress`` is given, so that pipes and logs stay clean.
    """

    def __init__(self, steps: int, *, enabled: bool, stream: TextIO | None = None, width: int = 24) -> None:
        self.steps = max(1, steps)
        self.enabled = enabled
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.done = 0
        self.label = ""
        self._start = time.perf_counter()
        self._shown = 0

    def step(self, label: str) -> None:
        """Starts the next step (the bar shows the steps finished before it)."""
        if self.label:
            self.done = min(self.steps, self.done + 1)
        self.label = label
        self._render()

    def note(self, label: str) -> None:
        """Updates the current step's label (rows read so far …) without advancing."""
        self.label = label
        self._render()

    def close(self) -> None:
        """Fills the bar and ends the line."""
        if not self.enabled or not self.label:
            return
        self.done = self.steps
        self.label = "done"
        self._render()
        self.stream.write("\n")
        self.stream.flush()
        self.label = ""

    def _render(self) -> None:
        if not self.enabled:
            return
        filled = self.width * self.done // self.steps
        bar = "#" * filled + "·" * (self.width - filled)
        text = f"[{bar}] {self.done}/{self.steps} {self.label}  {time.perf_counter() - self._start:.1f}s"
        pad = " " * max(0, self._shown - len(text))
        self._shown = len(text)
        self.stream.write("\r" + text + pad)
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        elif self.enabled and self.label:
            self.stream.write("\n")
            self.stream.flush()
