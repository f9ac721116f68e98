"""`MentionStore` embedded in one SQLite file (the default): WAL, FTS5, covering indexes and exact rollups.

- Several processes may read and write at once (the API, the scheduler, crawl workers): WAL lets readers go on
  while one writer commits, `busy_timeout` makes a second writer wait instead of failing, and every batch is
  one short transaction.
- `rollup` counts mentions per (brand, 15-minute UTC slot, experience, source, language), with their reach;
  `rollup_day` per (brand, UTC day, experience): the whole days inside a bucket, the edges from `rollup`.
  Both are kept exact in the same transaction as the write: `write` adds the mentions a batch inserts with
  one grouped statement per rollup; triggers on `mentions` subtract a deleted one and move an updated one (a
  re-crawl, a rescore, a reclassification) from its old key to its new one. Fifteen minutes, not an hour,
  because calendar buckets of zones with half-hour or 45-minute offsets (Asia/Kolkata, Asia/Kathmandu) start
  at quarter hours in UTC; every zone in use today starts its hours on one.
- Full text: table `mention_text` (FTS5) holds the unstemmed text, a stemmed copy (indexer/fulltext.py) and
  the brand as one token, so that FTS5 itself intersects a text query with the brand filter (files made
  before the brand column filter by brand in SQL only).
- Near-duplicates: `mention_bands`, a contentless FTS5 index, finds the mentions holding a MinHash band
  (crawler/dedup.py): an inverted index takes a mention's 18 band tokens far faster than 18 B-tree rows would.

Times are stored as integer milliseconds since the epoch (UTC).
"""

from __future__ import annotations

import functools
import html
import itertools
import json
import re
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from core.mention import Mention
from core.query_language import Phrase, fold, has_prefix
from core.store import DuplicateCandidate
from indexer.analytics import EXPERIENCES, MISSING_KEY, Breakdown, BreakdownField, Counts, intensity
from indexer.buckets import Bucket
from indexer.errors import IndexerError
from indexer.fulltext import fts_query, stem_words, stemmed_text, stemming_languages
from indexer.queries import (
    HIGHLIGHT_FIELDS,
    SEARCH_COUNT_LIMIT,
    MentionFilters,
    MentionPage,
    SortName,
    decode_cursor,
    encode_cursor,
    parse_text_query,
)
from indexer.retention import RetentionReport
from indexer.store import Selection
from indexer.writer import BulkReport

SLOT_MS = 15 * 60 * 1000
SCHEMA_VERSION = 3
BUSY_TIMEOUT_MS = 30_000
BANDS_AUTOMERGE = 8
TEXT_AUTOMERGE = 2
PROBE_CHUNK = 64  # rows of a page walk checked against a text query at once, at most
PROBE_LIMIT = 256  # rows checked before a page walk gives way to the list of all matches
MAX_BRAND_WALKS = 200  # brands walked one at a time and merged; more are sorted at once (SQLite: 500 arms at most)

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mentions (
    rowid INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    brand TEXT NOT NULL,
    source TEXT NOT NULL,
    lang TEXT,
    experience TEXT,
    published_ms INTEGER,
    filed_ms INTEGER NOT NULL,          -- published, else crawled: retention and the first of near-duplicates
    negative REAL,
    positive REAL,
    followers INTEGER,
    engagement INTEGER NOT NULL,        -- likes + replies + shares
    model_id TEXT,
    model_version TEXT,
    near_duplicate_of TEXT,
    bands TEXT,                         -- the MinHash bands as FTS5 tokens (rebuilds dedup_bands)
    doc TEXT NOT NULL                   -- the public document as JSON
);
CREATE INDEX IF NOT EXISTS mentions_brand_time
    ON mentions (brand, published_ms, experience, source, lang, followers);
