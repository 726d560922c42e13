"""How long work says how far it is: a plain callable, which the command line turns into a
progress bar on a terminal (``gallery_kit.cli.progress``) and everything else ignores."""

from __future__ import annotations

from collections.abc import Callable

#: (what is being done, how many so far, how many in all, or None while that is unknown)
Progress = Callable[[str, int, int | None], None]


def quiet(_stage: str, _done: int, _total: int | None) -> None:
    """The default: report nothing."""
