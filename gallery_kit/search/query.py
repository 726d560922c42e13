"""The search language, pure: words, ``"a phrase"``, ``-word``, and filters.

Every word must occur in the prompt (case- and accent-insensitive, as whole words); the last
word also matches as a prefix while it is being typed; ``"a phrase"`` matches those words in
that order; ``-word`` (or ``-"a phrase"``) excludes. Filters: model id, operation
(``generated``, ``adopted`` or an edit such as ``vary``), created since / until (UTC dates or
datetimes), seed, made by (a user name, case ignored).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

from gallery_kit.edits import OPERATIONS
from gallery_kit.errors import InvalidRequest

#: What ``--operation`` accepts: how an image came to be.
OPERATION_NAMES = ("generated", "adopted", *OPERATIONS)
_TOKEN = re.compile(r'(-?)"([^"]*)"?|(\S+)')
_WORD = re.compile(r"\w+", re.UNICODE)


def origin(operation: str | None, source: str) -> str:
    """How an image came to be, as ``--operation`` names it: its edit, else generated/adopted."""
    if operation:
        return operation
    return "adopted" if source == "adopted" else "generated"


def from_origin(how: str) -> tuple[str | None, str]:
    """The inverse of :func:`origin`: (the edit's name or None, the source)."""
    if how in ("generated", "adopted"):
        return None, how
    return how, "generated"


def normalize(text: str) -> str:
    """Lower case, accents removed (``Café`` → ``cafe``), compatibility forms folded."""
    if text.isascii():
        return text.lower()  # most prompts: 40 times faster, the same answer
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def words_of(text: str) -> list[str]:
    """The searchable words of ``text``, normalized."""
    return _WORD.findall(normalize(text))


@dataclass(frozen=True, slots=True)
class Query:
    """A parsed search. ``terms`` and ``phrases`` must all occur; ``excluded`` must not."""

    terms: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()
    excluded: tuple[tuple[str, ...], ...] = ()
    #: The last bare word, matched as a prefix too (results follow typing).
    prefix: str | None = None
    model: str | None = None
    operation: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    seed: int | None = None
    #: Made by this user (``created_by``, case ignored).
    by: str | None = None
    text: str = field(default="", compare=False)

    @property
    def empty(self) -> bool:
        """No words and no filters: the live feed, not a search."""
        return not (
            self.terms
            or self.phrases
            or self.excluded
            or self.prefix
            or self.model
            or self.operation
            or self.since
            or self.until
            or self.seed is not None
            or self.by is not None
        )

    def matches(
        self,
        *,
        prompt: str,
        model_id: str,
        operation: str,
        created_at: datetime,
        seed: int | None,
        created_by: str = "",
    ) -> bool:
        """Whether an image with these facts is a result (the reference the catalog follows)."""
        if self.model and model_id != self.model:
            return False
        if self.operation and operation != self.operation:
            return False
        if self.since and created_at < self.since:
            return False
        if self.until and created_at >= self.until:
            return False
        if self.seed is not None and seed != self.seed:
            return False
        if self.by is not None and created_by.casefold() != self.by.casefold():
            return False
        words = words_of(prompt)
        present = set(words)
        if any(term not in present for term in self.terms):
            return False
        if self.prefix and not any(w.startswith(self.prefix) for w in words):
            return False
        if any(not _contains(words, phrase) for phrase in self.phrases):
            return False
        return not any(_contains(words, phrase) for phrase in self.excluded)


def _contains(words: list[str], phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1))


def parse_when(text: str, flag: str, *, end: bool = False) -> datetime:
    """A UTC date (``2026-11-30``) or datetime (``2026-11-30T14:00``, ``…Z``, ``…+01:00``).

    A date given as an end (``--until``) means the whole of that day.
    """
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
            day = date.fromisoformat(value)
            start = datetime.combine(day, time(), tzinfo=UTC)
            return start + timedelta(days=1) if end else start
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InvalidRequest(
            f"{flag} {text!r} is not a date or time; use e.g. 2026-11-30 or 2026-11-30T14:00 "
            "(UTC unless it says otherwise)."
        ) from exc
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse(
    text: str = "",
    *,
    model: str | None = None,
    operation: str | None = None,
    since: str | datetime | None = None,
    until: str | datetime | None = None,
    seed: int | None = None,
    by: str | None = None,
) -> Query:
    """``text`` and the filters as a :class:`Query`; a malformed one is an InvalidRequest."""
    terms: list[str] = []
    phrases: list[tuple[str, ...]] = []
    excluded: list[tuple[str, ...]] = []
    bare: list[str] = []
    for negated, quoted, word in _TOKEN.findall(text):
        if word:
            negated, body = (
                ("-", word[1:]) if word.startswith("-") and len(word) > 1 else ("", word)
            )
            parts = tuple(words_of(body))
            if not parts:
                continue
            if negated:
                excluded.append(parts)
            elif len(parts) == 1:
                bare.append(parts[0])
            else:
                phrases.append(parts)  # "rain-soaked" is the phrase "rain soaked"
        else:
            parts = tuple(words_of(quoted))
            if parts:
                (excluded if negated else phrases).append(parts)
    prefix = None
    if bare and not text.endswith(('"', " ", "\t", "\n")):
        prefix = bare.pop()  # still being typed: "light" finds "lighthouse"
    terms = bare
    if operation is not None and operation not in OPERATION_NAMES:
        raise InvalidRequest(
            f"Unknown operation {operation!r}; use one of: {', '.join(OPERATION_NAMES)} "
            "(--operation)."
        )
    if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or seed < 0):
        raise InvalidRequest(f"--seed {seed!r} is not a whole number >= 0.")
    start = parse_when(since, "--since") if isinstance(since, str) else since
    stop = parse_when(until, "--until", end=True) if isinstance(until, str) else until
    if start and stop and stop <= start:
        raise InvalidRequest("--until is not after --since; swap them or widen the range.")
    return Query(
        terms=tuple(terms),
        phrases=tuple(phrases),
        excluded=tuple(excluded),
        prefix=prefix,
        model=(model or "").strip() or None,
        operation=operation,
        since=start,
        until=stop,
        seed=seed,
        by=(by or "").strip() or None,
        text=text,
    )