CREATE TABLE IF NOT EXISTS rollup (
    brand TEXT NOT NULL,
    slot INTEGER NOT NULL,              -- start of the 15-minute UTC slot, ms
    experience TEXT NOT NULL,           -- '' for an unscored mention
    source TEXT NOT NULL,
    lang TEXT NOT NULL,                 -- '' when unknown
    n INTEGER NOT NULL,
    reach INTEGER NOT NULL,
    reach_unknown INTEGER NOT NULL,
    PRIMARY KEY (brand, slot, experience, source, lang)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rollup_day (
    brand TEXT NOT NULL,
    slot INTEGER NOT NULL,              -- start of the UTC day, ms
    experience TEXT NOT NULL,
    n INTEGER NOT NULL,
    reach INTEGER NOT NULL,
    reach_unknown INTEGER NOT NULL,
    PRIMARY KEY (brand, slot, experience)
) WITHOUT ROWID;
CREATE VIRTUAL TABLE IF NOT EXISTS mention_bands USING fts5 (bands, content = '', detail = 'none');
CREATE TABLE IF NOT EXISTS languages (lang TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS brands (brand TEXT PRIMARY KEY) WITHOUT ROWID;  -- every brand written (pages walk each)
CREATE VIRTUAL TABLE IF NOT EXISTS mention_text USING fts5 (plain, stemmed, brand,
                                                            tokenize = 'unicode61 remove_diacritics 2');

CREATE TRIGGER IF NOT EXISTS mentions_text_delete AFTER DELETE ON mentions
BEGIN
    DELETE FROM mention_text WHERE rowid = old.rowid;
END;
"""

DAY_MS = 86_400_000
# (table, slot length, key columns beyond brand, slot and class): the fine rollup for any bucket edge and the
# breakdown dimensions; the daily one for the whole UTC days inside a bucket.
_ROLLUPS = (("rollup", SLOT_MS, ("source", "lang")), ("rollup_day", DAY_MS, ()))
_KEY_VALUES = {"source": "{row}.source", "lang": "coalesce({row}.lang, '')"}


def _rollup_statements(row: str, change: int) -> str:
    """SQL adding (change=1) or taking away (-1) the mention `row` (new or old) in every rollup."""
    statements = []
    for table, slot_ms, extra in _ROLLUPS:
        slot = f"{row}.published_ms - (({row}.published_ms % {slot_ms}) + {slot_ms}) % {slot_ms}"
        keys = {"brand": f"{row}.brand", "slot": slot, "experience": f"coalesce({row}.experience, '')"}
        keys.update({name: _KEY_VALUES[name].format(row=row) for name in extra})
        reach, unknown = f"coalesce({row}.followers, 0)", f"({row}.followers IS NULL)"
        if change > 0:
            statements.append(
                f"INSERT INTO {table} ({', '.join(keys)}, n, reach, reach_unknown) "
                f"VALUES ({', '.join(keys.values())}, 1, {reach}, {unknown}) "
                "ON CONFLICT DO UPDATE SET n = n + 1, reach = reach + excluded.reach, "
                "reach_unknown = reach_unknown + excluded.reach_unknown;"
            )
        else:
            where = " AND ".join(f"{name} = {value}" for name, value in keys.items())
            statements.append(
                f"UPDATE {table} SET n = n - 1, reach = reach - {reach}, reach_unknown = reach_unknown - {unknown} "
                f"WHERE {where};"
            )
    return "\n    ".join(statements)


_MOVED = ("brand", "published_ms", "experience", "source", "lang", "followers")
_MOVED_WHEN = " OR ".join(f"old.{column} IS NOT new.{column}" for column in _MOVED)
# New mentions are added to the rollups per batch by `write` (`_ADD_NEW_TO_ROLLUPS`), not per row: one grouped
# statement is several times cheaper than four upserts per row. Mentions enter `mentions` only through `write`.
# A rewrite (re-crawl, rescore, reclassification) moves its count by trigger, when a rollup key or the reach moved.
TRIGGERS = f"""
CREATE TRIGGER IF NOT EXISTS mentions_rollup_delete AFTER DELETE ON mentions WHEN old.published_ms IS NOT NULL
BEGIN
    {_rollup_statements("old", -1)}
END;
CREATE TRIGGER IF NOT EXISTS mentions_rollup_move_old AFTER UPDATE OF {", ".join(_MOVED)} ON mentions
WHEN old.published_ms IS NOT NULL AND ({_MOVED_WHEN})
BEGIN
    {_rollup_statements("old", -1)}
END;
CREATE TRIGGER IF NOT EXISTS mentions_rollup_move_new AFTER UPDATE OF {", ".join(_MOVED)} ON mentions
WHEN new.published_ms IS NOT NULL AND ({_MOVED_WHEN})
BEGIN
    {_rollup_statements("new", 1)}
END;
"""
# Schema version 1 added every new row by trigger: those triggers go (they would count a new mention twice).
_OLD_TRIGGERS = ("mentions_rollup_insert", "mentions_rollup_update_old", "mentions_rollup_update_new")
# Schema version 2 kept every mention in a time index as well, (published_ms DESC, id), for pages of no brand: a
# B-tree ordered neither by arrival nor by brand cost writes 13-20%. Pages of no brand merge one walk per brand.
_OLD_INDEXES = ("mentions_time",)


def _add_new_statement(table: str, slot_ms: int, extra: tuple[str, ...]) -> str:
    """One statement adding the mentions with rowid > ? (those this batch inserted) to a rollup, grouped by key.

    NOT INDEXED: SQLite otherwise scans the covering index `mentions_brand_time`, every stored mention, per batch.
    """
    keys = {
        "brand": "brand",
        "slot": f"published_ms - ((published_ms % {slot_ms}) + {slot_ms}) % {slot_ms}",
        "experience": "coalesce(experience, '')",
        **{name: _KEY_VALUES[name].format(row="mentions") for name in extra},
    }
    return (
        f"INSERT INTO {table} ({', '.join(keys)}, n, reach, reach_unknown) "
        f"SELECT {', '.join(keys.values())}, count(*), sum(coalesce(followers, 0)), sum(followers IS NULL) "
        f"FROM mentions NOT INDEXED WHERE rowid > ? AND published_ms IS NOT NULL GROUP BY {', '.join(keys.values())} "
        "ON CONFLICT DO UPDATE SET n = n + excluded.n, reach = reach + excluded.reach, "
        "reach_unknown = reach_unknown + excluded.reach_unknown"
    )


_ADD_NEW_TO_ROLLUPS = tuple(_add_new_statement(*rollup) for rollup in _ROLLUPS)

_OLD_ROWS = "SELECT id, rowid, bands FROM mentions WHERE id IN ({})"
_COLUMNS = (
    "id, brand, source, lang, experience, published_ms, filed_ms, negative, positive, followers, engagement, "
    "model_id, model_version, near_duplicate_of, bands, doc"
)
_ID_AT, _BRAND_AT, _LANG_AT, _BANDS_AT = 0, 1, 3, 14  # positions in a row of `_COLUMNS`


@dataclass
class PreparedBatch:
    """Mentions made ready for the SQL of a write: a row of `_COLUMNS` each, and (plain, stemmed, brand token) for
    the text index in the same order; `failed` the mentions that could not be (id, why)."""

    rows: list[tuple[Any, ...]] = field(default_factory=list)
    texts: list[tuple[str, str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)

    @classmethod
    def joined(cls, batches: Sequence[PreparedBatch]) -> PreparedBatch:
        """One batch of several, written as if one after the other: the last of each id wins."""
        if len(batches) == 1:
            return batches[0]
        latest = {row[_ID_AT]: (row, text) for b in batches for row, text in zip(b.rows, b.texts, strict=True)}
        return cls(rows=[row for row, _ in latest.values()], texts=[text for _, text in latest.values()])


_UPSERT = f"""
INSERT INTO mentions ({_COLUMNS}) VALUES ({", ".join("?" * 16)})
ON CONFLICT (id) DO UPDATE SET
    brand = excluded.brand, source = excluded.source, lang = excluded.lang, experience = excluded.experience,
    published_ms = excluded.published_ms, filed_ms = excluded.filed_ms, negative = excluded.negative,
    positive = excluded.positive, followers = excluded.followers, engagement = excluded.engagement,
    model_id = excluded.model_id, model_version = excluded.model_version,
    near_duplicate_of = excluded.near_duplicate_of, bands = excluded.bands, doc = excluded.doc
"""

# Sort orders as (column, descending) keys, as indexer.queries.SORTS has them; the id breaks ties; a missing value
# sorts last, as in Elasticsearch. The class names sort anger < comfort < delight.
SortKeys = tuple[tuple[str, bool], ...]
_SORTS: dict[str, SortKeys] = {
    "newest": (("m.published_ms", True),),
    "oldest": (("m.published_ms", False),),
    "angriest": (("m.experience", False), ("m.negative", True)),
    "most_delighted": (("m.experience", True), ("m.positive", True)),
    "relevance": (("t.score", False),),  # bm25(): smaller is better
}
_NEWEST = _SORTS["newest"]
_MENTIONS = "mentions AS m"


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _ms_or_none(moment: datetime | None) -> int | None:
    return None if moment is None else _ms(moment)


# A band "07:5f3a9c21e4b0" (crawler/dedup.py) is stored and indexed as the token "b075f3a9c21e4b0": letters and
# digits only, one FTS5 token. Built and checked for a whole mention at once, in C (str.join/replace, one regex):
# the bands joined by spaces must be that many '<band>:<12 hex digits>' words, and the length shows that no band
# held a space of its own.
_BANDS = re.compile(r"\d{2}:[0-9a-f]{12}(?: \d{2}:[0-9a-f]{12})*")


def _band_tokens(bands: Sequence[str]) -> str | None:
    if not bands:
        return None
    joined = " ".join(bands)
    if len(joined) != 16 * len(bands) - 1 or not _BANDS.fullmatch(joined):
        raise IndexerError(f"dedup bands {list(bands)[:2]}... are not '<band>:<12 hex digits>'")
    return "b" + joined.replace(" ", " b").replace(":", "")


@functools.lru_cache(maxsize=256)
def _text_match(q: str, languages: tuple[str, ...]) -> str | None:
    """The FTS5 expression of a text query in these languages, None where it holds no word: a search asks for it
    more than once (its count, its page), and clients repeat their queries."""
    node = parse_text_query(q)
    return None if node is None else fts_query(node, languages)


@functools.lru_cache(maxsize=256)
def _has_prefix_term(q: str) -> bool:
    node = parse_text_query(q)
    return node is not None and has_prefix(node)


def _brand_token(brand: str) -> str:
    """The brand as one FTS5 token of letters and digits, whatever characters its name holds."""
    return "b" + brand.encode().hex()


def _with_brands(match: str, filters: MentionFilters) -> str:
    """The text query restricted to the filtered brand(s) inside FTS5: an intersection of its own lists, far
    cheaper than SQLite's check of every text match against the brand (the SQL conditions stay as well)."""
    if filters.brand is not None:
        match = f'({match}) AND brand : "{_brand_token(filters.brand)}"'
    if filters.brands and (filters.brand is None or filters.brand not in filters.brands):  # else implied above
        either = " OR ".join(f'brand : "{_brand_token(brand)}"' for brand in filters.brands)
        match = f"({match}) AND ({either})"
    return match


def _plain(mention: Mention) -> str:
    return f"{mention.title}\n{mention.text}" if mention.title else mention.text


def _bands_of(tokens: str | None) -> list[str]:
    return [f"{token[1:3]}:{token[3:]}" for token in tokens.split()] if tokens else []


def _forget_bands(db: sqlite3.Connection, rows: Iterable[tuple[int, str | None]]) -> None:
    """Take mentions out of the contentless band index: FTS5 needs the very tokens it was given, kept in `bands`."""
    db.executemany(
        "INSERT INTO mention_bands (mention_bands, rowid, bands) VALUES ('delete', ?, ?)",
        [(rowid, tokens) for rowid, tokens in rows if tokens],
    )


def _engagement(mention: Mention) -> int:
    e = mention.engagement
    return (e.likes or 0) + (e.replies or 0) + (e.shares or 0)


class SQLiteMentionStore:
    """Mentions in one SQLite file. One connection per thread; safe across processes."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._ready = False
        self._text_has_brand = True  # the full-text index holds the brand (files made before it do not)

    # --- connections --------------------------------------------------------------------------------------------
    @property
    def db(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Autocommit mode: transactions are begun explicitly (`_transaction`), so reads never hold a snapshot.
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                                         check_same_thread=False)  # fmt: skip
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")  # durable at checkpoints; a crash loses no commit in WAL
            # A checkpoint every 10,000 WAL pages (40 MiB) rather than 1,000: a page that a bulk write changes in
            # several batches (FTS5 segments, index pages) is copied and synced once, not each time.
            connection.execute("PRAGMA wal_autocheckpoint = 10000")
            connection.execute("PRAGMA journal_size_limit = 67108864")  # the WAL file shrinks back to 64 MiB
            connection.execute("PRAGMA temp_store = MEMORY")
            connection.execute("PRAGMA cache_size = -65536")  # 64 MiB of page cache per connection
            self._local.connection = connection
            if not self._ready:
                self._create(connection)
        return connection

    def _create(self, connection: sqlite3.Connection) -> None:
        try:
            connection.execute("BEGIN IMMEDIATE")
            for name in _OLD_TRIGGERS:
                connection.execute(f"DROP TRIGGER IF EXISTS {name}")
            for name in _OLD_INDEXES:
                connection.execute(f"DROP INDEX IF EXISTS {name}")
            for statement in _statements(SCHEMA + TRIGGERS):
                connection.execute(statement)
            version = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
            if version is None or int(version[0]) < 3:  # `brands` is new in version 3
                connection.execute("INSERT OR IGNORE INTO brands SELECT DISTINCT brand FROM mentions")
            connection.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            # FTS5 merges a level's segments once it holds this many (default 4). The band index merges later
            # (18 new tokens per mention, looked up once per new mention): fewer merges per write, a few more
            # segments per lookup. The text index merges sooner: a search checks rows against the text once per
            # segment, and at 200,000 mentions 8 segments instead of 11 made those checks 40% cheaper at no
            # measurable cost to writes. Kept in each table's config: idempotent.
            for table, automerge in (("mention_bands", BANDS_AUTOMERGE), ("mention_text", TEXT_AUTOMERGE)):
                connection.execute(f"INSERT INTO {table} ({table}, rank) VALUES ('automerge', {automerge})")
            connection.execute("COMMIT")
            self._text_has_brand = any(r[1] == "brand" for r in connection.execute("PRAGMA table_info(mention_text)"))
        except sqlite3.Error as exc:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise IndexerError(f"cannot create the mention store in {self.path}: {exc}") from exc
        self._ready = True

    # --- life cycle ---------------------------------------------------------------------------------------------
    def ensure_ready(self) -> None:
        _ = self.db

    def describe(self) -> dict[str, Any]:
        self._fetch("SELECT value FROM meta")  # raises IndexerError where the file cannot be read
        return {"kind": "sqlite", "version": sqlite3.sqlite_version, "path": str(self.path)}

    def refresh(self) -> None:
        """Writes are visible when their transaction commits."""

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def backup(self, target: Path) -> None:
        """A consistent copy of the whole store, taken with SQLite's online backup while others keep writing."""
        target.parent.mkdir(parents=True, exist_ok=True)
        destination = sqlite3.connect(target)
        try:
            self.db.backup(destination, pages=4096)
        finally:
            destination.close()

    # --- writes -------------------------------------------------------------------------------------------------
    def write(self, mentions: Sequence[Mention]) -> BulkReport:
        batch = self.prepare(mentions)
        if batch.rows:
            self.apply(batch)
        return BulkReport(indexed=len(batch.rows), failed=batch.failed)

    def write_all(self, batches: Iterable[Sequence[Mention]]) -> BulkReport:
        """A bulk load: batches prepared here and committed by a second process, many at once
        (indexer/sqlite_bulk.py). Returns once every batch is committed."""
        from indexer.sqlite_bulk import write_all  # it builds on this module

        return write_all(self, batches)

    def prepare(self, mentions: Sequence[Mention]) -> PreparedBatch:
        """The Python half of a write: rows, JSON, stems, band tokens. Made before the transaction begins, so the
        write lock is held for the SQL only (`apply`)."""
        batch = PreparedBatch()
        latest = {m.id: m for m in mentions}  # the same id twice in a batch: the last one wins, as in a bulk request
        for mention in latest.values():
            try:
                row = self._row(mention)
            except IndexerError as exc:
                batch.failed.append((mention.id, f"invalid: {exc}"))
                continue
            plain = _plain(mention)
            batch.rows.append(row)
            batch.texts.append((plain, stemmed_text(plain, mention.lang), _brand_token(mention.brand)))
        return batch

    def apply(self, batch: PreparedBatch) -> None:
        """The SQL half of a write: one transaction."""
        rows = batch.rows
        db = self.db
        with _transaction(db, f"writing {len(rows)} mentions"):
            langs = {row[_LANG_AT] for row in rows if row[_LANG_AT]}
            brands = {row[_BRAND_AT] for row in rows}
            db.executemany("INSERT OR IGNORE INTO languages VALUES (?)", [(lang,) for lang in langs])
            db.executemany("INSERT OR IGNORE INTO brands VALUES (?)", [(brand,) for brand in brands])
            ids = [row[_ID_AT] for row in rows]
            old = {i: (rowid, tokens) for i, rowid, tokens in self._select_in(db, _OLD_ROWS, ids)}
            old_bands = dict(old.values())
            # A new row gets a rowid one above the largest (SQLite's rule without AUTOINCREMENT, short of rowid
            # 2^63 - 1); a rewritten one keeps its own: so `rowid > last` are exactly the mentions this batch added,
            # numbered in the order they were inserted (checked below, else asked for).
            (last,) = db.execute("SELECT coalesce(max(rowid), 0) FROM mentions").fetchone()
            db.executemany(_UPSERT, rows)
            for statement in _ADD_NEW_TO_ROLLUPS:
                db.execute(statement, (last,))
            new_ids = [i for i in ids if i not in old]
            rowids = {i: rowid for i, (rowid, _) in old.items()} | dict(zip(new_ids, itertools.count(last + 1)))
            if db.execute("SELECT coalesce(max(rowid), 0) FROM mentions").fetchone()[0] != last + len(new_ids):
                rowids = dict(self._select_in(db, "SELECT id, rowid FROM mentions WHERE id IN ({})", ids))
            db.executemany("DELETE FROM mention_text WHERE rowid = ?", [(rowid,) for rowid in old_bands])
            _forget_bands(db, old_bands.items())
            db.executemany(
                "INSERT INTO mention_bands (rowid, bands) VALUES (?, ?)",
                [(rowids[row[_ID_AT]], row[_BANDS_AT]) for row in rows if row[_BANDS_AT]],
            )
            width = 3 if self._text_has_brand else 2
            db.executemany(
                "INSERT INTO mention_text (rowid, plain, stemmed, brand) VALUES (?, ?, ?, ?)"
                if self._text_has_brand
                else "INSERT INTO mention_text (rowid, plain, stemmed) VALUES (?, ?, ?)",
                [(rowids[row[_ID_AT]], *text[:width]) for row, text in zip(rows, batch.texts, strict=True)],
            )

    @staticmethod
    def _select_in(db: sqlite3.Connection, sql: str, values: Sequence[str]) -> list[Any]:
        found = []
        for chunk in _chunks(values, 500):
            found.extend(db.execute(sql.format(",".join("?" * len(chunk))), chunk).fetchall())
        return found

    @staticmethod
    def _row(mention: Mention) -> tuple[Any, ...]:
        published = _ms_or_none(mention.published_at)
        filed = published if published is not None else _ms(mention.crawled_at)
        return (
            mention.id, mention.brand, mention.source, mention.lang, mention.experience, published, filed,
            mention.polarity.negative if mention.polarity else None,
            mention.polarity.positive if mention.polarity else None, mention.author_followers, _engagement(mention),
            mention.model.id if mention.model else None, mention.model.version if mention.model else None,
            mention.near_duplicate_of, _band_tokens(mention.dedup_bands),
            mention.model_dump_json(exclude={"dedup_bands"}),
        )  # fmt: skip

    def delete_older_than(self, cutoff: datetime) -> RetentionReport:
        db = self.db
        with _transaction(db, "retention"):
            doomed = db.execute("SELECT rowid, bands FROM mentions WHERE filed_ms < ?", (_ms(cutoff),)).fetchall()
            _forget_bands(db, doomed)
            deleted = db.execute("DELETE FROM mentions WHERE filed_ms < ?", (_ms(cutoff),)).rowcount
            db.execute("DELETE FROM rollup WHERE n = 0")
            db.execute("DELETE FROM rollup_day WHERE n = 0")
        return RetentionReport(documents_deleted=deleted)

    # --- reads --------------------------------------------------------------------------------------------------
    def get(self, mention_id: str) -> dict[str, Any] | None:
        row = self._fetch("SELECT doc FROM mentions WHERE id = ?", (mention_id,))
        return json.loads(row[0][0]) if row else None

    def _fetch(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        try:
            return self.db.execute(sql, params).fetchall()
        except sqlite3.Error as exc:
            raise IndexerError(f"reading the mention store failed: {exc}") from exc

    def languages(self) -> list[str]:
        """The stemmed languages of the stored mentions (read each time: other processes add languages)."""
        return stemming_languages(r[0] for r in self._fetch("SELECT lang FROM languages"))

    def _where(self, filters: MentionFilters, text: bool = True) -> tuple[list[str], list[Any], str | None]:
        """SQL conditions on `m` (mentions), their parameters, and the FTS5 expression of `q` (None without q).
        With `text=False` the match of `q` is left out of the conditions, for a caller that joins it itself."""
        clauses: list[str] = []
        params: list[Any] = []
        for name in ("brand", "experience", "source", "lang"):
            value = getattr(filters, name)
            if value is not None:
                clauses.append(f"m.{name} = ?")
                params.append(value)
        if filters.brands is not None:
            clauses.append(f"m.brand IN ({','.join('?' * len(filters.brands))})")
            params.extend(filters.brands)
        if filters.start is not None:
            clauses.append("m.published_ms >= ?")
            params.append(_ms(filters.start))
        if filters.end is not None:
            clauses.append("m.published_ms < ?")
            params.append(_ms(filters.end))
        match = None
        if filters.q:
            match = _text_match(filters.q, tuple(self._languages_for(filters)))
            if match is None:
                clauses.append("0")  # no word to look for: nothing matches
            else:
                if self._text_has_brand:
                    match = _with_brands(match, filters)
                if text:
                    # A list subquery: SQLite runs the full-text match once, then the indexes do the rest.
                    clauses.append("m.rowid IN (SELECT rowid FROM mention_text WHERE mention_text MATCH ?)")
                    params.append(match)
        return clauses, params, match

    def search(
        self,
        filters: MentionFilters,
        size: int = 20,
        cursor: str | None = None,
        sort: SortName = "newest",
        highlight: bool = False,
        as_json: bool = False,
    ) -> MentionPage:
        clauses, params, match = self._where(filters, text=False)
        keys = _SORTS[sort]
        if sort == "relevance" and match is None:
            keys = (("0", False),)  # every mention scores alike without a query: the id decides, as in Elasticsearch
        source = _MENTIONS
        count_exact = True
        if match is None:
            total = self._count_from_rollups(filters)
            if total is None:
                where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
                total = self._fetch(f"SELECT count(*) FROM mentions AS m{where}", params)[0][0]
        else:
            # The text matches drive the count, which stops past SEARCH_COUNT_LIMIT: it costs what the matches
            # counted cost, not what every match of a common word would.
            total = self._fetch(
                "SELECT count(*) FROM (SELECT 1 FROM mention_text AS t CROSS JOIN mentions AS m ON m.rowid = t.rowid "
                f"WHERE {' AND '.join(['t.mention_text MATCH ?', *clauses])} LIMIT ?)",
                [match, *params, SEARCH_COUNT_LIMIT + 1],
            )[0][0]
            count_exact = total <= SEARCH_COUNT_LIMIT
            total = min(total, SEARCH_COUNT_LIMIT)
            if sort == "relevance":
                source = (
                    f"(SELECT rowid, bm25(mention_text{', 1, 1, 0' if self._text_has_brand else ''}) AS score "
                    "FROM mention_text WHERE mention_text MATCH ?) AS t "
                    "JOIN mentions AS m ON m.rowid = t.rowid"
                )
                params = [match, *params]
            elif count_exact:
                # Few matches: sorting them all is cheaper than walking an index in the page's order.
                source = "mention_text AS t CROSS JOIN mentions AS m ON m.rowid = t.rowid"
                clauses, params = ["t.mention_text MATCH ?", *clauses], [match, *params]
        page_clauses, page_params = list(clauses), list(params)
        after: list[Any] = []
        if cursor:
            *after, after_id = decode_cursor(cursor, sort)
            condition, values = _after_keys(keys, after, after_id)
            page_clauses.append(condition)
            page_params.extend(values)
        arms = _class_arms(keys, filters, after[0] if after else _NO_CURSOR)
        walks = self._brand_walks(filters)
        columns = ", ".join(column for column, _ in keys)
        rows: list[Any] | None = None
        if not count_exact and sort != "relevance":
            # Many matches: the rows in the page's order are checked against the text a few at a time, which
            # stops once the page is full; where matches are too sparse for that, against the list of them all.
            # A prefix term goes straight to the list: FTS5 expands it into every word it begins at each check
            # (60-150 ms a chunk at 200,000), and once for the whole list (30-40 ms).
            if not _has_prefix_term(filters.q or ""):
                rows = self._probed_page(filters, page_clauses, page_params, keys, arms, walks, size)
            if rows is None:
                page_clauses.append("m.rowid IN (SELECT rowid FROM mention_text WHERE mention_text MATCH ?)")
                page_params.append(match)
        if rows is None:
            rows = []
            # The few rows of a join with the text matches are sorted at once; arms would repeat the match.
            for arm_clauses, arm_params in arms if source == _MENTIONS else [_WHOLE]:
                sql, sql_params = _in_order(f"m.doc, m.id, {columns}", [*page_clauses, *arm_clauses],
                                            [*page_params, *arm_params], keys, walks, source)  # fmt: skip
                rows += self._fetch(f"{sql} LIMIT ?", [*sql_params, size - len(rows)])
                if len(rows) == size:
                    break
        next_cursor = encode_cursor(sort, [*rows[-1][2:], rows[-1][1]]) if len(rows) == size else None
        # `doc` is the public document as the model dumps it (`_row`): one array of them parses faster than each
        # apart, and is what the API sends where no highlight is added.
        data_json = "[" + ",".join(doc for doc, *_ in rows) + "]"
        highlighted = highlight and bool(filters.q)
        if as_json and not highlighted:
            return MentionPage(data=[], count=int(total), next=next_cursor, count_exact=count_exact,
                               data_json=data_json)  # fmt: skip
        data = json.loads(data_json)
        if highlighted:
            languages = self.languages()
            for item in data:
                item["highlight"] = _highlight(item, filters.q or "", languages)
        return MentionPage(data=data, count=int(total), next=next_cursor, count_exact=count_exact)

    def _probed_page(
        self,
        filters: MentionFilters,
        clauses: list[str],
        params: list[Any],
        keys: SortKeys,
        arms: Sequence[tuple[list[str], list[Any]]],
        walks: Sequence[str],
        size: int,
    ) -> list[Any] | None:
        """(doc, id, sort keys...) of the first `size` mentions in the order of `keys` that match `filters.q`, found
        by walking the mentions that pass `clauses` in that order (each of `arms` in turn) and checking them against
        the text a chunk at a time; None when PROBE_LIMIT rows were checked without filling the page.

        A check costs FTS5 a lookup per row (tens of microseconds), so this pays where matches are dense along the
        order (a common word: ten checks or so per row found), while the list of all matches costs as much as
        the word has matches. The brand is left out of the checked text: `clauses` hold it."""
        text = _text_match(filters.q or "", tuple(self._languages_for(filters)))
        found: list[tuple[Any, ...]] = []
        try:
            columns = ", ".join(column for column, _ in keys)
            checked = 0
            for arm_clauses, arm_params in arms:
                # No more rows than can be checked: with a LIMIT, SQLite keeps the first rows of a sort, not all.
                sql, sql_params = _in_order(f"m.rowid, m.id, {columns}", [*clauses, *arm_clauses],
                                            [*params, *arm_params], keys, walks)  # fmt: skip
                walk = self.db.execute(f"{sql} LIMIT ?", [*sql_params, PROBE_LIMIT - checked])
                try:
                    while len(found) < size:
                        if checked >= PROBE_LIMIT:
                            return None
                        chunk = walk.fetchmany(_probe_chunk(size - len(found), len(found), checked))
                        if not chunk:
                            break
                        checked += len(chunk)
                        marks = ",".join("?" * len(chunk))
                        hits = {rowid for (rowid,) in self.db.execute(
                            f"SELECT rowid FROM mention_text WHERE mention_text MATCH ? AND rowid IN ({marks})",
                            [text, *(row[0] for row in chunk)],
                        )}  # fmt: skip
                        found.extend(row for row in chunk if row[0] in hits)
                finally:
                    walk.close()  # an open statement would hold its read snapshot
                if len(found) >= size:
                    break
            found = found[:size]
            marks = ",".join("?" * len(found))
            docs = dict(
                self.db.execute(f"SELECT rowid, doc FROM mentions WHERE rowid IN ({marks})", [r[0] for r in found])
            )
        except sqlite3.Error as exc:
            raise IndexerError(f"reading the mention store failed: {exc}") from exc
        return [(docs[rowid], *rest) for rowid, *rest in found]

    def _brand_walks(self, filters: MentionFilters) -> tuple[str, ...]:
        """The brands a page of `filters` walks one at a time (`_in_order`): a team's several brands, or every
        stored brand where no brand is named; none where one is named (its conditions hold it)."""
        if filters.brand is not None:
            return ()
        if filters.brands is not None:
            brands = tuple(dict.fromkeys(filters.brands))  # each brand once
            return brands if len(brands) > 1 else ()
        return tuple(brand for (brand,) in self._fetch("SELECT brand FROM brands ORDER BY brand"))

    def _languages_for(self, filters: MentionFilters) -> list[str]:
        """The stemmers a text query is matched with: the filtered language's, else every stored language's."""
        languages = self.languages()
        return [filters.lang] if filters.lang in languages else languages

    def export(self, filters: MentionFilters, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        clauses, params, _ = self._where(filters)
        for rows in self._newest_first(filters, clauses, params, "m.doc", page_size):
            for doc, *_ in rows:
                yield json.loads(doc)

    def _newest_first(
        self, filters: MentionFilters, clauses: list[str], params: list[Any], columns: str, page_size: int
    ) -> Iterator[list[tuple[Any, ...]]]:
        """Pages of `columns` (then id and published_ms) of the matching mentions, newest first, by keyset: a page
        costs the same however deep it is, and rows changed between pages are neither skipped nor repeated."""
        after: tuple[Any, str] | None = None
        walks = self._brand_walks(filters)
        while True:
            page_clauses, page_params = list(clauses), list(params)
            if after is not None:
                condition, values = _after("m.published_ms", True, *after)
                page_clauses.append(condition)
                page_params.extend(values)
            sql, sql_params = _in_order(f"{columns}, m.id, m.published_ms", page_clauses, page_params, _NEWEST, walks)
            rows = self._fetch(f"{sql} LIMIT ?", [*sql_params, page_size])
            if rows:
                yield rows
            if len(rows) < page_size:
                return
            after = (rows[-1][-1], rows[-1][-2])

    def _selection(self, selection: Selection) -> tuple[list[str], list[Any], str | None]:
        clauses, params, match = self._where(selection.filters)
        if selection.not_model is not None:
            clauses.append("NOT (coalesce(m.model_id, '') = ? AND coalesce(m.model_version, '') = ?)")
            params.extend(selection.not_model)
        if selection.scored_only:
            clauses.append("m.negative IS NOT NULL")
        return clauses, params, match

    def count(self, selection: Selection) -> int:
        clauses, params, match = self._selection(selection)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return int(self._fetch(f"SELECT count(*) FROM mentions AS m{where}", params)[0][0])

    def pages(self, selection: Selection, batch_size: int) -> Iterator[list[dict[str, Any]]]:
        clauses, params, _ = self._selection(selection)
        for rows in self._newest_first(selection.filters, clauses, params, "m.doc, m.bands", batch_size):
            documents = []
            for doc, tokens, *_ in rows:
                document = json.loads(doc)
                document["dedup_bands"] = _bands_of(tokens)
                documents.append(document)
            yield documents

    # --- aggregates ---------------------------------------------------------------------------------------------
    def brand_counts_per_bucket(self, brands: Sequence[str], buckets: Sequence[Bucket]) -> list[dict[str, Counts]]:
        result = [{brand: Counts() for brand in brands} for _ in buckets]
        if not buckets or not brands:
            return result
        ranges = [(_ms(b.start), _ms(b.end)) for b in buckets]
        for i, brand, experience, n, reach, unknown in self._range_counts(brands, ranges):
            _add(result[i][brand], experience, n, reach, unknown)
        return result

    def _range_counts(self, brands: Sequence[str], ranges: Sequence[tuple[int, int]]) -> list[tuple[Any, ...]]:
        """(range index, brand, class, mentions, reach, reach unknown) rows that sum to the published mentions of
        `brands` in each range [start, end) of epoch ms: whole days from the daily rollup, the rest in quarter
        hours from the 15-minute one, what is left from the mentions (`_pieces`). The pieces go in as a table:
        SQLite walks a rollup's primary key once per piece and brand and sums in C; Python sees one row per
        (range, brand, class) and table."""
        pieces: dict[str, list[tuple[int, int, int, int]]] = {table: [] for table in _PIECE_SOURCES}
        for i, (start, end) in enumerate(ranges):
            for table, sign, piece_start, piece_end in _pieces(start, end):
                pieces[table].append((i, sign, piece_start, piece_end))
        rows: list[tuple[Any, ...]] = []
        for table, table_pieces in pieces.items():
            for chunk in _chunks(table_pieces, 2000):
                values = ", ".join("(?, ?, ?, ?)" for _ in chunk)
                rows.extend(self._fetch(
                    f"WITH b (i, sign, s, e) AS (VALUES {values}) SELECT b.i, {_PIECE_SOURCES[table]} "
                    f"AND r.brand IN ({','.join('?' * len(brands))}) GROUP BY 1, 2, 3",
                    [*(x for piece in chunk for x in piece), *brands],
                ))  # fmt: skip
        return rows

    def _count_from_rollups(self, filters: MentionFilters) -> int | None:
        """The number of mentions that pass `filters`, from the rollups where they can tell (no text, source or
        language filter): a few hundred rollup rows instead of every matching mention's index entry."""
        if filters.q or filters.source is not None or filters.lang is not None:
            return None
        brands = list(filters.brands) if filters.brands is not None else None
        if filters.brand is not None:
            brands = [filters.brand] if brands is None or filters.brand in brands else []
        if brands is None:
            brands = [brand for (brand,) in self._fetch("SELECT DISTINCT brand FROM rollup_day")]
        start = _ms(filters.start) if filters.start is not None else -_UNBOUNDED_MS
        end = _ms(filters.end) if filters.end is not None else _UNBOUNDED_MS
        wanted = filters.experience
        total = sum(row[3] for row in self._range_counts(brands, [(start, end)]) if wanted in (None, row[2]))
        if filters.start is None and filters.end is None:  # mentions without a date are in no rollup
            clauses, params, _ = self._where(filters)
            where = " AND ".join(["m.published_ms IS NULL", *clauses])
            total += self._fetch(f"SELECT count(*) FROM mentions AS m WHERE {where}", params)[0][0]
        return int(total)

    def breakdown(self, filters: MentionFilters, by: BreakdownField, size: int) -> Breakdown:
        clauses, params, match = self._where(filters)
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        rows = self._fetch(
            f"SELECT m.{by}, coalesce(m.experience, ''), count(*), sum(coalesce(m.followers, 0)), "
            f"sum(m.followers IS NULL) FROM mentions AS m{where} GROUP BY 1, 2",
            params,
        )
        per_key: dict[str | None, Counts] = {}
        for key, experience, n, reach, unknown in rows:
            _add(per_key.setdefault(key, Counts()), experience, n, reach, unknown)
        missing = per_key.pop(None, None)
        ranked = sorted(per_key.items(), key=lambda kv: (-kv[1].volume, str(kv[0])))
        result = [(str(key), counts) for key, counts in ranked[:size]]
        if missing is not None:
            result.append((MISSING_KEY, missing))
        return Breakdown(rows=result, other=sum(c.volume for _, c in ranked[size:]))

    def most_intense(self, filters: MentionFilters, classes: Sequence[str], limit: int) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for experience in classes:
            column = "m.negative" if experience == "anger" else "m.positive"
            clauses, params, _ = self._where(_with_experience(filters, experience))
            where = " AND ".join(clauses)
            rows = self._fetch(
                f"SELECT m.doc FROM mentions AS m WHERE {where} ORDER BY {_order_by(((column, True),))} LIMIT ?",
                [*params, limit],
            )
            found.extend(json.loads(doc) for (doc,) in rows)
        return sorted(found, key=lambda m: (-intensity(m), m["id"]))[:limit]

    def most_engaged(
        self, filters: MentionFilters, classes: Sequence[str], limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        clauses, params, match = self._where(filters)
        clauses.append(f"m.experience IN ({','.join('?' * len(classes))})")
        params.extend(classes)
        count_params = list(params)
        where = f" WHERE {' AND '.join(clauses)}"
        ranked = int(self._fetch(f"SELECT count(*) FROM mentions AS m{where}", count_params)[0][0])
        rows = self._fetch(
            f"SELECT m.doc FROM mentions AS m{where} ORDER BY m.engagement DESC, m.id LIMIT ?", [*params, limit]
        )
        return [json.loads(doc) for (doc,) in rows], ranked

    def counts_per_slot(
        self, brand: str, experience: str, start: datetime, end: datetime, step: timedelta
    ) -> dict[datetime, int]:
        step_ms = int(step.total_seconds() * 1000)
        rows = self._fetch(
            "SELECT published_ms - ((published_ms % ?) + ?) % ? AS slot, count(*) FROM mentions "
            "WHERE brand = ? AND published_ms >= ? AND published_ms < ? AND experience = ? GROUP BY slot",
            [step_ms, step_ms, step_ms, brand, _ms(start), _ms(end), experience],
        )
        return {datetime.fromtimestamp(slot / 1000, UTC): int(n) for slot, n in rows}

    def first_published(self, brand: str) -> datetime | None:
        (first,) = self._fetch("SELECT min(published_ms) FROM mentions WHERE brand = ?", [brand])[0]
        return None if first is None else datetime.fromtimestamp(first / 1000, UTC)

    def polarity_nets(self, brands: Sequence[str], start: datetime, end: datetime, limit: int) -> list[float]:
        rows = self._fetch(
            f"SELECT positive - negative FROM mentions WHERE brand IN ({','.join('?' * len(brands))}) "
            "AND published_ms >= ? AND published_ms < ? AND negative IS NOT NULL AND positive IS NOT NULL "
            "AND near_duplicate_of IS NULL ORDER BY published_ms DESC LIMIT ?",
            [*brands, _ms(start), _ms(end), limit],
        )
        return [float(net) for (net,) in rows]

    def near_duplicate_candidates(
        self, bands_by_mention: Mapping[str, Sequence[str]], limit: int
    ) -> dict[str, list[DuplicateCandidate]]:
        found: dict[str, list[DuplicateCandidate]] = {}
        for mention_id, bands in bands_by_mention.items():
            found[mention_id] = []
            if not bands:
                continue
            tokens = (_band_tokens(bands) or "").replace(" ", " OR ")
            # The earliest `limit` are chosen before their documents are read: a text stored thousands of times
            # shares a band with every copy, and sorting the documents of all of them cost twice as much.
            rows = self._fetch(
                "SELECT m.id, m.doc, m.near_duplicate_of, m.filed_ms FROM mentions AS m WHERE m.rowid IN "
                "(SELECT e.rowid FROM mentions AS e WHERE e.rowid IN "
                "(SELECT rowid FROM mention_bands WHERE mention_bands MATCH ?) AND e.id != ? "
                "ORDER BY e.filed_ms, e.id LIMIT ?) ORDER BY m.filed_ms, m.id",
                [tokens, mention_id, limit],
            )
            for other_id, doc, root, filed in rows:
                when = datetime.fromtimestamp(filed / 1000, UTC).isoformat()
                found[mention_id].append(DuplicateCandidate(other_id, json.loads(doc).get("text") or "", root, when))
        return found


def _statements(script: str) -> list[str]:
    """The statements of SCHEMA one by one (triggers hold ';' inside BEGIN ... END)."""
    statements, current = [], []
    for line in script.strip().splitlines():
        current.append(line)
        text = "\n".join(current)
        if sqlite3.complete_statement(text):
            statements.append(text)
            current = []
    return statements


class _transaction:
    """BEGIN IMMEDIATE ... COMMIT: the write lock is taken at the start (no deadlock upgrading a read lock)."""

    def __init__(self, db: sqlite3.Connection, what: str) -> None:
        self.db, self.what = db, what

    def __enter__(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise IndexerError(f"{self.what}: cannot begin a transaction: {exc}") from exc

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: object) -> None:
        if kind is None:
            try:
                self.db.execute("COMMIT")
                return
            except sqlite3.Error as error:
                self.db.execute("ROLLBACK")
                raise IndexerError(f"{self.what}: commit failed: {error}") from error
        self.db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error):
            raise IndexerError(f"{self.what} failed: {exc}") from exc


def _probe_chunk(wanted: int, found: int, checked: int) -> int:
    """How many rows of a page walk to check next for `wanted` more matches: as many as the matches seen so far
    say it takes (at first, that every row matches: a walk is for a text with many matches), a quarter more, at
    least 8, at most PROBE_CHUNK. A check costs FTS5 a lookup per row and per index segment; a query, little:
    checking far past the page's end costs more than a second query."""
    rate = found / checked if checked else 1.0
    return min(PROBE_CHUNK, max(8, round(wanted / max(rate, 0.1) * 1.25)))


def _chunks(values: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


# Where `_range_counts` reads each kind of piece: the rows of table `r`, signed, per (range, brand, class).
_ROLLUP_PIECE = ("r.brand, r.experience, sum(b.sign * r.n), sum(b.sign * r.reach), sum(b.sign * r.reach_unknown) "
                 "FROM b CROSS JOIN {} AS r ON r.slot >= b.s AND r.slot < b.e")  # fmt: skip
_PIECE_SOURCES = {
    "rollup_day": _ROLLUP_PIECE.format("rollup_day"),
    "rollup": _ROLLUP_PIECE.format("rollup"),
    "mentions": "r.brand, coalesce(r.experience, ''), sum(b.sign), sum(b.sign * coalesce(r.followers, 0)), "
    "sum(b.sign * (r.followers IS NULL)) FROM b CROSS JOIN mentions AS r "
    "ON r.published_ms >= b.s AND r.published_ms < b.e",
}
_UNBOUNDED_MS = 2**52 // DAY_MS * DAY_MS  # a whole number of days beyond any date: an open end of a range


def _pieces(start: int, end: int) -> list[tuple[str, int, int, int]]:
    """[start, end) in epoch ms as signed pieces (table, +1 or -1, piece start, piece end) of `_PIECE_SOURCES`:
    the whole days nearest its ends from `rollup_day`, then the difference at each end (under half a day, added
    or taken away) in quarter hours from `rollup`, and what is left of that (under a quarter hour) from
    `mentions`. A week of Europe/Helsinki (from 22:00 UTC) is seven days, plus two hours, less two hours."""
    if start >= end:
        return []
    first_day, last_day = _nearest(start, DAY_MS), _nearest(end, DAY_MS)
    if first_day >= last_day:
        return _quarter_pieces(start, end, 1)
    pieces = [("rollup_day", 1, first_day, last_day)]
    pieces += _quarter_pieces(start, first_day, 1) if start < first_day else _quarter_pieces(first_day, start, -1)
    pieces += _quarter_pieces(last_day, end, 1) if last_day < end else _quarter_pieces(end, last_day, -1)
    return pieces


def _quarter_pieces(start: int, end: int, sign: int) -> list[tuple[str, int, int, int]]:
    """[start, end) as the whole 15-minute slots inside it and the mentions at either side of them."""
    if start >= end:
        return []
    first, last = -(-start // SLOT_MS) * SLOT_MS, end // SLOT_MS * SLOT_MS
    if first >= last:
        return [("mentions", sign, start, end)]
    edges = [("mentions", sign, s, e) for s, e in ((start, first), (last, end)) if s < e]
    return [("rollup", sign, first, last), *edges]


def _nearest(moment: int, step: int) -> int:
    return (moment + step // 2) // step * step


def _add(counts: Counts, experience: str, n: int, reach: float, unknown: int) -> None:
    counts.volume += int(n)
    counts.reach += float(reach or 0)
    counts.reach_unknown += int(unknown or 0)
    if experience in EXPERIENCES:
        counts.by_class[experience] += int(n)
        counts.reach_by_class[experience] += float(reach or 0)


def _order_by(keys: SortKeys) -> str:
    """ORDER BY terms of `keys`, then the id. SQLite sorts NULL first ascending and last descending; a missing value
    goes last either way, as in Elasticsearch."""
    return ", ".join(f"{column} {'DESC' if descending else 'ASC'} NULLS LAST" for column, descending in keys) + ", m.id"


def _in_order(
    columns: str,
    clauses: Sequence[str],
    params: Sequence[Any],
    keys: SortKeys,
    walks: Sequence[str],
    source: str = _MENTIONS,
) -> tuple[str, list[Any]]:
    """SELECT `columns` of `source` (the mentions as `m`, or joined with the text matches) passing `clauses`, in the
    order of `keys` then the id (no LIMIT), and its parameters.

    The mentions of the brands in `walks` (`_brand_walks`: a team's brands, or every brand where none is named)
    are walked one brand at a time, merged by SQLite (a MERGE of UNION ALL arms, each in the order of
    `mentions_brand_time`): one walk over `brand IN (...)` sorts every mention of those brands before its first
    row (a page for a team of two brands at 200,000: 550 ms against 1 ms), and no index orders every mention by
    time (one cost writes 13-20%). The merge orders by position in `columns`, which must hold every key and the id.
    A join with the text matches is left whole: it holds few rows (the exact count's), sorted at once; so are
    more than MAX_BRAND_WALKS brands."""
    if source != _MENTIONS or not walks or len(walks) > MAX_BRAND_WALKS:
        where = f" WHERE {' AND '.join(clauses)}" if clauses else ""
        return f"SELECT {columns} FROM {source}{where} ORDER BY {_order_by(keys)}", list(params)
    where = " AND ".join(["m.brand = ?", *clauses])
    walk = f"SELECT {columns} FROM {_MENTIONS} WHERE {where} ORDER BY {_order_by(keys)}"
    if len(walks) == 1:
        return walk, [walks[0], *params]
    names = columns.split(", ")
    merged = ", ".join(
        f"{names.index(column) + 1} {'DESC' if descending else 'ASC'} NULLS LAST"
        for column, descending in (*keys, ("m.id", False))
    )
    arms_params = [value for brand in walks for value in (brand, *params)]
    return " UNION ALL ".join([f"SELECT * FROM ({walk})"] * len(walks)) + f" ORDER BY {merged}", arms_params


_WHOLE: tuple[list[str], list[Any]] = ([], [])  # one arm: every row
_NO_CURSOR = object()


def _class_arms(keys: SortKeys, filters: MentionFilters, after_class: Any) -> list[tuple[list[str], list[Any]]]:
    """(clauses, params) of the parts of a page's order read one after the other: for a sort by the class first
    (the intensity sorts), one part per class in the order of `keys`, from the class of the cursor's last row on.

    SQLite cannot walk an index in that order (no index holds the intensities), so it sorts every row that passes
    before the first: one brand's whole year at 200,000 took 340 ms. One class at a time, the first page costs
    what its class costs (the anger of that brand: 30 ms). A missing class sorts last."""
    column, descending = keys[0]
    if column != "m.experience" or filters.experience is not None:
        return [_WHOLE]
    order = [*(reversed(EXPERIENCES) if descending else EXPERIENCES), None]
    if after_class is not _NO_CURSOR:
        order = order[order.index(after_class) :] if after_class in order else []
    return [(["m.experience = ?"], [name]) if name else (["m.experience IS NULL"], []) for name in order]


def _after(column: str, descending: bool, value: Any, after_id: str) -> tuple[str, list[Any]]:
    """Keyset condition: rows after (value, id) in the order of `_order`, NULLs last."""
    if value is None:
        return f"({column} IS NULL AND m.id > ?)", [after_id]
    beyond = "<" if descending else ">"
    return f"({column} {beyond} ? OR ({column} = ? AND m.id > ?) OR {column} IS NULL)", [value, value, after_id]


def _after_keys(keys: Sequence[tuple[str, bool]], values: Sequence[Any], after_id: str) -> tuple[str, list[Any]]:
    """Keyset condition: rows after (values..., id) in the order of `keys`, a missing value last in each key."""
    parts: list[str] = []
    params: list[Any] = []
    equal: list[str] = []
    equal_params: list[Any] = []
    for (column, descending), value in zip(keys, values, strict=True):
        if value is None:  # nothing sorts after a missing value but rows missing it too
            equal.append(f"{column} IS NULL")
            continue
        beyond = "<" if descending else ">"
        parts.append("(" + " AND ".join([*equal, f"({column} {beyond} ? OR {column} IS NULL)"]) + ")")
        params.extend([*equal_params, value])
        equal.append(f"{column} = ?")
        equal_params.append(value)
    parts.append("(" + " AND ".join([*equal, "m.id > ?"]) + ")")
    params.extend([*equal_params, after_id])
    return "(" + " OR ".join(parts) + ")", params


def _with_experience(filters: MentionFilters, experience: str) -> MentionFilters:
    return replace(filters, experience=experience)


_MATCH_START, _MATCH_END = "<em>", "</em>"
_TOKEN = re.compile(r"[^\W_]+")


def _highlight(item: dict[str, Any], q: str, langs: Sequence[str]) -> dict[str, list[str]]:
    """Escaped HTML fragments with the words the query matched in <em>, per text field that has one."""
    node = parse_text_query(q)
    terms: list[Phrase] = []
    stack: list[Any] = [node]
    while stack:  # every word of the query, NOT parts left out
        current = stack.pop()
        if isinstance(current, Phrase):
            terms.append(current)
        elif hasattr(current, "operands"):
            stack.extend(current.operands)
        elif hasattr(current, "left"):
            stack.extend([current.left, current.right])
    exact = {w for t in terms if t.last != "prefix" for w in t.words}
    prefixes = tuple(t.words[-1] for t in terms if t.last == "prefix")
    exact |= {w for t in terms if t.last == "prefix" for w in t.words[:-1]}
    stems = {(lang, s) for lang in langs for s in stem_words(sorted(exact), lang)}

    def hit(word: str) -> bool:
        folded = fold(word)
        if folded in exact or (prefixes and folded.startswith(prefixes)):
            return True
        return any((lang, stem_words([folded], lang)[0]) in stems for lang in langs)

    found: dict[str, list[str]] = {}
    for name in HIGHLIGHT_FIELDS:
        text = item.get(name)
        if not text:
            continue
        pieces, last, marked = [], 0, False
        for token in _TOKEN.finditer(text):
            if hit(token.group()):
                pieces.append(html.escape(text[last : token.start()], quote=False))
                pieces.append(_MATCH_START + html.escape(token.group(), quote=False) + _MATCH_END)
                last, marked = token.end(), True
        if marked:
            pieces.append(html.escape(text[last:], quote=False))
            found[name] = ["".join(pieces)]
    return found
