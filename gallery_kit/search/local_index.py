"""This machine's full-text copy of the gallery's summaries: SQLite with FTS5, one file per
gallery under ``GALLERY_DATA_DIR/search``. A cache: deleting the file only costs a rebuild.

Brought up to date by :mod:`gallery_kit.search.sync` (the shared catalog, change markers and
the newest index keys); this module only stores and searches.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from pathlib import Path

from gallery_kit.records import ImageSummary, created_at_of
from gallery_kit.search.query import Query, from_origin, normalize, origin

SCHEMA_VERSION = 4
#: Row numbers sort as ids do (newest first): FTS5 reads its matches in row order, so the first
#: page of a word in a third of a million images is read without visiting the rest.
_SUFFIX_SPAN = 1 << 16
#: A summary as a catalog segment holds it: id, prompt, model id, operation (origin), seed, and
#: who made it ("" when not known).
Row = tuple[str, str, str, str, int | None, str]
_MAX_MS = 9_999_999_999_999
#: What a summary is read back from (see _summary).
_COLUMNS = "id, prompt, model_id, operation, seed, created_by"


def order_of(image_id: str) -> int:
    """The row number of an id: its 13 time digits, then its suffix's first 4 hex digits (two
    ids sharing both take the next free number)."""
    return int(image_id[:13]) * _SUFFIX_SPAN + int(image_id[14:18], 16)


def _newer_than(when_ms: int) -> int:
    """Row numbers below this are of images made at or after ``when_ms``."""
    return (_MAX_MS - when_ms + 1) * _SUFFIX_SPAN


_SCHEMA = """
CREATE TABLE IF NOT EXISTS images (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL,
    model_id TEXT NOT NULL,
    operation TEXT NOT NULL,
    seed INTEGER,
    created_by TEXT NOT NULL DEFAULT '',
    prompt TEXT NOT NULL,
    shortened INTEGER NOT NULL
);
-- The words of each prompt, under the same rowid as its row in images (n).
CREATE VIRTUAL TABLE IF NOT EXISTS prompts USING fts5(
    words, tokenize = 'unicode61 remove_diacritics 2'
);
-- Where this copy stands against the shared catalog (search/sync.py).
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


def _fts_phrase(words: Iterable[str]) -> str:
    # Double quotes make FTS5 read each word literally (no operators, no column names).
    return '"' + " ".join(w.replace('"', '""') for w in words) + '"'


