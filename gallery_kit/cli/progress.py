"""Progress bars for long commands: one tqdm bar per stage on stderr, and nothing at all when
stderr is not a terminal or the output is ``--json`` (scripts read stdout, logs stay clean)."""

from __future__ import annotations

import sys
from typing import Any


class TerminalProgress:
    """A :data:`gallery_kit.progress.Progress` that draws on a terminal's stderr."""

    def __init__(self, *, enabled: bool = True) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._bar: Any = None
        self._stage: str | None = None

    def __call__(self, stage: str, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if stage != self._stage:
            self.close()
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=stage, file=sys.stderr, unit="", dynamic_ncols=True)
            self._stage = stage
        self._bar.total = total
        self._bar.n = done
        self._bar.refresh()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._bar, self._stage = None, None

    def __enter__(self) -> TerminalProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