class LocalIndex:
    """The summaries of one gallery, searchable. Safe to share between threads."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        # A kernel waits for another one's write rather than failing (30 s, not 5).
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        if self._db.execute("PRAGMA user_version").fetchone()[0] != SCHEMA_VERSION:
            # A cache of another layout: start afresh (the next refresh fills it again).
            self._db.executescript(
                "DROP TABLE IF EXISTS images; DROP TABLE IF EXISTS prompts;"
                " DROP TABLE IF EXISTS state;"
            )
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- keeping up to date ------------------------------------------------------------

    def add(self, summaries: Iterable[ImageSummary]) -> int:
        """Insert or replace these summaries; how many were new."""
        rows = list(summaries)
        added = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # see load_rows
            for s in rows:
                added += self._forget(s.id) == 0
                n = order_of(s.id)
                while self._db.execute("SELECT 1 FROM images WHERE n = ?", (n,)).fetchone():
                    n += 1
                self._db.execute(
                    "INSERT INTO images (n, id, created_ms, model_id, operation, seed,"
                    " created_by, prompt, shortened) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        n,
                        s.id,
                        int(created_at_of(s.id).timestamp() * 1000),
                        s.model_id,
                        origin(s.operation, s.source),
                        s.seed,
                        s.created_by,
                        s.prompt,
                        int(s.shortened),
                    ),
                )
                self._db.execute(
                    "INSERT INTO prompts (rowid, words) VALUES (?, ?)", (n, normalize(s.prompt))
                )
            self._db.execute("COMMIT")
        return added

    def remove(self, ids: Iterable[str]) -> int:
        """Forget these images; how many were here."""
        removed = 0
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")  # see load_rows
            for image_id in ids:
                removed += self._forget(image_id)
            self._db.execute("COMMIT")
        return removed

    def _forget(self, image_id: str) -> int:
        """Delete one image's rows (by rowid: FTS5 finds nothing fast by another column)."""
        row = self._db.execute("SELECT n FROM images WHERE id = ?", (image_id,)).fetchone()
        if row is None:
            return 0
        self._db.execute("DELETE FROM prompts WHERE rowid = ?", (row[0],))
        self._db.execute("DELETE FROM images WHERE n = ?", (row[0],))
        return 1

    def _known(self, ids: list[str]) -> set[str]:
        known: set[str] = set()
        for start in range(0, len(ids), 500):  # SQLite binds at most 32,766 values at once
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT id FROM images WHERE id IN ({marks})", chunk)  # noqa: S608 - only placeholders
            known.update(r[0] for r in rows)
        return known

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM images").fetchone()[0])

    # --- searching ---------------------------------------------------------------------

    def summaries(self, ids: list[str]) -> list[ImageSummary]:
        """What the index holds of ``ids``, in that order (what a grid tile shows)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM images WHERE id IN ({marks})",  # noqa: S608 - only placeholders
                ids,
            ).fetchall()
        found = {row[0]: _summary(*row) for row in rows}
        return [found[i] for i in ids if i in found]

    def between(self, newest: str | None, before: str | None) -> list[ImageSummary]:
        """Every image from ``newest`` (included) to ``before`` (excluded; None: no bound),
        newest first: what a catalog segment of that range holds."""
        where, args = [], []
        if newest is not None:
            where.append("id >= ?")
            args.append(newest)
        if before is not None:
            where.append("id < ?")
            args.append(before)
        clause = " AND ".join(where) or "1"
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_COLUMNS} FROM images WHERE {clause} ORDER BY id",  # noqa: S608 - clause is ours, values are bound
                args,
            ).fetchall()
        return [_summary(*row) for row in rows]

    def count_between(self, newest: str | None, before: str | None) -> int:
        where, args = ["id >= ?"], [newest or ""]
        if before is not None:
            where.append("id < ?")
            args.append(before)
        with self._lock:
            row = self._db.execute(
                f"SELECT count(*) FROM images WHERE {' AND '.join(where)}",  # noqa: S608 - clause is ours
                args,
            ).fetchone()
        return int(row[0])

    def load(self, rows: Iterable[ImageSummary]) -> int:
        """Bulk insert; ids already here are kept as they are. How many were added."""
        return self.load_rows(
            (s.id, s.prompt, s.model_id, origin(s.operation, s.source), s.seed, s.created_by)
            for s in rows
        )

    def load_rows(self, rows: Iterable[Row]) -> int:
        """:meth:`load` of (id, prompt, model id, operation, seed, created_by) rows, as a segment
        decodes them (a cold start: no object per row)."""
        fresh = {row[0]: row for row in rows}
        if not fresh:
            return 0
        with self._lock:
            # The write lock first: the kernels of one server share this file, and what they
            # check here must not change before they write.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                for image_id in self._known(list(fresh)):
                    del fresh[image_id]
                orders = [order_of(i) for i in fresh]
                # Numbers already taken in this range (none when the segments tile the ids).
                used = {
                    int(r[0])
                    for r in self._db.execute(
                        "SELECT n FROM images WHERE n BETWEEN ? AND ?",
                        (min(orders, default=0), max(orders, default=0) + len(orders)),
                    )
                }
                numbered: list[tuple[int, Row]] = []
                for n, row in zip(orders, fresh.values(), strict=True):
                    while n in used:
                        n += 1
                    used.add(n)
                    numbered.append((n, row))
                self._db.executemany(
                    "INSERT INTO images (n, id, created_ms, model_id, operation, seed, created_by,"
                    " prompt, shortened) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                    (
                        (n, image_id, _MAX_MS - int(image_id[:13]), model, how, seed, by, prompt)
                        for n, (image_id, prompt, model, how, seed, by) in numbered
                    ),
                )
                self._db.executemany(
                    "INSERT INTO prompts (rowid, words) VALUES (?, ?)",
                    ((n, normalize(row[1])) for n, row in numbered),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return len(numbered)

    def known(self, ids: list[str]) -> set[str]:
        with self._lock:
            return self._known(ids)

    def state(self, name: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_state(self, **values: str) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO state (name, value) VALUES (?, ?)", values.items()
            )

    def clear(self) -> None:
        """Forget everything (the next refresh starts from the shared catalog)."""
        with self._lock:
            self._db.executescript("DELETE FROM images; DELETE FROM prompts; DELETE FROM state;")

    def search(
        self,
        query: Query,
        *,
        cursor: str | None = None,
        limit: int = 24,
        only: frozenset[str] | None = None,
    ) -> tuple[list[str], int]:
        """The ids of one page of matches, newest first, after ``cursor``; and the total.
        ``only``: among these ids alone (favourites, a board)."""
        where: list[str] = []
        args: list[object] = []
        positive = [_fts_phrase([t]) for t in query.terms]
        positive += [_fts_phrase(p) for p in query.phrases]
        if query.prefix:
            positive.append(_fts_phrase([query.prefix]) + "*")
        excluded = [_fts_phrase(p) for p in query.excluded]
        if positive:
            # One MATCH, read in row order (= newest first): "a AND b NOT c NOT d".
            source = "prompts JOIN images ON images.n = prompts.rowid"
            order = "prompts.rowid"
            where.append("prompts MATCH ?")
            args.append(" AND ".join(positive) + "".join(f" NOT {e}" for e in excluded))
        else:
            source, order = "images", "images.n"
            for phrase in excluded:
                where.append("n NOT IN (SELECT rowid FROM prompts WHERE prompts MATCH ?)")
                args.append(phrase)
        if query.model:
            where.append("model_id = ?")
            args.append(query.model)
        if query.operation:
            where.append("operation = ?")
            args.append(query.operation)
        if query.seed is not None:
            where.append("seed = ?")
            args.append(query.seed)
        if query.by is not None:
            where.append("created_by = ? COLLATE NOCASE")
            args.append(query.by)
        if only is not None:
            where.append("images.id IN (SELECT id FROM temp.chosen)")
        # Only the FTS table is needed to count a text search without model/operation/seed.
        counted = "prompts" if positive and len(where) == 1 else source
        # Dates are ranges of row numbers (they sort by time).
        if query.since:
            where.append(f"{order} < ?")
            args.append(_newer_than(int(query.since.timestamp() * 1000)))
        if query.until:
            where.append(f"{order} >= ?")
            args.append(_newer_than(int(query.until.timestamp() * 1000)))
        clause = " AND ".join(where) or "1"
        count_clause = clause.replace("prompts.rowid", "rowid") if counted == "prompts" else clause
        with self._lock:
            if only is not None:
                self._db.execute("CREATE TEMP TABLE IF NOT EXISTS chosen (id TEXT PRIMARY KEY)")
                self._db.execute("DELETE FROM temp.chosen")
                self._db.executemany(
                    "INSERT OR IGNORE INTO temp.chosen VALUES (?)", ((i,) for i in only)
                )
            total = int(
                self._db.execute(
                    f"SELECT count(*) FROM {counted} WHERE {count_clause}",  # noqa: S608 - clause is ours, values are bound
                    args,
                ).fetchone()[0]
            )
            page_clause, page_args = clause, list(args)
            if cursor:
                row = self._db.execute("SELECT n FROM images WHERE id = ?", (cursor,)).fetchone()
                page_clause += f" AND {order} > ?"
                page_args.append(row[0] if row else order_of(cursor))
            rows = self._db.execute(
                f"SELECT images.id FROM {source} WHERE {page_clause} ORDER BY {order} LIMIT ?",  # noqa: S608 - clause is ours, values are bound
                [*page_args, limit],
            ).fetchall()
        return [r[0] for r in rows], total


def _summary(
    image_id: str, prompt: str, model_id: str, how: str, seed: int | None, by: str
) -> ImageSummary:
    edit, source = from_origin(how)
    return ImageSummary(image_id, prompt, model_id, edit, source, seed=seed, created_by=by)
