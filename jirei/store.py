"""The case store: one SQLite file, and the only module that writes SQL.

What it holds
- `documents`: one row per document version (sha256 of the bytes), with status `done` or
  `failed` (and the reason), the extracted text the case spans refer to, and the run that stored it.
- `cases`: the case entry (title, text, span, page, section, layout), `needs_review`, the review
  status and a `version` counter that the reviewer app uses for optimistic locking.
- `case_values`: every extracted value and label as one row (field, position, the value as JSON,
  a `key` to filter on, `source`, span). Sources: `heading` / `rule` / `ner` for entities,
  `declared` for what the document says, `model@<version>`, `reviewer:<name>`.
- `history`: append-only (triggers refuse UPDATE and DELETE): who, when, field, old, new,
  model version. An undo is a new entry.
- `models`, `runs`: model versions seen, and every batch / relabel run with settings, counts, timings.
- `model_jobs`, `model_promotions`: retrains started from the reviewer app (status, progress, a
  heartbeat, the candidate and its figures beside the active model's, promoted or discarded), and
  the append-only list of promoted models, whose latest row is the active model (version, folder).
- `users`, `sessions`, `drafts`: the reviewer app's accounts (argon2 hashes), its sessions (the
  sha256 of each cookie token, user, created, last seen, expiry, client address) and review forms
  kept across a login. Demoting or disabling the last active admin is refused (`LastAdminError`).
- `login_failures`: the reviewer app's failed logins of the last few minutes (name, client
  address, time), which every server process counts.
- `assignments`, `blind_labels`: who labels which case (pass 1, or a blind pass 2), and the blind
  second labels with their comparison to the case's reviewed labels and any adjudication.
- `cases_fts`: FTS5 (trigram) over the case text, kept in step by triggers.

How it is used
Connections run in autocommit mode; every write is a short `BEGIN IMMEDIATE` transaction
(`Store.transaction()`), WAL journal, foreign keys on, a busy timeout. Only `?` parameters,
never SQL built from values. The schema is versioned (`PRAGMA user_version`) and migrated
forward on open; a file that is not a Jirei store, or one from a newer Jirei, is refused with a
one-line `StoreError` and left untouched.

The SQL is plain (no SQLite-only features outside the FTS table and the pragmas), so a server
database could stand behind the same methods later.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import resource
import secrets
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from jirei.normalise import normalise
from jirei.records import (CASE_LIST_FIELDS, CASE_SINGLE_FIELDS, CASE_VALUE_FIELDS, LABEL_FIELDS, REVIEW_LIST_FIELDS,
                           REVIEW_SINGLE_FIELDS, case_id_for, empty_value)

APPLICATION_ID = 0x4A495245  # "JIRE": marks a Jirei store in the SQLite header
SCHEMA_VERSION = 9
BUSY_TIMEOUT_MS = 15000

# Record fields kept as rows of case_values, as jirei.records declares them.
LIST_FIELDS = CASE_LIST_FIELDS + REVIEW_LIST_FIELDS
SINGLE_FIELDS = CASE_SINGLE_FIELDS + REVIEW_SINGLE_FIELDS
VALUE_FIELDS = LIST_FIELDS + SINGLE_FIELDS

MIGRATIONS: dict[int, str] = {
    1: """
CREATE TABLE runs (
    run_id      INTEGER PRIMARY KEY,
    kind        TEXT NOT NULL,              -- batch | relabel | train | ...
    started_at  TEXT NOT NULL,
    finished_at TEXT,
    status      TEXT NOT NULL DEFAULT 'running',   -- running | finished | failed
    settings    TEXT NOT NULL DEFAULT '{}',
    counts      TEXT NOT NULL DEFAULT '{}',
    timings     TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE models (
    version    TEXT PRIMARY KEY,
    card       TEXT NOT NULL DEFAULT '{}',
    first_seen TEXT NOT NULL
);
CREATE TABLE documents (
    doc_id      TEXT PRIMARY KEY,              -- sha256 of the file's bytes
    name        TEXT NOT NULL,
    path        TEXT NOT NULL,
    kind        TEXT,                          -- pdf | text
    status      TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    error       TEXT,
    pages       INTEGER,
    page_spans  TEXT NOT NULL DEFAULT '[]',    -- [[number, start, end, needs_ocr, label, source, ocr confidence], ...]
    doc_date    TEXT,
    encoding    TEXT,
    warnings    TEXT NOT NULL DEFAULT '[]',
    layout      TEXT,
    n_cases     INTEGER NOT NULL DEFAULT 0,
    chars       INTEGER NOT NULL DEFAULT 0,
    text        TEXT,
    model_version TEXT,
    previous    TEXT,                          -- the earlier version of the same path
    current     INTEGER NOT NULL DEFAULT 1,    -- 0 once a newer version of the path is stored
    run_id      INTEGER REFERENCES runs(run_id),
    added_at    TEXT NOT NULL
);
CREATE INDEX documents_path ON documents(path);
CREATE TABLE cases (
    case_id      TEXT PRIMARY KEY,
    doc_id       TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    ordinal      INTEGER NOT NULL,
    title        TEXT NOT NULL,
    text         TEXT NOT NULL,
    span_start   INTEGER NOT NULL,
    span_end     INTEGER NOT NULL,
    page         INTEGER,
    section      TEXT NOT NULL DEFAULT '[]',
    layout       TEXT NOT NULL,
    needs_review INTEGER NOT NULL DEFAULT 0,
    margin       REAL,                         -- best minus second pillar probability
    review_status TEXT NOT NULL DEFAULT 'unreviewed',
    version      INTEGER NOT NULL DEFAULT 1,
    updated_at   TEXT NOT NULL,
    UNIQUE (doc_id, ordinal)
);
CREATE INDEX cases_queue ON cases(review_status, needs_review, margin);
CREATE TABLE case_values (
    case_id    TEXT NOT NULL REFERENCES cases(case_id) ON DELETE CASCADE,
    field      TEXT NOT NULL,
    position   INTEGER NOT NULL,
    value      TEXT NOT NULL,                  -- JSON, as in the `jirei extract` record
    key        TEXT,                           -- what filters compare: name, prefecture, year, label
    source     TEXT,
    score      REAL,
    span_start INTEGER,
    span_end   INTEGER,
    PRIMARY KEY (case_id, field, position)
);
CREATE INDEX case_values_key ON case_values(field, key);
CREATE TABLE history (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    case_id       TEXT NOT NULL REFERENCES cases(case_id),
    at            TEXT NOT NULL,
    who           TEXT NOT NULL,
    field         TEXT NOT NULL,
    old           TEXT,
    new           TEXT,
    model_version TEXT,
    run_id        INTEGER REFERENCES runs(run_id),
    note          TEXT
);
CREATE INDEX history_case ON history(case_id, id);
CREATE TRIGGER history_no_update BEFORE UPDATE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE TRIGGER history_no_delete BEFORE DELETE ON history
BEGIN SELECT RAISE(ABORT, 'history is append-only'); END;
CREATE VIRTUAL TABLE cases_fts USING fts5(text, content='cases', tokenize='trigram');
CREATE TRIGGER cases_fts_insert AFTER INSERT ON cases
BEGIN INSERT INTO cases_fts(rowid, text) VALUES (new.rowid, new.text); END;
CREATE TRIGGER cases_fts_delete AFTER DELETE ON cases
BEGIN INSERT INTO cases_fts(cases_fts, rowid, text) VALUES ('delete', old.rowid, old.text); END;
CREATE TRIGGER cases_fts_update AFTER UPDATE OF text ON cases
BEGIN
    INSERT INTO cases_fts(cases_fts, rowid, text) VALUES ('delete', old.rowid, old.text);
    INSERT INTO cases_fts(rowid, text) VALUES (new.rowid, new.text);
END;
""",
    2: """
CREATE TABLE users (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('reviewer', 'admin')),
    password_hash TEXT NOT NULL,
    active        INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL
);
CREATE INDEX history_who ON history(who, field);
""",
    # The reviewer queue's order (Store.queue_page, queue_neighbours) as an index: a page or the
    # next case is read in order instead of sorting every case (10,000 cases: 7 ms -> 0.2 ms).
    # The raw columns after it let filters and counts read the index alone, never the rows (whose
    # texts sit before these columns and would be read through).
    3: """
CREATE INDEX cases_queue_order ON cases((review_status = 'reviewed'), 1 - needs_review, coalesce(margin, 1),
                                        case_id, doc_id, review_status, needs_review, margin);
""",
    # The reviewer app's sessions, kept here so they can be ended: the cookie carries only a random
    # token, the store its sha256. `flash`: messages for the next page. `drafts`: a review form
    # sent after its session had ended, kept for the same user until they are back on the case.
    4: """
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user       TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    client     TEXT,
    flash      TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX sessions_user ON sessions(user);
CREATE TABLE drafts (
    user     TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    case_id  TEXT NOT NULL REFERENCES cases(case_id) ON DELETE CASCADE,
    form     TEXT NOT NULL,
    saved_at TEXT NOT NULL,
    PRIMARY KEY (user, case_id)
);
""",
    # The model loop of the reviewer app: a retrain is a job whose state lives here, so every
    # process sees it (`model_jobs`: status, progress, a heartbeat the job's process renews, the
    # candidate it made and its figures beside the active model's); `model_promotions` is
    # append-only, and the active model is its latest row (version and the folder of its files).
    5: """
CREATE TABLE model_jobs (
    job_id        INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL,                 -- train
    status        TEXT NOT NULL CHECK (status IN ('queued', 'running', 'finished', 'failed')),
    requested_by  TEXT NOT NULL,
    settings      TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL,
    started_at    TEXT,
    heartbeat_at  TEXT,
    finished_at   TEXT,
    pid           INTEGER,
    host          TEXT,
    step          INTEGER NOT NULL DEFAULT 0,
    steps         INTEGER NOT NULL DEFAULT 0,
    progress      TEXT NOT NULL DEFAULT '',
    error         TEXT,
    base_version  TEXT,                          -- the active model when the job started
    candidate     TEXT,                          -- the version it trained
    candidate_dir TEXT,
    figures       TEXT NOT NULL DEFAULT '{}',    -- {"candidate": {...}, "base": {...}}
    decision      TEXT CHECK (decision IN ('promoted', 'discarded')),
    decided_by    TEXT,
    decided_at    TEXT,
    run_id        INTEGER REFERENCES runs(run_id)
);
CREATE TABLE model_promotions (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    who        TEXT NOT NULL,
    version    TEXT NOT NULL,
    models_dir TEXT NOT NULL,
    job_id     INTEGER REFERENCES model_jobs(job_id),
    previous   TEXT
);
CREATE TRIGGER model_promotions_no_update BEFORE UPDATE ON model_promotions
BEGIN SELECT RAISE(ABORT, 'model promotions are append-only'); END;
CREATE TRIGGER model_promotions_no_delete BEFORE DELETE ON model_promotions
BEGIN SELECT RAISE(ABORT, 'model promotions are append-only'); END;
""",
    # Reviewers' boundary edits and where a case sits on its page. `superseded`: NULL while a case
    # stands; once a split or merge replaced it (or an undo took back the cases such an edit
    # made), JSON {op, by, who, at}: the case stays, with its history, but leaves the queue, the
    # queries and the exports. The queue index carries it so that filters and counts still read
    # the index alone. `page_boxes`: the boxes of a PDF page's lines (PDF points) with the
    # document offsets each line covers, for the page image's mark of the case's region.
    6: """
ALTER TABLE cases ADD COLUMN superseded TEXT;
DROP INDEX cases_queue_order;
CREATE INDEX cases_queue_order ON cases((review_status = 'reviewed'), 1 - needs_review, coalesce(margin, 1),
                                        case_id, doc_id, review_status, needs_review, margin, superseded);
CREATE TABLE page_boxes (
    doc_id TEXT NOT NULL REFERENCES documents(doc_id) ON DELETE CASCADE,
    page   INTEGER NOT NULL,
    width  REAL NOT NULL,
    height REAL NOT NULL,
    lines  TEXT NOT NULL,                      -- [[start, end, x0, top, x1, bottom], ...]
    PRIMARY KEY (doc_id, page)
);
""",
    # Assignment, blind double labelling and the queue's filters and sorts (see the section
    # "assignment, agreement and bulk" of Store). `assignments`: who labels which case; pass 1 labels
    # the case itself, pass 2 is a blind second labelling of the same case by another reviewer,
    # kept apart in `blind_labels` (the case's own values stay the first pass's) with the
    # first pass's labels it was compared with and the outcome: waiting (no first label yet),
    # agree, disagree, adjudicated (a decision became the case's labels). The indexes serve the
    # queue's filters (pillar score, model version, reviewer: case_values by field and score or
    # source) and its sorts (margin, title, last change) over 100,000 cases. `cases.pillar_key`
    # repeats the pillar's label (kept by triggers on case_values) so that the queue of one pillar is
    # read in order along its own index, as the whole queue is along cases_queue_order.
    7: """
CREATE TABLE assignments (
    case_id     TEXT NOT NULL REFERENCES cases(case_id) ON DELETE CASCADE,
    reviewer    TEXT NOT NULL REFERENCES users(name) ON DELETE CASCADE,
    pass        INTEGER NOT NULL CHECK (pass IN (1, 2)),
    assigned_by TEXT NOT NULL,
    assigned_at TEXT NOT NULL,
    done_at     TEXT,
    PRIMARY KEY (case_id, reviewer),
    UNIQUE (case_id, pass)
);
CREATE INDEX assignments_open ON assignments(reviewer, done_at, case_id);
CREATE TABLE blind_labels (
    case_id        TEXT PRIMARY KEY REFERENCES cases(case_id) ON DELETE CASCADE,
    reviewer       TEXT NOT NULL,
    label          TEXT NOT NULL,
    labelled_at    TEXT NOT NULL,
    first_reviewer TEXT,
    first_label    TEXT,
    status         TEXT NOT NULL DEFAULT 'waiting'
                   CHECK (status IN ('waiting', 'agree', 'disagree', 'adjudicated')),
    adjudicated_by TEXT,
    adjudicated_at TEXT
);
CREATE INDEX blind_labels_status ON blind_labels(status, case_id);
CREATE INDEX case_values_source ON case_values(field, source, case_id);
CREATE INDEX case_values_score ON case_values(field, score, case_id);
CREATE INDEX cases_margin ON cases(coalesce(margin, 1), case_id);
CREATE INDEX cases_title ON cases(title, case_id);
CREATE INDEX cases_updated ON cases(updated_at, case_id);
ALTER TABLE cases ADD COLUMN pillar_key TEXT;
UPDATE cases SET pillar_key = (SELECT v.key FROM case_values v WHERE v.case_id = cases.case_id AND v.field = 'pillar'
                               AND v.position = 0);
CREATE INDEX cases_pillar_queue ON cases(pillar_key, (review_status = 'reviewed'), 1 - needs_review,
                                         coalesce(margin, 1), case_id, doc_id, review_status, needs_review, margin,
                                         superseded);
CREATE TRIGGER cases_pillar_insert AFTER INSERT ON case_values WHEN new.field = 'pillar' AND new.position = 0
BEGIN UPDATE cases SET pillar_key = new.key WHERE case_id = new.case_id; END;
CREATE TRIGGER cases_pillar_delete AFTER DELETE ON case_values WHEN old.field = 'pillar' AND old.position = 0
BEGIN UPDATE cases SET pillar_key = NULL WHERE case_id = old.case_id; END;
""",
    # The queue at 100,000 cases under 16 busy reviewers. `cases.pillar_score` repeats the pillar's
    # probability (kept by the pillar triggers, as pillar_key), so the probability filter is a
    # column of the case, not a lookup in case_values per case. The indexes the queue walks in
    # its orders (its own, a pillar's, margin, title, last change) carry every column the filters
    # on the case row test (document, status, superseded, pillar and its probability): a walk
    # reads the index alone, never the case rows, whose texts sit before those columns (a row
    # read is an overflow chain). `cases_by_id` does the same for a set of cases looked up by id
    # (the filters that keep few cases), and case_values_key carries the case id, so that such
    # a set is read from the index alone. `documents_current`: the queries leave out the cases of
    # older document versions as a set of those documents' ids, instead of a lookup of each
    # case's document (counting the whole queue: 79 ms to 10 ms).
    8: """
ALTER TABLE cases ADD COLUMN pillar_score REAL;
UPDATE cases SET pillar_score = (SELECT v.score FROM case_values v WHERE v.case_id = cases.case_id
                                 AND v.field = 'pillar' AND v.position = 0);
DROP TRIGGER cases_pillar_insert;
DROP TRIGGER cases_pillar_delete;
CREATE TRIGGER cases_pillar_insert AFTER INSERT ON case_values WHEN new.field = 'pillar' AND new.position = 0
BEGIN UPDATE cases SET pillar_key = new.key, pillar_score = new.score WHERE case_id = new.case_id; END;
CREATE TRIGGER cases_pillar_delete AFTER DELETE ON case_values WHEN old.field = 'pillar' AND old.position = 0
BEGIN UPDATE cases SET pillar_key = NULL, pillar_score = NULL WHERE case_id = old.case_id; END;
DROP INDEX cases_queue_order;
CREATE INDEX cases_queue_order ON cases((review_status = 'reviewed'), 1 - needs_review, coalesce(margin, 1),
                                        case_id, doc_id, review_status, needs_review, margin, superseded, pillar_key,
                                        pillar_score);
DROP INDEX cases_pillar_queue;
CREATE INDEX cases_pillar_queue ON cases(pillar_key, (review_status = 'reviewed'), 1 - needs_review,
                                         coalesce(margin, 1), case_id, doc_id, review_status, needs_review, margin,
                                         superseded, pillar_score);
DROP INDEX cases_margin;
CREATE INDEX cases_margin ON cases(coalesce(margin, 1), case_id, doc_id, review_status, needs_review, margin,
                                   superseded, pillar_key, pillar_score);
DROP INDEX cases_title;
CREATE INDEX cases_title ON cases(title, case_id, doc_id, review_status, needs_review, margin, superseded, pillar_key,
                                  pillar_score);
DROP INDEX cases_updated;
CREATE INDEX cases_updated ON cases(updated_at, case_id, doc_id, review_status, needs_review, margin, superseded,
                                    pillar_key, pillar_score);
CREATE INDEX cases_by_id ON cases(case_id, doc_id, review_status, needs_review, margin, superseded, pillar_key,
                                  pillar_score);
DROP INDEX case_values_key;
CREATE INDEX case_values_key ON case_values(field, key, case_id);
CREATE INDEX documents_current ON documents(current, doc_id);
""",
    # Failed logins of the reviewer app, counted here so that every server process (`jirei serve
    # --workers N`) counts the same tries and a restart forgets none: one row per failed try (the
    # name as typed, lower-cased, at most 64 characters; the client address; when). Rows older
    # than the window are deleted on every write, so the table holds only the tries that still
    # count. The first index serves both counts (one address's tries, and one name's from it),
    # the second the pruning.
    9: """
CREATE TABLE login_failures (
    id      INTEGER PRIMARY KEY,
    name    TEXT NOT NULL,
    address TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX login_failures_address ON login_failures(address, name, at);
CREATE INDEX login_failures_at ON login_failures(at);
""",
}


class StoreError(Exception):
    """A store that cannot be opened or a write that cannot be made; one line, naming the file."""


class LastAdminError(StoreError):
    """A change that would leave the store without an active admin."""


class ReadOnlyStoreError(StoreError):
    """The store cannot be written here: a read-only file, folder or file system."""


class JobRunningError(StoreError):
    """A model job was asked for while another of its kind is still queued or running."""


class ConflictError(StoreError):
    """A case changed since the caller read it (optimistic version check)."""

    def __init__(self, case_id: str, expected: int, actual: int, changes: list[dict]):
        self.case_id, self.expected, self.actual, self.changes = case_id, expected, actual, changes
        who = ", ".join(sorted({c["who"] for c in changes})) or "someone"
        super().__init__(f"case {case_id} was changed by {who} (version {actual}, you had {expected})")


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def model_source(version: str | None) -> str:
    return f"model@{version}" if version else "model"


def value_key(field: str, value: Any) -> str | None:
    """What filters compare for one value: an organisation's name, a place's prefecture (or region),
    a year, a label id, an action item's number."""
    if field == "organisations":
        return value.get("name")
    if field == "places":
        return value.get("prefecture") or value.get("region") or value.get("text")
    if field == "years":
        return str(value)
    if field == "year_mentions":
        return str(value.get("year")) if value.get("year") is not None else None
    if field in ("pillar", "pillars", "theme", "declared_pillar", "secondary_pillars"):
        return value.get("label") if isinstance(value, dict) else str(value)
    if field == "action_items":
        return str(value.get("item"))
    return None


def value_source(field: str, value: Any, model_version: str | None) -> str | None:
    """Provenance of a value as the store records it: entities keep theirs (heading | rule | ner);
    model labels become `model@<version>`; declared labels stay `declared`."""
    if field == "years":
        return "rule"
    if isinstance(value, dict):
        src = value.get("source")
        if src == "model" or (src is None and field in LABEL_FIELDS):
            return model_source(value.get("model") or model_version)
        return src
    return None


def _span(value: Any) -> tuple[int | None, int | None]:
    if isinstance(value, dict) and isinstance(value.get("span"), (list, tuple)) and len(value["span"]) == 2:
        return int(value["span"][0]), int(value["span"][1])
    return None, None


def pillar_margin(pillars: list[dict]) -> float | None:
    scores = sorted((p.get("score") or 0.0 for p in pillars), reverse=True)
    if len(scores) < 2:
        return None
    return round(scores[0] - scores[1], 4)


@dataclass
class CaseQuery:
    """Filters of `jirei cases` and the reviewer queue; None means no filter."""

    pillar: str | None = None
    item: int | None = None
    prefecture: str | None = None
    search: str | None = None
    needs_review: bool | None = None
    reviewed: bool | None = None
    doc_id: str | None = None
    all_versions: bool = False
    score_min: float | None = None  # the pillar's probability
    score_max: float | None = None
    margin_min: float | None = None
    margin_max: float | None = None
    model: str | None = None  # the pillar was set by this model version
    reviewer: str | None = None  # the pillar was set by this reviewer
    assignee: str | None = None  # open assignments of this user (their queue)
    disagreement: bool = False  # blind double labelling disagrees, not adjudicated yet
    has_notes: bool = False
    sparse: bool = False  # few cases match: walking the queue's index to find them would read most cases
    order: str = "document"  # document | queue | a queue sort: SORTS (margin, -margin, score, ...)
    limit: int | None = None
    offset: int = 0


def search_terms(query: str) -> tuple[list[str], list[str]]:
    """Split a search into (terms the trigram index can find, shorter terms for LIKE).

    The trigram tokenizer indexes 3-character sequences: a 1–2 character term (東京, 人材) finds
    nothing, and inside a longer query it would be silently dropped; those go to LIKE instead.
    The query is normalised as report text is (NFKC and Jirei's folds), so 全角 input matches."""


    terms = [t for t in normalise(query).split() if t]
    return [t for t in terms if len(t) >= 3], [t for t in terms if len(t) < 3]


def _fts_phrase(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class Store:
    """An open case store. Use as a context manager, or call `close()`."""

    def __init__(self, path: str | Path, *, create: bool = True, readonly: bool = False):
        """Open (or with `create`, make) the store. `readonly` opens it for reading only: for a
        store in a read-only folder or file system, which SQLite can read when its -wal and -shm
        files exist beside it, or when there is no -wal (nothing left outside the main file)."""
        self.path = Path(path)
        self.readonly = readonly
        self._writers = _writer_queue(self.path)
        _check_path(self.path, create=create and not readonly)
        # `mode=rw` never creates a file; a new store is made only when `create` allows it.
        mode = "ro" if readonly else "rwc" if create else "rw"
        try:
            self.conn = self._connect(mode)
        except sqlite3.Error as exc:
            raise store_problem(self.path, exc, "cannot open") from None
        try:
            # The file is judged through this connection, before anything is written to it. It is
            # never opened with a plain file handle: closing any descriptor of the file would drop
            # every POSIX lock this process's SQLite connections hold on it (see the README).
            try:
                _check_store(self.conn, self.path)
            except StoreError:
                if not (readonly and _immutable_readable(self.path)):
                    raise
                # A WAL store in a read-only folder with no -wal beside it: the main file holds
                # everything, and no one can write it here, so SQLite may read it as immutable.
                self.conn.close()
                self.conn = self._connect("ro", immutable=True)
                _check_store(self.conn, self.path)
            self.conn.row_factory = sqlite3.Row
            self.conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self.conn.execute("PRAGMA foreign_keys = ON")
            if readonly:
                version = self.schema_version()
                if version < SCHEMA_VERSION:
                    raise StoreError(f"{self.path}: written by an older Jirei (store schema {version}); open it "
                                     "once where it can be written, to upgrade it")
                return
            self.conn.execute("PRAGMA journal_mode = WAL")
            # FULL: a commit is on disk (the WAL fsynced) before "saved" is reported; NORMAL would
            # keep the file consistent but could lose the last commits on power loss.
            self.conn.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except sqlite3.OperationalError as exc:
            self.conn.close()
            raise store_problem(self.path, exc, "cannot open") from None
        except BaseException:
            self.conn.close()
            raise

    def _connect(self, mode: str, immutable: bool = False) -> sqlite3.Connection:
        extra = "&immutable=1" if immutable else ""
        return sqlite3.connect(f"{self.path.resolve().as_uri()}?mode={mode}{extra}", uri=True, isolation_level=None,
                               timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False)

    # --- connection -------------------------------------------------------------------------------

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    @contextmanager
    def transaction(self, *, durable: bool = True) -> Iterator[sqlite3.Connection]:
        """A short write transaction, taken at once (BEGIN IMMEDIATE) so writers queue on the
        busy timeout instead of failing half-way with "database is locked". A write the disk or
        the file system refuses (full, read-only, I/O error) is rolled back whole and raised as a
        one-line StoreError naming the store.

        `durable=False` is for the app's passing state (a session's messages for its next page,
        its last-seen time): the commit is not fsynced by itself (synchronous = NORMAL for this
        transaction; the next durable commit fsyncs the WAL with it). A power cut may lose it,
        never corrupt anything; each such commit then costs microseconds instead of an fsync,
        and the write lock is held that much shorter."""
        # Writers queue for their turn first (_WriterQueue): handed on the moment a commit ends,
        # where SQLite's busy handler polls with sleeps growing to 100 ms (16 clients saving: a
        # save waited hundreds of milliseconds for a lock that was free most of the time).
        queued = self._writers.acquire(timeout=BUSY_TIMEOUT_MS / 1000)
        if not durable:
            self.conn.execute("PRAGMA synchronous = NORMAL")
        try:
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise store_problem(self.path, exc) from None
            try:
                yield self.conn
            except sqlite3.OperationalError as exc:
                self._rollback()
                raise store_problem(self.path, exc) from None
            except BaseException:
                self._rollback()
                raise
            try:
                self.conn.execute("COMMIT")
            except sqlite3.OperationalError as exc:
                self._rollback()
                raise store_problem(self.path, exc) from None
        finally:
            if not durable:
                self.conn.execute("PRAGMA synchronous = FULL")
            if queued:
                self._writers.release()

    def _rollback(self) -> None:
        # SQLite may already have rolled the transaction back itself (a full disk, an I/O error).
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.OperationalError:
                pass

    def check_writable(self) -> None:
        """Raise a one-line StoreError unless this process can write the store (a read-only
        file, folder or file system); nothing is changed."""
        if self.readonly:
            raise StoreError(f"{self.path}: opened read-only")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                # rewrites the header's own value: a write SQLite must be allowed to make, then undone
                self.conn.execute(f"PRAGMA user_version = {int(self.schema_version())}")
            finally:
                self._rollback()
        except sqlite3.OperationalError as exc:
            raise store_problem(self.path, exc) from None

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """A read transaction: several SELECTs see one consistent state."""
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            self.conn.execute("COMMIT")

    def schema_version(self) -> int:
        return self.conn.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        if self.schema_version() == SCHEMA_VERSION:
            return
        with self.transaction() as db:
            # read again under the write lock: another process may have migrated it meanwhile
            version = self.schema_version()
            for target in sorted(v for v in MIGRATIONS if version < v <= SCHEMA_VERSION):
                for statement in _statements(MIGRATIONS[target]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {int(target)}")
            db.execute(f"PRAGMA application_id = {APPLICATION_ID}")

    # --- runs and models --------------------------------------------------------------------------

    def start_run(self, kind: str, settings: dict) -> int:
        with self.transaction() as db:
            cur = db.execute("INSERT INTO runs (kind, started_at, settings) VALUES (?, ?, ?)",
                             (kind, now(), _json(settings)))
            return int(cur.lastrowid)

    def finish_run(self, run_id: int, counts: dict, timings: dict, status: str = "finished") -> None:
        with self.transaction() as db:
            db.execute("UPDATE runs SET finished_at = ?, status = ?, counts = ?, timings = ? WHERE run_id = ?",
                       (now(), status, _json(counts), _json(timings), run_id))

    def runs(self) -> list[dict]:
        rows = self.conn.execute("SELECT * FROM runs ORDER BY run_id").fetchall()
        return [_run_dict(r) for r in rows]

    def register_model(self, version: str, card: dict | None = None) -> None:
        with self.transaction() as db:
            db.execute("INSERT INTO models (version, card, first_seen) VALUES (?, ?, ?) "
                       "ON CONFLICT(version) DO NOTHING", (version, _json(card or {}), now()))

    def models(self) -> list[dict]:
        rows = self.conn.execute("SELECT version, card, first_seen FROM models ORDER BY first_seen").fetchall()
        return [{"version": r["version"], "card": _loads(r["card"]), "first_seen": r["first_seen"]} for r in rows]

    # --- documents --------------------------------------------------------------------------------

    def document_status(self) -> dict[str, str]:
        """doc_id → status (done | failed) of every stored document."""
        return {r[0]: r[1] for r in self.conn.execute("SELECT doc_id, status FROM documents")}

    def document(self, doc_id: str) -> dict | None:
        row = self.conn.execute("SELECT * FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        return _document_dict(row) if row else None

    def documents(self) -> list[dict]:
        rows = self.conn.execute(
            "SELECT doc_id, name, path, kind, status, error, pages, doc_date, layout, n_cases, chars, "
            "current, previous, run_id, added_at FROM documents ORDER BY added_at, name").fetchall()
        return [dict(r) for r in rows]

    def save_document(self, doc: dict, cases: list[dict], run_id: int | None, model_version: str | None) -> bool:
        """Store one processed document with all its cases and values, atomically.

        `doc`: doc_id, name, path, kind, pages [[n, start, end, needs_ocr]], doc_date, encoding,
        warnings, text. `cases`: `jirei extract` records. A failed earlier attempt of the same
        bytes is replaced; an earlier version of the same path stops being current. False when the
        same bytes are stored already (under another name, or by another process meanwhile)."""
        stamp = now()
        layout = cases[0]["layout"] if cases else None
        with self.transaction() as db:
            prior = db.execute("SELECT status FROM documents WHERE doc_id = ?", (doc["doc_id"],)).fetchone()
            if prior is not None and prior["status"] == "done":
                return False  # the same bytes under another name, or another run stored them
            if prior is not None:
                db.execute("DELETE FROM documents WHERE doc_id = ?", (doc["doc_id"],))
            previous = self._supersede_path(db, doc["path"], doc["doc_id"])
            db.execute(
                "INSERT INTO documents (doc_id, name, path, kind, status, error, pages, page_spans, doc_date, "
                "encoding, warnings, layout, n_cases, chars, text, model_version, previous, current, run_id, added_at) "
                "VALUES (?, ?, ?, ?, 'done', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                (doc["doc_id"], doc["name"], doc["path"], doc.get("kind"), len(doc.get("pages") or []) or None,
                 _json(doc.get("pages") or []), doc.get("doc_date"), doc.get("encoding"),
                 _json(doc.get("warnings") or []), layout, len(cases), len(doc.get("text") or ""),
                 doc.get("text"), model_version, previous, run_id, stamp))
            for record in cases:
                self._insert_case(db, record, stamp, run_id, model_version)
            for box in doc.get("page_boxes") or []:
                db.execute("INSERT INTO page_boxes (doc_id, page, width, height, lines) VALUES (?, ?, ?, ?, ?)",
                           (doc["doc_id"], box["page"], box["width"], box["height"], _json(box["lines"])))
        return True

    def record_failure(self, doc: dict, error: str, run_id: int | None) -> None:
        """A document that could not be processed: kept with its reason (no cases)."""
        with self.transaction() as db:
            prior = db.execute("SELECT status FROM documents WHERE doc_id = ?", (doc["doc_id"],)).fetchone()
            if prior is not None and prior["status"] == "done":
                return
            db.execute(
                "INSERT INTO documents (doc_id, name, path, kind, status, error, run_id, added_at) "
                "VALUES (?, ?, ?, ?, 'failed', ?, ?, ?) "
                "ON CONFLICT(doc_id) DO UPDATE SET name = excluded.name, path = excluded.path, "
                "error = excluded.error, run_id = excluded.run_id, added_at = excluded.added_at",
                (doc["doc_id"], doc["name"], doc["path"], doc.get("kind"), error, run_id, now()))

    def failures(self) -> list[dict]:
        rows = self.conn.execute("SELECT doc_id, name, path, error, added_at FROM documents "
                                 "WHERE status = 'failed' ORDER BY added_at").fetchall()
        return [dict(r) for r in rows]

    @staticmethod
    def _supersede_path(db: sqlite3.Connection, path: str, doc_id: str) -> str | None:
        row = db.execute("SELECT doc_id FROM documents WHERE path = ? AND status = 'done' AND current = 1 "
                         "AND doc_id != ? ORDER BY added_at DESC LIMIT 1", (path, doc_id)).fetchone()
        if row is None:
            return None
        db.execute("UPDATE documents SET current = 0 WHERE path = ? AND doc_id != ?", (path, doc_id))
        return row["doc_id"]

    def _insert_case(self, db: sqlite3.Connection, record: dict, stamp: str, run_id: int | None,
                     model_version: str | None) -> None:
        span = record["span"]
        db.execute(
            "INSERT INTO cases (case_id, doc_id, ordinal, title, text, span_start, span_end, page, section, "
            "layout, needs_review, margin, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (record["case_id"], record["doc_id"], record["ordinal"], record["title"], record["text"], span[0],
             span[1], record.get("page"), _json(record.get("section") or []), record["layout"],
             int(bool(record.get("needs_review"))), pillar_margin(record.get("pillars") or []), stamp))
        for field in VALUE_FIELDS:
            self._write_values(db, record["case_id"], field, _as_list(field, record.get(field)), model_version)
        db.execute("INSERT INTO history (case_id, at, who, field, old, new, model_version, run_id) "
                   "VALUES (?, ?, 'batch', 'case', NULL, ?, ?, ?)",
                   (record["case_id"], stamp, _json({"doc_id": record["doc_id"], "ordinal": record["ordinal"]}),
                    model_version, run_id))

    @staticmethod
    def _write_values(db: sqlite3.Connection, case_id: str, field: str, values: list, model_version: str | None,
                      source: str | None = None) -> None:
        db.execute("DELETE FROM case_values WHERE case_id = ? AND field = ?", (case_id, field))
        for position, value in enumerate(values):
            start, end = _span(value)
            score = value.get("score") if isinstance(value, dict) else None
            db.execute(
                "INSERT INTO case_values (case_id, field, position, value, key, source, score, span_start, span_end) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (case_id, field, position, _json(value), value_key(field, value),
                 source or value_source(field, value, model_version), score, start, end))

    # --- reading cases ----------------------------------------------------------------------------

    def case_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM cases").fetchone()[0]

    def case(self, case_id: str) -> dict | None:
        """The case as a `jirei extract` record, plus `review_status`, `version`, `sources`
        (field → sources of its values) and `history_count`."""
        records = self._records("WHERE c.case_id = ?", [case_id])
        return records[0] if records else None

    def cases(self, case_ids: list[str]) -> list[dict]:
        """Several cases by id, in the order given (unknown ids are left out)."""
        found: dict[str, dict] = {}
        for chunk in _chunks(list(case_ids), 500):
            marks = ",".join("?" * len(chunk))
            for r in self._records(f"WHERE c.case_id IN ({marks})", list(chunk)):
                found[r["case_id"]] = r
        return [found[i] for i in case_ids if i in found]

    def query_cases(self, query: CaseQuery) -> tuple[list[dict], int]:
        """Cases matching the filters (records as `case()` gives them) and how many match in all."""
        where, params = self._where(query)
        total = self.conn.execute(f"SELECT count(*) FROM cases c JOIN documents d USING (doc_id) {where}",
                                  params).fetchone()[0]
        order = ("ORDER BY (c.review_status = 'reviewed'), c.needs_review DESC, coalesce(c.margin, 1), c.case_id"
                 if query.order == "queue" else "ORDER BY d.added_at, d.name, c.span_start, c.ordinal")
        limit = " LIMIT ? OFFSET ?" if query.limit is not None else ""
        extra = [query.limit, query.offset] if query.limit is not None else []
        return self._records(f"{where} {order}{limit}", params + extra), total

    def iter_case_ids(self, query: CaseQuery | None = None) -> list[str]:
        where, params = self._where(query or CaseQuery())
        rows = self.conn.execute(f"SELECT c.case_id FROM cases c JOIN documents d USING (doc_id) {where} "
                                 "ORDER BY d.added_at, d.name, c.span_start, c.ordinal", params).fetchall()
        return [r[0] for r in rows]

    def _where(self, q: CaseQuery, *, along_index: bool = False) -> tuple[str, list]:
        """The filters as a WHERE clause. Filters on values are set memberships (`IN`), the fast
        way to count or list every match; `along_index` writes them as a lookup per case
        (`EXISTS` on case_values' primary key) for the queries that walk cases in an index's
        order and stop after a page (a page, the next case): they then never build the set of
        all matches (a pillar's 25,000 cases of 100,000)."""
        # Each clause is a fixed SQL fragment; only the parameters vary.
        clauses, params = [], []
        clauses.append("c.superseded IS NULL")  # split or merged away: kept, never listed

        def values(condition: str) -> str:
            if along_index:
                # unary + keeps the planner on the primary key (case_id, field): one lookup per case,
                # never a scan of an index's range of keys, scores or sources for each case
                for column in ("v.key", "v.score", "v.source"):
                    condition = condition.replace(column, "+" + column)
                return f"EXISTS (SELECT 1 FROM case_values v WHERE v.case_id = c.case_id AND {condition})"
            return f"c.case_id IN (SELECT v.case_id FROM case_values v WHERE {condition})"

        if not q.all_versions:
            # a set of the (few) older versions' ids, from an index: no lookup of each case's document
            clauses.append("c.doc_id NOT IN (SELECT doc_id FROM documents WHERE current = 0)")
        if q.doc_id:
            clauses.append("c.doc_id LIKE ?")
            params.append(q.doc_id + "%")
        if q.pillar:
            clauses.append("c.pillar_key = ?")
            params.append(q.pillar)
        if q.item is not None:
            clauses.append(values("v.field = 'action_items' AND v.key = ?"))
            params.append(str(q.item))
        if q.prefecture:
            clauses.append(values("v.field = 'places' AND v.key = ?"))
            params.append(q.prefecture)
        if q.needs_review is not None:
            clauses.append("c.needs_review = ?")
            params.append(int(q.needs_review))
        if q.reviewed is not None:
            clauses.append("c.review_status " + ("=" if q.reviewed else "!=") + " 'reviewed'")
        if q.score_min is not None or q.score_max is not None:
            clauses.append("c.pillar_score BETWEEN ? AND ?")
            params += [q.score_min if q.score_min is not None else -1.0,
                       q.score_max if q.score_max is not None else 2.0]
        if q.margin_min is not None:
            clauses.append("coalesce(c.margin, 1) >= ?")
            params.append(q.margin_min)
        if q.margin_max is not None:
            clauses.append("coalesce(c.margin, 1) <= ?")
            params.append(q.margin_max)
        if q.model:
            clauses.append(values("v.field = 'pillar' AND v.source = ?"))
            params.append(model_source(q.model))
        if q.reviewer:
            clauses.append(values("v.field = 'pillar' AND v.source = ?"))
            params.append(f"reviewer:{q.reviewer}")
        if q.assignee:
            clauses.append("c.case_id IN (SELECT a.case_id FROM assignments a WHERE a.reviewer = ? "
                           "AND a.done_at IS NULL)")
            params.append(q.assignee)
        if q.disagreement:
            clauses.append("c.case_id IN (SELECT b.case_id FROM blind_labels b WHERE b.status = 'disagree')")
        if q.has_notes:
            clauses.append(values("v.field = 'notes'"))
        if q.search:
            long_terms, short_terms = search_terms(q.search)
            if long_terms:
                # along an index: the matches as a set each case of the walk is looked up in (unary +),
                # not a lookup of each match and a sort of them all (a word in 1 case of 5 at
                # 100,000 cases: 21 ms to 9 ms for a page)
                clauses.append(("+" if along_index else "") +
                               "c.rowid IN (SELECT rowid FROM cases_fts WHERE cases_fts MATCH ?)")
                params.append(" ".join(_fts_phrase(t) for t in long_terms))
            for term in short_terms:
                clauses.append("c.text LIKE ? ESCAPE '\\'")
                params.append(_like_pattern(term))
            if not long_terms and not short_terms:
                clauses.append("0")
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", params

    def _records(self, tail: str, params: list) -> list[dict]:
        with self.snapshot() as db:
            rows = db.execute(
                "SELECT c.*, d.name AS doc_name, "
                "(SELECT count(*) FROM history h WHERE h.case_id = c.case_id) AS history_count "
                f"FROM cases c JOIN documents d USING (doc_id) {tail}", params).fetchall()
            ids = [r["case_id"] for r in rows]
            values: dict[str, dict[str, list]] = {i: {} for i in ids}
            sources: dict[str, dict[str, list]] = {i: {} for i in ids}
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                for v in db.execute(f"SELECT case_id, field, value, source FROM case_values "
                                    f"WHERE case_id IN ({marks}) ORDER BY case_id, field, position", chunk):
                    values[v["case_id"]].setdefault(v["field"], []).append(_loads(v["value"]))
                    sources[v["case_id"]].setdefault(v["field"], []).append(v["source"])
        return [_record(r, values[r["case_id"]], sources[r["case_id"]]) for r in rows]

    def history(self, case_id: str) -> list[dict]:
        rows = self.conn.execute("SELECT * FROM history WHERE case_id = ? ORDER BY id", (case_id,)).fetchall()
        return [{**dict(r), "old": _loads(r["old"]), "new": _loads(r["new"])} for r in rows]

    # --- changing cases ---------------------------------------------------------------------------

    def set_field(self, case_id: str, field: str, new: Any, who: str, *, source: str | None = None,
                  model_version: str | None = None, expected_version: int | None = None,
                  run_id: int | None = None, note: str | None = None) -> int:
        """Replace one field of a case, write the change to the history, bump the case version.

        `source` tags the new values (e.g. `reviewer:ana`); None keeps each value's own. With
        `expected_version`, a case changed since it was read raises ConflictError and nothing is
        written. Returns the new version."""
        with self.transaction() as db:
            return self._set_field(db, case_id, field, new, who, source=source, model_version=model_version,
                                   expected_version=expected_version, run_id=run_id, note=note)

    def _set_field(self, db, case_id, field, new, who, *, source, model_version, expected_version, run_id,
                   note) -> int:
        row = db.execute("SELECT version FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no case {case_id}")
        if expected_version is not None and row["version"] != expected_version:
            changes = [h for h in self._history_rows(db, case_id) if h["who"] not in ("batch",)][-5:]
            raise ConflictError(case_id, expected_version, row["version"], changes)
        old = self._field_value(db, case_id, field)
        if _json(old) == _json(new):
            return row["version"]
        if field in VALUE_FIELDS:
            self._write_values(db, case_id, field, _as_list(field, new), model_version, source=source)
            if field == "pillars":
                db.execute("UPDATE cases SET margin = ? WHERE case_id = ?", (pillar_margin(new or []), case_id))
        elif field in ("needs_review", "review_status", "title"):
            value = int(bool(new)) if field == "needs_review" else str(new)
            db.execute(f"UPDATE cases SET {field} = ? WHERE case_id = ?", (value, case_id))  # field: fixed names
        else:
            raise StoreError(f"{self.path}: field {field!r} cannot be set")
        version = row["version"] + 1
        db.execute("UPDATE cases SET version = ?, updated_at = ? WHERE case_id = ?", (version, now(), case_id))
        db.execute("INSERT INTO history (case_id, at, who, field, old, new, model_version, run_id, note) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (case_id, now(), who, field, _json(old), _json(new), model_version, run_id, note))
        return version

    @staticmethod
    def _history_rows(db, case_id: str) -> list[dict]:
        rows = db.execute("SELECT * FROM history WHERE case_id = ? ORDER BY id", (case_id,)).fetchall()
        return [{**dict(r), "old": _loads(r["old"]), "new": _loads(r["new"])} for r in rows]

    @staticmethod
    def _field_value(db, case_id: str, field: str) -> Any:
        if field in ("needs_review", "review_status", "title"):
            value = db.execute(f"SELECT {field} FROM cases WHERE case_id = ?", (case_id,)).fetchone()[0]
            return bool(value) if field == "needs_review" else value
        values = [_loads(r[0]) for r in db.execute(
            "SELECT value FROM case_values WHERE case_id = ? AND field = ? ORDER BY position", (case_id, field))]
        if field in SINGLE_FIELDS:
            return values[0] if values else None
        return values

    def undo(self, entry_id: int, who: str, *, source: str | None = None,
             expected_version: int | None = None) -> int:
        """Undo one history entry: a new entry that puts the field's old value back."""
        row = self.conn.execute("SELECT * FROM history WHERE id = ?", (entry_id,)).fetchone()
        if row is None or row["field"] == "case":
            raise StoreError(f"{self.path}: no change #{entry_id} to undo")
        return self.set_field(row["case_id"], row["field"], _loads(row["old"]), who, source=source,
                              expected_version=expected_version, note=f"undo #{entry_id}")

    def reviewer_fields(self, case_id: str, fields: Iterable[str]) -> list[str]:
        """The fields of `fields` whose current value a reviewer set (relabelling leaves them alone)."""
        return [f for f in fields if self._reviewer_owns(self.conn, case_id, f)]

    @staticmethod
    def _reviewer_owns(db, case_id: str, field: str) -> bool:
        """A reviewer set this field: a value carries a reviewer's source, or the field is empty
        and its last change was a reviewer's (cleared action items leave no value to carry one)."""
        sources = [r[0] or "" for r in db.execute(
            "SELECT source FROM case_values WHERE case_id = ? AND field = ? ORDER BY position", (case_id, field))]
        if sources:
            return any(s.startswith("reviewer") for s in sources)
        last = db.execute("SELECT who, note FROM history WHERE case_id = ? AND field = ? ORDER BY id DESC LIMIT 1",
                          (case_id, field)).fetchone()
        if last is None or last["who"] == "batch" or last["who"].startswith("model"):
            return False
        # an undo puts back whatever was there before: the model's empty value as often as a reviewer's
        return not (last["note"] or "").startswith("undo")

    def relabel_case(self, case_id: str, labels: dict[str, Any], needs_review: bool, model_version: str,
                     run_id: int | None) -> list[str]:
        """Apply a model's labels to one case; fields holding a reviewer's value are left alone.
        Returns the fields changed."""
        changed = []
        with self.transaction() as db:
            for field, new in labels.items():
                if self._reviewer_owns(db, case_id, field):
                    continue
                before = self._field_value(db, case_id, field)
                if _json(before) != _json(new):
                    self._set_field(db, case_id, field, new, model_source(model_version), source=None,
                                    model_version=model_version, expected_version=None, run_id=run_id, note=None)
                    changed.append(field)
            reviewed = db.execute("SELECT review_status FROM cases WHERE case_id = ?", (case_id,)).fetchone()[0]
            if reviewed != "reviewed" and self._field_value(db, case_id, "needs_review") != needs_review:
                self._set_field(db, case_id, "needs_review", needs_review, model_source(model_version), source=None,
                                model_version=model_version, expected_version=None, run_id=run_id, note=None)
                changed.append("needs_review")
        return changed

    # --- users (the reviewer app) -----------------------------------------------------------------

    def add_user(self, name: str, role: str, password_hash: str, *, keep_session: str | None = None) -> int:
        """Add a user, or set an existing one's role and password (and enable them). A new
        password ends the user's sessions (all but `keep_session`, a token hash); demoting the
        last active admin raises LastAdminError and changes nothing. Returns the sessions ended."""
        with self.transaction() as db:
            old = db.execute("SELECT role, password_hash, active FROM users WHERE name = ?", (name,)).fetchone()
            if old is not None and role != "admin":
                self._keep_an_admin(db, name)
            db.execute("INSERT INTO users (name, role, password_hash, created_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT(name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash, "
                       "active = 1", (name, role, password_hash, now()))
            if old is not None and old["password_hash"] != password_hash:
                return self._end_sessions(db, name, keep_session)
            return 0

    def rehash_password(self, name: str, password_hash: str) -> None:
        """The same password under a newer hash (at login): the user's sessions go on."""
        with self.transaction() as db:
            db.execute("UPDATE users SET password_hash = ? WHERE name = ?", (password_hash, name))

    def user(self, name: str) -> dict | None:
        row = self.conn.execute("SELECT * FROM users WHERE name = ? AND active = 1", (name,)).fetchone()
        return dict(row) if row else None

    def users(self) -> list[dict]:
        return [dict(r) for r in self.conn.execute("SELECT name, role, active, created_at FROM users ORDER BY name")]

    def set_user_active(self, name: str, active: bool) -> bool:
        """Let a user log in again, or stop them (their history stays; their sessions end at once).
        Disabling the last active admin raises LastAdminError. False for an unknown name."""
        with self.transaction() as db:
            if not active:
                self._keep_an_admin(db, name)
            cur = db.execute("UPDATE users SET active = ? WHERE name = ?", (int(bool(active)), name))
            if cur.rowcount and not active:
                self._end_sessions(db, name, None)
            return cur.rowcount > 0

    def _keep_an_admin(self, db, name: str) -> None:
        """Refuse, inside the caller's transaction, to demote or disable the last active admin."""
        admins = [r[0] for r in db.execute("SELECT name FROM users WHERE role = 'admin' AND active = 1")]
        if admins == [name]:
            raise LastAdminError(f"{self.path}: {name} is the last active admin; make another user admin first")

    # --- sessions of the reviewer app ---------------------------------------------------------------

    def start_session(self, token_hash: str, user: str, client: str | None, expires_at: str,
                      purge_before: str) -> None:
        """A new session; sessions that expired before `purge_before` are deleted on the way."""
        stamp = now()
        with self.transaction() as db:
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (purge_before,))
            db.execute("DELETE FROM drafts WHERE saved_at < ?", (purge_before,))
            db.execute("INSERT INTO sessions (token_hash, user, created_at, last_seen, expires_at, client) "
                       "VALUES (?, ?, ?, ?, ?, ?)", (token_hash, user, stamp, stamp, expires_at, client))

    def session(self, token_hash: str) -> dict | None:
        """A session with its user's row (`role`, `active`), expired or not; None once ended."""
        row = self.conn.execute(
            "SELECT s.token_hash, s.user, s.created_at, s.last_seen, s.expires_at, s.client, s.flash, u.role, "
            "u.active FROM sessions s JOIN users u ON u.name = s.user WHERE s.token_hash = ?",
            (token_hash,)).fetchone()
        if row is None:
            return None
        return {**dict(row), "flash": _loads(row["flash"]), "active": bool(row["active"])}

    def touch_session(self, token_hash: str, at: str) -> None:
        with self.transaction(durable=False) as db:
            db.execute("UPDATE sessions SET last_seen = ? WHERE token_hash = ?", (at, token_hash))

    def end_session(self, token_hash: str) -> None:
        with self.transaction() as db:
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    def end_user_sessions(self, name: str, keep: str | None = None) -> int:
        """End every session of `name` but `keep` (a token hash); how many ended."""
        with self.transaction() as db:
            return self._end_sessions(db, name, keep)

    @staticmethod
    def _end_sessions(db, name: str, keep: str | None) -> int:
        return db.execute("DELETE FROM sessions WHERE user = ? AND token_hash IS NOT ?", (name, keep)).rowcount

    def user_sessions(self, name: str) -> list[dict]:
        rows = self.conn.execute("SELECT created_at, last_seen, expires_at, client FROM sessions WHERE user = ? "
                                 "ORDER BY created_at", (name,)).fetchall()
        return [dict(r) for r in rows]

    def push_flash(self, token_hash: str, kind: str, text: str) -> None:
        with self.transaction(durable=False) as db:
            row = db.execute("SELECT flash FROM sessions WHERE token_hash = ?", (token_hash,)).fetchone()
            if row is not None:
                db.execute("UPDATE sessions SET flash = ? WHERE token_hash = ?",
                           (_json(_loads(row["flash"]) + [[kind, text]]), token_hash))

    def clear_flash(self, token_hash: str) -> None:
        with self.transaction(durable=False) as db:
            db.execute("UPDATE sessions SET flash = '[]' WHERE token_hash = ?", (token_hash,))

    # --- failed logins of the reviewer app ----------------------------------------------------------

    def login_failures(self, name: str, address: str, since: str) -> dict[str, tuple[int, str | None]]:
        """The failed logins since `since`: {"name": (count, earliest) of `name` from `address`,
        "address": (count, earliest) of every name from `address`}."""
        return self._login_failures(self.conn, name, address, since)

    @staticmethod
    def _login_failures(db, name: str, address: str, since: str) -> dict[str, tuple[int, str | None]]:
        pair = db.execute("SELECT count(*), min(at) FROM login_failures WHERE address = ? AND name = ? AND at >= ?",
                          (address, name, since)).fetchone()
        every = db.execute("SELECT count(*), min(at) FROM login_failures WHERE address = ? AND at >= ?",
                           (address, since)).fetchone()
        return {"name": (pair[0], pair[1]), "address": (every[0], every[1])}

    def login_attempt(self, name: str, address: str, *, at: str, since: str, limit: int,
                      address_limit: int) -> tuple[bool, dict[str, tuple[int, str | None]]]:
        """One login try, counted as failed unless `clear_login_failures` follows: in one write
        transaction the failures since `since` are counted and, if `name` from `address` has fewer
        than `limit` and `address` fewer than `address_limit`, a failure at `at` is added (so tries
        sent at once to different processes never get past the limits together). Failures
        before `since` are deleted on the way. Returns (counted, the counts before this try)."""
        with self.transaction() as db:
            db.execute("DELETE FROM login_failures WHERE at < ?", (since,))
            counts = self._login_failures(db, name, address, since)
            allowed = counts["name"][0] < limit and counts["address"][0] < address_limit
            if allowed:
                db.execute("INSERT INTO login_failures (name, address, at) VALUES (?, ?, ?)", (name, address, at))
            return allowed, counts

    def clear_login_failures(self, name: str, address: str) -> int:
        """Forget the failed logins of `name` from `address` (a login succeeded); how many."""
        with self.transaction() as db:
            return db.execute("DELETE FROM login_failures WHERE address = ? AND name = ?", (address, name)).rowcount

    def save_draft(self, user: str, case_id: str, form: list[tuple[str, str]]) -> bool:
        """Keep a review form for `user` and the case (replacing an older one). False: no such case."""
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM cases WHERE case_id = ?", (case_id,)).fetchone() is None:
                return False
            db.execute("INSERT INTO drafts (user, case_id, form, saved_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT(user, case_id) DO UPDATE SET form = excluded.form, saved_at = excluded.saved_at",
                       (user, case_id, _json([list(p) for p in form]), now()))
            return True

    def take_draft(self, user: str, case_id: str) -> dict | None:
        """The kept form of `user` for the case, removed from the store: {form: [[k, v], ...], saved_at}."""
        # every case page asks: a plain read first, a write transaction only when there is one
        if self.conn.execute("SELECT 1 FROM drafts WHERE user = ? AND case_id = ?", (user, case_id)).fetchone() is None:
            return None
        with self.transaction() as db:
            row = db.execute("SELECT form, saved_at FROM drafts WHERE user = ? AND case_id = ?",
                             (user, case_id)).fetchone()
            if row is None:  # taken meanwhile by another request of the same user
                return None
            db.execute("DELETE FROM drafts WHERE user = ? AND case_id = ?", (user, case_id))
            return {"form": [tuple(p) for p in _loads(row["form"])], "saved_at": row["saved_at"]}

    # --- comparing stores (tests, resume checks) --------------------------------------------------

    def content_digest(self) -> dict[str, Any]:
        """Everything a batch stores, without times and run ids: two stores holding the same
        documents and cases give equal digests however their runs went."""
        with self.snapshot() as db:
            docs = [dict(r) for r in db.execute(
                "SELECT doc_id, name, path, kind, status, error, pages, page_spans, doc_date, encoding, warnings, "
                "layout, n_cases, chars, text, model_version, previous, current FROM documents ORDER BY doc_id")]
            cases = [dict(r) for r in db.execute(
                "SELECT case_id, doc_id, ordinal, title, text, span_start, span_end, page, section, layout, "
                "needs_review, margin, review_status, version FROM cases ORDER BY case_id")]
            values = [tuple(r) for r in db.execute(
                "SELECT case_id, field, position, value, key, source, score, span_start, span_end "
                "FROM case_values ORDER BY case_id, field, position")]
            history = [tuple(r) for r in db.execute(
                "SELECT case_id, who, field, old, new, model_version FROM history ORDER BY case_id, id")]
        return {"documents": docs, "cases": cases, "values": values, "history": history}

    # --- reviewer app queries ---------------------------------------------------------------------

    # The review queue's order as a row value: unreviewed first, then cases the model flagged, then
    # the smallest margin between the two best pillars; the same order as query_cases(order='queue').
    _QUEUE_KEY = "(c.review_status = 'reviewed'), 1 - c.needs_review, coalesce(c.margin, 1), c.case_id"

    def set_fields(self, case_id: str, changes: dict[str, Any], who: str, *, source: str | None = None,
                   model_version: str | None = None, expected_version: int | None = None,
                   note: str | None = None) -> int:
        """Several fields of one case in ONE transaction with ONE version check: all are written
        (one history entry per changed field, all carrying `note`) or none is. `source` tags the
        new values of value fields, as in `set_field`. Returns the new version."""
        with self.transaction() as db:
            row = db.execute("SELECT version FROM cases WHERE case_id = ?", (case_id,)).fetchone()
            if row is None:
                raise StoreError(f"{self.path}: no case {case_id}")
            version, check = row["version"], expected_version
            for field, new in changes.items():
                # the version is checked once, before the first write; later fields see our own bumps
                version = self._set_field(db, case_id, field, new, who, source=source, model_version=model_version,
                                          expected_version=check, run_id=None, note=note)
                check = None
            if check is not None and version != check:  # no fields given: still report a stale read
                recent = [h for h in self._history_rows(db, case_id) if h["who"] != "batch"][-5:]
                raise ConflictError(case_id, check, version, recent)
            self._after_review(db, case_id, changes)
            return version

    def undo_entries(self, entry_ids: list[int], who: str, *, expected_version: int | None = None) -> int:
        """Undo several history entries of one case (e.g. one save) in one transaction: new
        entries, newest first, each putting its field's old value back (note `undo #<id>`)."""
        if not entry_ids:
            raise StoreError(f"{self.path}: nothing to undo")
        with self.transaction() as db:
            marks = ",".join("?" * len(entry_ids))
            rows = db.execute(f"SELECT * FROM history WHERE id IN ({marks}) ORDER BY id DESC",
                              [int(i) for i in entry_ids]).fetchall()
            if len(rows) != len(set(entry_ids)) or any(r["field"] == "case" for r in rows):
                raise StoreError(f"{self.path}: no such changes to undo")
            if len({r["case_id"] for r in rows}) != 1:
                raise StoreError(f"{self.path}: changes of several cases cannot be undone together")
            version, check = None, expected_version
            for r in rows:
                version = self._set_field(db, r["case_id"], r["field"], _loads(r["old"]), who, source=None,
                                          model_version=r["model_version"], expected_version=check, run_id=None,
                                          note=f"undo #{r['id']}")
                check = None
            self._refresh_blind(db, rows[0]["case_id"])
            return version

    def queue_neighbours(self, query: CaseQuery, case_id: str) -> dict | None:
        """The case ids before and after a case in queue order (as `query_cases(order='queue')`)
        under `query`'s filters, and whether the filters keep the case itself. Read along the
        queue index: no count, no sort, whatever the store's size."""
        where, params = self._where(query, along_index=not query.sparse)
        base = f"FROM cases c {where}{' AND ' if where else 'WHERE '}"
        with self.snapshot() as db:
            key = db.execute(f"SELECT {self._QUEUE_KEY} FROM cases c WHERE c.case_id = ?", (case_id,)).fetchone()
            if key is None:
                return None
            key = list(key)
            inside = db.execute(f"SELECT 1 {base}c.case_id = ?", params + [case_id]).fetchone() is not None
            prev = self._seek(db, base, params, key, after=False)
            after = self._seek(db, base, params, key, after=True)
        return {"inside": inside, "prev": prev, "next": after}

    _QUEUE_COLUMNS = ("(c.review_status = 'reviewed')", "1 - c.needs_review", "coalesce(c.margin, 1)", "c.case_id")

    def _seek(self, db, base: str, params: list, key: list, *, after: bool) -> str | None:
        """The first case after (or the last before) `key` in queue order. SQLite uses no index on
        expressions for a row-value comparison (`(a, b, c, d) > (?, ?, ?, ?)` scanned the queue
        from its start: milliseconds per case page at 100,000 cases), so it is asked as up to
        four index seeks, nearest first: equal on the key's first columns, beyond it on the next."""
        op, direction = (">", "") if after else ("<", " DESC")
        cols = self._QUEUE_COLUMNS
        for i in range(len(cols) - 1, -1, -1):
            cond = " AND ".join([f"{c} = ?" for c in cols[:i]] + [f"{cols[i]} {op} ?"])
            # The ORDER BY leaves out the columns the seek holds equal: SQLite (3.40) does not see
            # that an equality on an indexed expression keeps the index's order, and sorted the
            # whole range instead (tens of milliseconds on a pillar's queue of 25,000 cases).
            order = ", ".join(c + direction for c in cols[i:])
            row = db.execute(f"SELECT c.case_id {base}{cond} ORDER BY {order} LIMIT 1", params + key[:i + 1]).fetchone()
            if row is not None:
                return row[0]
        return None

    def first_unreviewed(self, query: CaseQuery, exclude: str | None = None) -> str | None:
        """The first case in queue order under `query`'s filters that is not reviewed (other than
        `exclude`), or None: then the filtered queue is complete. Read along the queue index."""
        where, params = self._where(query, along_index=not query.sparse)
        clauses = [where[len("WHERE "):]] if where else []
        clauses.append("c.review_status != 'reviewed'")
        if exclude:
            clauses.append("c.case_id != ?")
            params = params + [exclude]
        row = self.conn.execute(f"SELECT c.case_id FROM cases c WHERE {' AND '.join(clauses)} "
                                f"ORDER BY {self._QUEUE_KEY} LIMIT 1", params).fetchone()
        return row[0] if row else None

    def is_reviewed(self, case_id: str) -> bool | None:
        row = self.conn.execute("SELECT review_status FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return None if row is None else row[0] == "reviewed"

    def change_counter(self) -> int:
        """A number that grows with every change of case data: every write of a case or a value
        adds a history entry. Caches of queue counts are keyed on it."""
        return self.conn.execute("SELECT coalesce(max(id), 0) FROM history").fetchone()[0]

    # The queue's sorts besides its own order: name -> ORDER BY, each read along an index
    # (migration 7). `score` sorts by the pillar's probability and lists cases that have a pillar.
    QUEUE_SORTS = {
        "margin": "coalesce(c.margin, 1), c.case_id", "-margin": "coalesce(c.margin, 1) DESC, c.case_id DESC",
        "title": "c.title, c.case_id", "-title": "c.title DESC, c.case_id DESC",
        "updated": "c.updated_at, c.case_id", "-updated": "c.updated_at DESC, c.case_id DESC",
        "score": "pv.score, pv.case_id", "-score": "pv.score DESC, pv.case_id DESC",
    }

    def queue_page(self, query: CaseQuery, *, with_text: bool = False) -> list[dict]:
        """One page of the review queue (query.limit, query.offset) as the queue table shows it:
        case_id, title, doc, page, needs_review, review_status, margin, version, and the values of
        pillar, action_items and the first organisation and place (with their sources), whether
        it has notes and its blind double labelling's status. In queue order, or in
        `query.order` when it names one of QUEUE_SORTS. Read along an index, and only the values
        shown: a page costs the same at any size. `with_text` adds the case text (for snippets)."""
        where, params = self._where(query, along_index=not query.sparse)
        columns = ("c.case_id, c.title, d.name AS doc, c.page, c.needs_review, c.review_status, c.margin, "
                   "c.version, c.updated_at" + (", c.text" if with_text else ""))
        limit = [query.limit if query.limit is not None else -1, query.offset]
        with self.snapshot() as db:
            if query.order in ("score", "-score"):
                # driven by case_values(field, score): the pillar values in score order, then their cases
                cond = where.replace("WHERE ", "AND ", 1) if where else ""
                scored = ""
                if query.score_min is not None or query.score_max is not None:
                    # the score filter as a range of the index the sort reads (else it reads every
                    # score above the range first)
                    scored = "AND pv.score BETWEEN ? AND ? "
                    params = [query.score_min if query.score_min is not None else -1.0,
                              query.score_max if query.score_max is not None else 2.0] + params
                sql = (f"SELECT c.case_id FROM case_values pv CROSS JOIN cases c ON c.case_id = pv.case_id "
                       f"WHERE pv.field = 'pillar' {scored}{cond} "
                       f"ORDER BY {self.QUEUE_SORTS[query.order]} LIMIT ? OFFSET ?")
            else:
                order = self.QUEUE_SORTS.get(query.order, self._QUEUE_KEY)
                sql = f"SELECT c.case_id FROM cases c {where} ORDER BY {order} LIMIT ? OFFSET ?"
            # Two steps: the page's case ids, found and sorted along indexes alone (a filter that keeps
            # a set of cases sorts only their ids), then the shown columns of the page's cases.
            ids = [r[0] for r in db.execute(sql, params + limit)]
            rows = {}
            for chunk in _chunks(ids, 500):
                marks = ",".join("?" * len(chunk))
                for r in db.execute(f"SELECT {columns} FROM cases c JOIN documents d ON d.doc_id = c.doc_id "
                                    f"WHERE c.case_id IN ({marks})", chunk):
                    rows[r["case_id"]] = r
            out = {i: {**dict(rows[i]), "needs_review": bool(rows[i]["needs_review"]), "pillar": None,
                       "pillar_source": None, "action_items": [], "organisation": None, "place": None,
                       "notes": 0, "blind": None}
                   for i in ids}
            for chunk in _chunks(list(out), 500):
                marks = ",".join("?" * len(chunk))
                for v in db.execute(
                        f"SELECT case_id, field, value, source FROM case_values WHERE case_id IN ({marks}) AND "
                        "(field IN ('pillar', 'action_items', 'notes') OR (field IN ('organisations', 'places') "
                        "AND position = 0)) ORDER BY case_id, field, position", chunk):
                    row, value = out[v["case_id"]], _loads(v["value"])
                    if v["field"] == "pillar":
                        row["pillar"], row["pillar_source"] = value, v["source"]
                    elif v["field"] == "action_items":
                        row["action_items"].append(value)
                    elif v["field"] == "notes":
                        row["notes"] += 1
                    else:
                        row["organisation" if v["field"] == "organisations" else "place"] = value
                for b in db.execute(f"SELECT case_id, status FROM blind_labels WHERE case_id IN ({marks})", chunk):
                    out[b["case_id"]]["blind"] = b["status"]
        return list(out.values())

    def queue_counts(self, query: CaseQuery) -> dict[str, int]:
        """How many cases the filters match, how many of them are reviewed, how many need review."""
        where, params = self._where(query)
        row = self.conn.execute(
            "SELECT count(*), coalesce(sum(c.review_status = 'reviewed'), 0), coalesce(sum(c.needs_review), 0) "
            f"FROM cases c {where}", params).fetchone()
        return {"total": row[0], "reviewed": row[1], "needs_review": row[2]}

    def document_meta(self, doc_id: str) -> dict | None:
        """A document's row without its text (the case page needs the path and pages only)."""
        row = self.conn.execute(
            "SELECT doc_id, name, path, kind, status, pages, page_spans, doc_date, layout, n_cases, chars, "
            "current, added_at FROM documents WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            return None
        d = dict(row)
        d["page_spans"] = _loads(d["page_spans"])
        return d

    def label_history(self, field: str) -> list[dict]:
        """Every change of `field` made by a user of the reviewer app (not batch or model runs),
        on current document versions, oldest first: for the model-vs-reviewer confusion and the
        agreement between reviewers."""
        rows = self.conn.execute(
            "SELECT h.id, h.case_id, h.at, h.who, h.field, h.old, h.new, h.note FROM history h "
            "JOIN cases c ON c.case_id = h.case_id JOIN documents d ON d.doc_id = c.doc_id "
            "WHERE h.field = ? AND d.current = 1 AND h.who IN (SELECT name FROM users) ORDER BY h.id",
            (field,)).fetchall()
        return [{**dict(r), "old": _loads(r["old"]), "new": _loads(r["new"])} for r in rows]

    def reviewer_activity(self) -> list[dict]:
        """Per user of the reviewer app: history entries written, distinct cases touched, and
        the first and last time."""
        rows = self.conn.execute(
            "SELECT u.name AS who, u.role, count(h.id) AS changes, count(DISTINCT h.case_id) AS cases, "
            "min(h.at) AS first_at, max(h.at) AS last_at FROM users u LEFT JOIN history h ON h.who = u.name "
            "GROUP BY u.name, u.role ORDER BY u.name").fetchall()
        return [dict(r) for r in rows]

    def key_counts(self, field: str) -> dict[str, int]:
        """Cases (current document versions) per value key of `field`: prefectures for
        `places`, labels for `pillar`, item numbers for `action_items`."""
        rows = self.conn.execute(
            "SELECT v.key, count(DISTINCT v.case_id) FROM case_values v JOIN cases c ON c.case_id = v.case_id "
            "JOIN documents d ON d.doc_id = c.doc_id WHERE v.field = ? AND d.current = 1 AND c.superseded IS NULL "
            "AND v.key IS NOT NULL "
            "GROUP BY v.key", (field,)).fetchall()
        return {r[0]: r[1] for r in rows}

    def source_counts(self, field: str) -> dict[str, int]:
        """Cases (current document versions) per source of `field`'s value: `model@<version>`,
        `declared`, `reviewer:<name>`; shows how many cases an older model labelled."""
        rows = self.conn.execute(
            "SELECT v.source, count(DISTINCT v.case_id) FROM case_values v JOIN cases c ON c.case_id = v.case_id "
            "JOIN documents d ON d.doc_id = c.doc_id WHERE v.field = ? AND d.current = 1 AND c.superseded IS NULL "
            "GROUP BY v.source",
            (field,)).fetchall()
        return {r[0]: r[1] for r in rows}

    def field_values(self, case_id: str, fields: Iterable[str]) -> dict[str, Any]:
        """Values of a case's fields as set_field stores them, for fields `case()` leaves out of
        its record (`notes`, `segmentation`)."""
        with self.snapshot() as db:
            return {f: self._field_value(db, case_id, f) for f in fields if f in VALUE_FIELDS}

    def analyze(self) -> None:
        """Give SQLite's planner table statistics, so the filters' subqueries on case_values use
        the (field, key) index the right way round (without statistics a prefecture filter over
        10,000 cases took seconds). Sampled (analysis_limit), so it takes milliseconds; `jirei
        batch` runs it at the end and the reviewer app when it starts."""
        self.conn.execute("PRAGMA analysis_limit = 400")
        with self.transaction() as db:
            db.execute("ANALYZE")

    def tune_for_reads(self, mmap_mb: int = 256, cache_mb: int = 16) -> None:
        """Settings of this connection for a server that reads much: the file memory-mapped
        (pages come from the OS cache shared by all connections, without a read() call each) and
        a larger page cache. Under 8 concurrent readers of 10,000 cases this removes most of the
        system time."""
        self.conn.execute(f"PRAGMA mmap_size = {int(mmap_mb) * 1024 * 1024}")
        self.conn.execute(f"PRAGMA cache_size = {-int(cache_mb) * 1024}")

    # --- model jobs and promotion -----------------------------------------------------------------
    # A retrain started from the reviewer app runs in a process of its own; its state is here so
    # any process sees it. The job's process renews `heartbeat_at` while it works; a job whose
    # heartbeat stopped (or whose process is gone) is failed with a reason by whoever looks
    # (`fail_model_job`). The active model is the latest row of the append-only `model_promotions`.

    _JOB_OPEN = ("queued", "running")

    def create_model_job(self, kind: str, who: str, settings: dict, base_version: str | None, steps: int) -> int:
        """A new queued job; refused (JobRunningError) while another job of the same kind is open."""
        with self.transaction() as db:
            row = db.execute("SELECT job_id FROM model_jobs WHERE kind = ? AND status IN (?, ?) ORDER BY job_id",
                             (kind, *self._JOB_OPEN)).fetchone()
            if row is not None:
                raise JobRunningError(f"{self.path}: job {row[0]} ({kind}) is still running; wait for it to finish")
            stamp = now()
            cur = db.execute("INSERT INTO model_jobs (kind, status, requested_by, settings, created_at, heartbeat_at, "
                             "steps, progress, base_version) VALUES (?, 'queued', ?, ?, ?, ?, ?, 'queued', ?)",
                             (kind, who, _json(settings), stamp, stamp, int(steps), base_version))
            return int(cur.lastrowid)

    def model_job_started(self, job_id: int, pid: int, host: str) -> None:
        stamp = now()
        with self.transaction() as db:
            db.execute("UPDATE model_jobs SET status = 'running', started_at = ?, heartbeat_at = ?, pid = ?, host = ? "
                       "WHERE job_id = ? AND status IN ('queued', 'running')", (stamp, stamp, pid, host, job_id))

    def model_job_progress(self, job_id: int, step: int | None = None, text: str | None = None) -> bool:
        """Renew the heartbeat (and the step and its text); False when the job is no longer
        running (failed by someone who found it silent), so its process can stop."""
        with self.transaction() as db:
            cur = db.execute("UPDATE model_jobs SET heartbeat_at = ?, step = coalesce(?, step), "
                             "progress = coalesce(?, progress) WHERE job_id = ? AND status = 'running'",
                             (now(), step, text, job_id))
            return cur.rowcount == 1

    def finish_model_job(self, job_id: int, candidate: str, candidate_dir: str, figures: dict,
                         run_id: int | None) -> bool:
        stamp = now()
        with self.transaction() as db:
            cur = db.execute("UPDATE model_jobs SET status = 'finished', finished_at = ?, heartbeat_at = ?, "
                             "step = steps, progress = 'finished', candidate = ?, candidate_dir = ?, figures = ?, "
                             "run_id = ? WHERE job_id = ? AND status = 'running'",
                             (stamp, stamp, candidate, candidate_dir, _json(figures), run_id, job_id))
            return cur.rowcount == 1

    def fail_model_job(self, job_id: int, error: str, *, stale_before: str | None = None) -> bool:
        """Mark an open job failed with a one-line reason. With `stale_before` only when its
        heartbeat is older than that time (so a job that is still working is left alone)."""
        error = " ".join(str(error).split())[:500]
        with self.transaction() as db:
            cur = db.execute("UPDATE model_jobs SET status = 'failed', finished_at = ?, error = ? "
                             "WHERE job_id = ? AND status IN ('queued', 'running') "
                             "AND (? IS NULL OR coalesce(heartbeat_at, created_at) < ?)",
                             (now(), error, job_id, stale_before, stale_before))
            return cur.rowcount == 1

    def model_job(self, job_id: int) -> dict | None:
        row = self.conn.execute("SELECT * FROM model_jobs WHERE job_id = ?", (job_id,)).fetchone()
        return _job_dict(row) if row else None

    def model_jobs(self, limit: int = 20) -> list[dict]:
        rows = self.conn.execute("SELECT * FROM model_jobs ORDER BY job_id DESC LIMIT ?", (limit,)).fetchall()
        return [_job_dict(r) for r in rows]

    def open_model_jobs(self) -> list[dict]:
        rows = self.conn.execute("SELECT * FROM model_jobs WHERE status IN (?, ?) ORDER BY job_id",
                                 self._JOB_OPEN).fetchall()
        return [_job_dict(r) for r in rows]

    def decide_model_job(self, job_id: int, decision: str, who: str) -> dict:
        """Promote or discard a finished job's candidate, once. Promoting makes it the active model
        (a new row of model_promotions) in the same transaction. Returns the job as decided."""
        if decision not in ("promoted", "discarded"):
            raise ValueError(f"decision {decision!r}: expected promoted or discarded")
        stamp = now()
        with self.transaction() as db:
            row = db.execute("SELECT * FROM model_jobs WHERE job_id = ?", (job_id,)).fetchone()
            if row is None:
                raise StoreError(f"{self.path}: no model job {job_id}")
            if row["status"] != "finished" or not row["candidate"]:
                raise StoreError(f"{self.path}: job {job_id} has no candidate to {decision[:-1]} (status {row['status']})")
            if row["decision"]:
                raise StoreError(f"{self.path}: job {job_id}'s candidate was already {row['decision']} by "
                                 f"{row['decided_by']}")
            db.execute("UPDATE model_jobs SET decision = ?, decided_by = ?, decided_at = ? WHERE job_id = ?",
                       (decision, who, stamp, job_id))
            if decision == "promoted":
                self._promote(db, row["candidate"], row["candidate_dir"], who, job_id, stamp)
            return _job_dict(db.execute("SELECT * FROM model_jobs WHERE job_id = ?", (job_id,)).fetchone())

    def promote_model(self, version: str, models_dir: str, who: str) -> None:
        """Make a model the active one by hand (no job): e.g. back to a folder trained by `jirei train`."""
        with self.transaction() as db:
            self._promote(db, version, models_dir, who, None, now())

    @staticmethod
    def _promote(db, version: str, models_dir: str, who: str, job_id: int | None, stamp: str) -> None:
        previous = db.execute("SELECT version FROM model_promotions ORDER BY id DESC LIMIT 1").fetchone()
        db.execute("INSERT INTO model_promotions (at, who, version, models_dir, job_id, previous) "
                   "VALUES (?, ?, ?, ?, ?, ?)", (stamp, who, version, models_dir, job_id,
                                                 previous[0] if previous else None))

    def active_model(self) -> dict | None:
        """The latest promotion (version, models_dir, who, at, job_id), or None: no model was
        promoted in this store, and commands use their default models."""
        row = self.conn.execute("SELECT * FROM model_promotions ORDER BY id DESC LIMIT 1").fetchone()
        return dict(row) if row else None

    def promotions(self) -> list[dict]:
        return [dict(r) for r in self.conn.execute("SELECT * FROM model_promotions ORDER BY id")]

    # --- end of model jobs and promotion ----------------------------------------------------------


    # --- boundary edits ---------------------------------------------------------------------------
    # A reviewer's split, merge and their undo. Case rows never change their span or text: an edit
    # makes new cases (new ordinals after the document's last; case ids as for any case) and marks
    # the cases they replace `superseded` ({op, by, who, at}). Every case involved gets a history
    # entry carrying the same note (`split <token>`, `merge <token>`): the replaced ones a
    # `boundary` entry (old: null, new: what replaced them), the new ones a `case` entry naming
    # the cases they came from. An undo supersedes the new cases and restores the old ones, again
    # with entries on each (note `undo #<id of the creating entry>`).

    _CASE_COLUMNS = ("doc_id", "ordinal", "title", "text", "span_start", "span_end", "page", "section", "layout",
                     "needs_review", "margin")

    def split_case(self, case_id: str, at: int, who: str, *, expected_version: int | None = None,
                   title: str | None = None, note: str | None = None) -> list[str]:
        """Split a case at `at` (a character offset into its text) into two new cases; the white
        space around the cut stays out of both. The entities of each part are those whose span
        lies in it (values without a span in the case go to both); labels, notes and declared
        fields go to both; both need review. `title`: the second part's (default: its first line).
        Returns the two new case ids."""
        note = note or f"split {secrets.token_hex(4)}"
        with self.transaction() as db:
            row = self._standing_case(db, case_id, expected_version)
            text = row["text"]
            if not 0 < int(at) < len(text):
                raise StoreError(f"{self.path}: split position {at} is not inside case {case_id} (1–{len(text) - 1})")
            head, tail = text[:int(at)].rstrip(), text[int(at):]
            lead = len(tail) - len(tail.lstrip())
            tail = tail.strip()
            if not head.strip() or not tail:
                raise StoreError(f"{self.path}: splitting case {case_id} at {at} would leave an empty part")
            s0 = row["span_start"]
            parts = [(s0, s0 + len(head)), (s0 + int(at) + lead, s0 + int(at) + lead + len(tail))]
            values = self._value_rows(db, case_id)
            doc = db.execute("SELECT text, page_spans FROM documents WHERE doc_id = ?", (row["doc_id"],)).fetchone()
            new_ids = []
            for n, (lo, hi) in enumerate(parts):
                part_title = row["title"] if n == 0 else (title or first_line(doc["text"][lo:hi]))
                page = row["page"] if n == 0 else _page_of(_loads(doc["page_spans"]), lo, row["page"])
                new_ids.append(self._new_case(db, row, doc["text"], lo, hi, part_title, page, who,
                                              _part_values(values, lo, hi, (row["span_start"], row["span_end"])),
                                              {"op": "split", "from": [case_id], "at": s0 + int(at)}, note))
            self._supersede(db, [case_id], {"op": "split", "by": new_ids, "at": s0 + int(at)}, who, note)
            self._count_cases(db, row["doc_id"])
            return new_ids

    def next_case(self, case_id: str) -> dict | None:
        """The standing case after this one in its document (by position), or None."""
        with self.snapshot() as db:
            row = db.execute("SELECT doc_id, span_start, ordinal FROM cases WHERE case_id = ?", (case_id,)).fetchone()
            if row is None:
                return None
            nxt = self._next_row(db, row)
            return None if nxt is None else {"case_id": nxt["case_id"], "title": nxt["title"],
                                             "version": nxt["version"]}

    @staticmethod
    def _next_row(db, row) -> sqlite3.Row | None:
        return db.execute(
            "SELECT * FROM cases WHERE doc_id = ? AND superseded IS NULL AND (span_start > ? OR "
            "(span_start = ? AND ordinal > ?)) ORDER BY span_start, ordinal LIMIT 1",
            (row["doc_id"], row["span_start"], row["span_start"], row["ordinal"])).fetchone()

    def merge_with_next(self, case_id: str, who: str, *, expected_version: int | None = None,
                        next_version: int | None = None, note: str | None = None) -> str:
        """Merge a case with the next standing case of its document into one new case, from the
        first one's start to the second one's end (whatever lies between is part of it). Title,
        page, section and labels are the first case's; entities, years, notes of both. With
        `next_version`, the next case must still be as the reviewer saw it. Returns the new id."""
        note = note or f"merge {secrets.token_hex(4)}"
        with self.transaction() as db:
            first = self._standing_case(db, case_id, expected_version)
            second = self._next_row(db, first)
            if second is None:
                raise StoreError(f"{self.path}: case {case_id} is the last of its document; nothing to merge with")
            if next_version is not None and second["version"] != next_version:
                raise ConflictError(second["case_id"], next_version, second["version"],
                                    [h for h in self._history_rows(db, second["case_id"]) if h["who"] != "batch"][-5:])
            doc = db.execute("SELECT text FROM documents WHERE doc_id = ?", (first["doc_id"],)).fetchone()
            lo, hi = first["span_start"], max(first["span_end"], second["span_end"])
            values = _merged_values(self._value_rows(db, case_id), self._value_rows(db, second["case_id"]))
            new_id = self._new_case(db, first, doc["text"], lo, hi, first["title"], first["page"], who, values,
                                    {"op": "merge", "from": [case_id, second["case_id"]]}, note)
            self._supersede(db, [case_id, second["case_id"]], {"op": "merge", "by": [new_id]}, who, note)
            self._count_cases(db, first["doc_id"])
            return new_id

    def boundary_origin(self, case_id: str) -> dict | None:
        """How a reviewer's boundary edit made this case: {op, from, id (the history entry), who,
        note, made (every case that edit made)}; None for a case the segmenter made."""
        with self.snapshot() as db:
            return self._origin(db, case_id)

    def _origin(self, db, case_id: str) -> dict | None:
        row = db.execute("SELECT id, who, new, note FROM history WHERE case_id = ? AND field = 'case' "
                         "ORDER BY id DESC LIMIT 1", (case_id,)).fetchone()
        new = _loads(row["new"]) if row else None
        if not row or not isinstance(new, dict) or new.get("op") not in ("split", "merge"):
            return None
        # the cases one edit made share its note (a token per edit) and its origin
        made = [r[0] for r in db.execute("SELECT case_id, new FROM history WHERE field = 'case' AND note = ? ORDER BY id",
                                         (row["note"],)) if (_loads(r[1]) or {}).get("from") == new["from"]]
        return {"op": new["op"], "from": new["from"], "id": row["id"], "who": row["who"], "note": row["note"],
                "made": made}

    def superseded(self, case_id: str) -> dict | None:
        """What replaced a case ({op, by, who, at}), or None while it stands."""
        row = self.conn.execute("SELECT superseded FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        return _loads(row[0]) if row and row[0] else None

    def undo_boundary(self, case_id: str, who: str, *, expected_version: int | None = None) -> list[str]:
        """Undo the split or merge that made `case_id`: the cases it made are superseded, the cases
        it replaced stand again as they were. Refused when one of the cases it made was split or
        merged again, or another user changed one of them since. Returns the restored case ids."""
        with self.transaction() as db:
            origin = self._origin(db, case_id)
            if origin is None:
                raise StoreError(f"{self.path}: case {case_id} was not made by a split or merge")
            self._standing_case(db, case_id, expected_version)
            for made in origin["made"]:
                if db.execute("SELECT superseded FROM cases WHERE case_id = ?", (made,)).fetchone()[0] is not None:
                    raise StoreError(f"{self.path}: case {made} was split or merged again; undo that first")
                others = sorted({h["who"] for h in self._history_rows(db, made)
                                 if h["id"] > origin["id"] and h["who"] not in (who, "batch")})
                if others:
                    raise StoreError(f"{self.path}: {', '.join(others)} changed case {made} after the "
                                     f"{origin['op']}; undoing it would drop their change")
            for old in origin["from"]:
                state = db.execute("SELECT superseded, version FROM cases WHERE case_id = ?", (old,)).fetchone()
                prior = _loads(state["superseded"])
                db.execute("UPDATE cases SET superseded = NULL, version = ?, updated_at = ? WHERE case_id = ?",
                           (state["version"] + 1, now(), old))
                db.execute("INSERT INTO history (case_id, at, who, field, old, new, note) VALUES (?, ?, ?, 'boundary', "
                           "?, NULL, ?)", (old, now(), who, _json(prior), f"undo #{origin['id']}"))
            self._supersede(db, origin["made"], {"op": "undo " + origin["op"], "by": origin["from"]}, who,
                            f"undo #{origin['id']}")
            doc_id = db.execute("SELECT doc_id FROM cases WHERE case_id = ?", (case_id,)).fetchone()[0]
            self._count_cases(db, doc_id)
            return list(origin["from"])

    def boundary_documents(self) -> list[str]:
        """Documents (current versions) whose case boundaries reviewers corrected: a split, a
        merge, or a standing case marked "not a case"."""
        rows = self.conn.execute(
            "SELECT DISTINCT c.doc_id FROM history h JOIN cases c ON c.case_id = h.case_id "
            "JOIN documents d ON d.doc_id = c.doc_id WHERE d.current = 1 AND h.who IN (SELECT name FROM users) "
            "AND (h.field = 'boundary' OR h.field = 'segmentation') ORDER BY c.doc_id").fetchall()
        return [r[0] for r in rows]

    def document_segmentation(self, doc_id: str) -> dict | None:
        """A document's text and its standing cases in order (case_id, title, span, the
        segmentation mark): what the segmentation gold export writes."""
        with self.snapshot() as db:
            doc = db.execute("SELECT doc_id, name, path, kind, text, layout FROM documents WHERE doc_id = ?",
                             (doc_id,)).fetchone()
            if doc is None:
                return None
            cases = []
            for r in db.execute("SELECT case_id, title, span_start, span_end FROM cases WHERE doc_id = ? "
                                "AND superseded IS NULL ORDER BY span_start, ordinal", (doc_id,)):
                mark = self._field_value(db, r["case_id"], "segmentation")
                cases.append({"case_id": r["case_id"], "title": r["title"], "span": [r["span_start"], r["span_end"]],
                              "segmentation": mark})
        return {**dict(doc), "cases": cases}

    def page_boxes(self, doc_id: str, page: int) -> dict | None:
        """The line boxes of one page ({width, height, lines: [[start, end, x0, top, x1, bottom]]})."""
        row = self.conn.execute("SELECT width, height, lines FROM page_boxes WHERE doc_id = ? AND page = ?",
                                (doc_id, page)).fetchone()
        return None if row is None else {"width": row["width"], "height": row["height"], "lines": _loads(row["lines"])}

    def _standing_case(self, db, case_id: str, expected_version: int | None) -> sqlite3.Row:
        row = db.execute("SELECT * FROM cases WHERE case_id = ?", (case_id,)).fetchone()
        if row is None:
            raise StoreError(f"{self.path}: no case {case_id}")
        if expected_version is not None and row["version"] != expected_version:
            raise ConflictError(case_id, expected_version, row["version"],
                                [h for h in self._history_rows(db, case_id) if h["who"] != "batch"][-5:])
        if row["superseded"] is not None:
            by = _loads(row["superseded"])
            raise StoreError(f"{self.path}: case {case_id} was replaced by {', '.join(by.get('by') or [])} "
                             f"({by.get('op')})")
        return row

    @staticmethod
    def _value_rows(db, case_id: str) -> list[dict]:
        return [{**dict(r), "value": _loads(r["value"])} for r in db.execute(
            "SELECT field, position, value, key, source, score, span_start, span_end FROM case_values "
            "WHERE case_id = ? ORDER BY field, position", (case_id,))]

    def _new_case(self, db, like: sqlite3.Row, doc_text: str, lo: int, hi: int, title: str, page, who: str,
                  values: list[dict], origin: dict, note: str) -> str:
        ordinal = db.execute("SELECT max(ordinal) FROM cases WHERE doc_id = ?", (like["doc_id"],)).fetchone()[0] + 1
        case_id = case_id_for(like["doc_id"], ordinal)
        stamp = now()
        db.execute(
            "INSERT INTO cases (case_id, doc_id, ordinal, title, text, span_start, span_end, page, section, layout, "
            "needs_review, margin, review_status, version, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, 'unreviewed', 1, ?)",
            (case_id, like["doc_id"], ordinal, title, doc_text[lo:hi], lo, hi, page, like["section"],
             f"reviewer:{who}", like["margin"], stamp))
        positions: dict[str, int] = {}
        for v in values:
            position = positions.get(v["field"], 0)
            positions[v["field"]] = position + 1
            db.execute(
                "INSERT INTO case_values (case_id, field, position, value, key, source, score, span_start, span_end) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (case_id, v["field"], position, _json(v["value"]), v["key"], v["source"], v["score"],
                 v["span_start"], v["span_end"]))
        db.execute("INSERT INTO history (case_id, at, who, field, old, new, note) VALUES (?, ?, ?, 'case', NULL, ?, ?)",
                   (case_id, stamp, who, _json({"doc_id": like["doc_id"], "ordinal": ordinal, **origin}), note))
        return case_id

    @staticmethod
    def _supersede(db, case_ids: list[str], how: dict, who: str, note: str) -> None:
        stamp = now()
        for case_id in case_ids:
            state = db.execute("SELECT superseded, version FROM cases WHERE case_id = ?", (case_id,)).fetchone()
            new = {**how, "who": who, "at": stamp}
            db.execute("UPDATE cases SET superseded = ?, version = ?, updated_at = ? WHERE case_id = ?",
                       (_json(new), state["version"] + 1, stamp, case_id))
            db.execute("INSERT INTO history (case_id, at, who, field, old, new, note) VALUES (?, ?, ?, 'boundary', "
                       "?, ?, ?)", (case_id, stamp, who, state["superseded"], _json(new), note))

    @staticmethod
    def _count_cases(db, doc_id: str) -> None:
        db.execute("UPDATE documents SET n_cases = (SELECT count(*) FROM cases WHERE doc_id = ? AND superseded IS NULL) "
                   "WHERE doc_id = ?", (doc_id, doc_id))

    # --- assignment, agreement and bulk ----------------------------------------------------------
    #
    # Admins assign cases to reviewers (`assignments`). Pass 1 labels the case itself (the usual
    # save); a share of the cases also gets pass 2: another reviewer labels it blind (never seeing
    # the first pass's labels) into `blind_labels`, which keeps the case's own values untouched.
    # Each blind label is compared with the case's reviewed labels (pillar and action items):
    # agree, disagree, or waiting for the first pass. A disagreement is settled by adjudication,
    # whose decision becomes the case's labels (source `reviewer:<adjudicator>`, history entries).
    # Bulk writes apply one change to many cases, each in its own transaction with its own version
    # check, and report the conflicts.

    def assign_cases(self, case_ids: list[str], reviewers: list[str], who: str, *, overlap: float = 0.0) -> dict:
        """Assign cases to `reviewers` in turn (pass 1). round(overlap × n) of them, chosen by a hash
        of the case id (stable, spread over documents), also go blind to the next reviewer in turn
        (pass 2; needs two reviewers). Reviewed cases and cases already assigned for a pass are
        left as they are. Returns counts: first, second, skipped."""
        reviewers = list(dict.fromkeys(reviewers))
        if not reviewers:
            raise StoreError(f"{self.path}: choose at least one reviewer to assign to")
        if not 0.0 <= overlap <= 1.0:
            raise StoreError(f"{self.path}: overlap share {overlap} is not between 0 and 1")
        if overlap > 0 and len(reviewers) < 2:
            raise StoreError(f"{self.path}: a blind second labelling needs at least two reviewers")
        stamp = now()
        out = {"first": 0, "second": 0, "skipped": 0}
        with self.transaction() as db:
            known = {r[0] for r in db.execute("SELECT name FROM users WHERE active = 1")}
            unknown = [r for r in reviewers if r not in known]
            if unknown:
                raise StoreError(f"{self.path}: no active user {', '.join(unknown)}")
            open_ids = []
            for chunk in _chunks(list(dict.fromkeys(case_ids)), 500):
                marks = ",".join("?" * len(chunk))
                open_ids += [r[0] for r in db.execute(
                    f"SELECT case_id FROM cases WHERE case_id IN ({marks}) AND review_status != 'reviewed' "
                    "ORDER BY case_id", chunk)]
            out["skipped"] = len(set(case_ids)) - len(open_ids)
            doubled = set(sorted(open_ids, key=_share_key)[:round(overlap * len(open_ids))])
            for i, case_id in enumerate(open_ids):
                first = reviewers[i % len(reviewers)]
                cur = db.execute("INSERT OR IGNORE INTO assignments (case_id, reviewer, pass, assigned_by, assigned_at) "
                                 "VALUES (?, ?, 1, ?, ?)", (case_id, first, who, stamp))
                if not cur.rowcount:
                    out["skipped"] += 1
                    continue
                out["first"] += 1
                if case_id in doubled:
                    second = reviewers[(i + 1) % len(reviewers)]
                    cur = db.execute("INSERT OR IGNORE INTO assignments (case_id, reviewer, pass, assigned_by, "
                                     "assigned_at) VALUES (?, ?, 2, ?, ?)", (case_id, second, who, stamp))
                    out["second"] += cur.rowcount
        return out

    def assignment_passes(self, reviewer: str, case_ids: list[str]) -> dict[str, int]:
        """case id -> pass of `reviewer`'s open assignments among `case_ids`."""
        out: dict[str, int] = {}
        for chunk in _chunks(list(case_ids), 500):
            marks = ",".join("?" * len(chunk))
            for r in self.conn.execute(f"SELECT case_id, pass FROM assignments WHERE reviewer = ? AND done_at IS NULL "
                                       f"AND case_id IN ({marks})", [reviewer, *chunk]):
                out[r[0]] = r[1]
        return out

    def blind_pending(self, reviewer: str, case_id: str) -> bool:
        """`reviewer` owes this case a blind second labelling: they must not see its labels."""
        return self.conn.execute("SELECT 1 FROM assignments WHERE case_id = ? AND reviewer = ? AND pass = 2 "
                                 "AND done_at IS NULL", (case_id, reviewer)).fetchone() is not None

    def assignment_summary(self) -> list[dict]:
        """Per reviewer: open and done assignments of each pass."""
        rows = self.conn.execute(
            "SELECT reviewer, pass, sum(done_at IS NULL) AS open, sum(done_at IS NOT NULL) AS done "
            "FROM assignments GROUP BY reviewer, pass ORDER BY reviewer, pass").fetchall()
        out: dict[str, dict] = {}
        for r in rows:
            d = out.setdefault(r["reviewer"], {"reviewer": r["reviewer"], "open1": 0, "done1": 0, "open2": 0,
                                                "done2": 0})
            d[f"open{r['pass']}"], d[f"done{r['pass']}"] = r["open"], r["done"]
        return list(out.values())

    def save_blind_label(self, case_id: str, reviewer: str, label: dict) -> str:
        """A blind second labelling ({pillar, theme, action_items: [numbers]}) by the reviewer it is
        assigned to; the case's own values are not touched. One history entry (field
        `blind_label`, source `reviewer:<name>`). Returns the comparison's status."""
        stamp = now()
        label = {"pillar": label.get("pillar"), "theme": label.get("theme"),
                 "action_items": sorted({int(n) for n in label.get("action_items") or []}),
                 "source": f"reviewer:{reviewer}"}
        with self.transaction() as db:
            if db.execute("SELECT 1 FROM assignments WHERE case_id = ? AND reviewer = ? AND pass = 2",
                          (case_id, reviewer)).fetchone() is None:
                raise StoreError(f"{self.path}: case {case_id} is not assigned to {reviewer} for a second labelling")
            old = db.execute("SELECT label, status FROM blind_labels WHERE case_id = ?", (case_id,)).fetchone()
            if old is not None and old["status"] == "adjudicated":
                raise StoreError(f"{self.path}: case {case_id} was adjudicated; its blind label is closed")
            db.execute("INSERT INTO blind_labels (case_id, reviewer, label, labelled_at) VALUES (?, ?, ?, ?) "
                       "ON CONFLICT(case_id) DO UPDATE SET label = excluded.label, labelled_at = excluded.labelled_at",
                       (case_id, reviewer, _json(label), stamp))
            db.execute("INSERT INTO history (case_id, at, who, field, old, new, note) VALUES (?, ?, ?, 'blind_label', ?, ?, "
                       "'blind')", (case_id, stamp, reviewer, old["label"] if old else None, _json(label)))
            db.execute("UPDATE assignments SET done_at = ? WHERE case_id = ? AND reviewer = ? AND pass = 2",
                       (stamp, case_id, reviewer))
            return self._refresh_blind(db, case_id)

    def _after_review(self, db, case_id: str, changes: dict) -> None:
        """Inside a save's transaction: a reviewed case closes its pass-1 assignment; changed labels
        are compared again with the case's blind label."""
        if changes.get("review_status") == "reviewed":
            db.execute("UPDATE assignments SET done_at = ? WHERE case_id = ? AND pass = 1 AND done_at IS NULL",
                       (now(), case_id))
        if {"pillar", "action_items"} & set(changes):
            self._refresh_blind(db, case_id)

    def _refresh_blind(self, db, case_id: str) -> str | None:
        row = db.execute("SELECT reviewer, label, status FROM blind_labels WHERE case_id = ?", (case_id,)).fetchone()
        if row is None or row["status"] == "adjudicated":
            return row["status"] if row else None
        first = self._reviewed_labels(db, case_id)
        if first is None or first["reviewer"] == row["reviewer"]:
            db.execute("UPDATE blind_labels SET status = 'waiting', first_reviewer = NULL, first_label = NULL "
                       "WHERE case_id = ?", (case_id,))
            return "waiting"
        blind = _loads(row["label"])
        same = blind["pillar"] == first["pillar"] and blind["action_items"] == first["action_items"]
        status = "agree" if same else "disagree"
        db.execute("UPDATE blind_labels SET status = ?, first_reviewer = ?, first_label = ? WHERE case_id = ?",
                   (status, first["reviewer"], _json(first), case_id))
        return status

    def _reviewed_labels(self, db, case_id: str) -> dict | None:
        """The case's labels as a reviewer set them ({reviewer, pillar, theme, action_items}), or None
        while its pillar is not a reviewer's."""
        rows = {r["field"]: r for r in db.execute(
            "SELECT field, value, source FROM case_values WHERE case_id = ? AND field IN ('pillar', 'theme') "
            "AND position = 0", (case_id,))}
        pillar = rows.get("pillar")
        if pillar is None or not (pillar["source"] or "").startswith("reviewer:"):
            return None
        theme = _loads(rows["theme"]["value"]) if "theme" in rows else None
        items = sorted(int(_loads(r[0])["item"]) for r in db.execute(
            "SELECT value FROM case_values WHERE case_id = ? AND field = 'action_items'", (case_id,)))
        return {"reviewer": pillar["source"].split(":", 1)[1], "pillar": _loads(pillar["value"]).get("label"),
                "theme": theme.get("label") if isinstance(theme, dict) else None, "action_items": items}

    def blind_pairs(self) -> list[dict]:
        """Every blind label with the first pass's labels it was compared with (current documents):
        {case_id, reviewer, label, first_reviewer, first_label, status, adjudicated_by}."""
        rows = self.conn.execute(
            "SELECT b.* FROM blind_labels b JOIN cases c ON c.case_id = b.case_id JOIN documents d "
            "ON d.doc_id = c.doc_id WHERE d.current = 1 ORDER BY b.case_id").fetchall()
        return [{**dict(r), "label": _loads(r["label"]), "first_label": _loads(r["first_label"])} for r in rows]

    def blind_pair(self, case_id: str) -> dict | None:
        row = self.conn.execute("SELECT * FROM blind_labels WHERE case_id = ?", (case_id,)).fetchone()
        return {**dict(row), "label": _loads(row["label"]), "first_label": _loads(row["first_label"])} if row else None

    def adjudicate(self, case_id: str, changes: dict[str, Any], who: str, *, expected_version: int,
                   model_version: str | None = None, note: str | None = None) -> int:
        """Settle a disagreement: `changes` (pillar, theme, action_items in the reviewer's shapes)
        become the case's labels with source `reviewer:<who>`, one history entry per changed field,
        and the blind label is closed as adjudicated; one transaction, one version check."""
        with self.transaction() as db:
            row = db.execute("SELECT status FROM blind_labels WHERE case_id = ?", (case_id,)).fetchone()
            if row is None or row["status"] not in ("agree", "disagree"):
                raise StoreError(f"{self.path}: case {case_id} has no pair of labels to adjudicate")
            current = db.execute("SELECT version FROM cases WHERE case_id = ?", (case_id,)).fetchone()
            version, check = current["version"], expected_version
            for field, new in {**changes, "review_status": "reviewed"}.items():
                version = self._set_field(db, case_id, field, new, who, source=f"reviewer:{who}",
                                          model_version=model_version, expected_version=check, run_id=None,
                                          note=note)
                check = None
            db.execute("UPDATE blind_labels SET status = 'adjudicated', adjudicated_by = ?, adjudicated_at = ? "
                       "WHERE case_id = ?", (who, now(), case_id))
            db.execute("UPDATE assignments SET done_at = coalesce(done_at, ?) WHERE case_id = ?", (now(), case_id))
            return version

    def save_documents(self, items: list[tuple[dict, list[dict]]], run_id: int | None,
                       model_version: str | None) -> int:
        """Many processed documents (each `doc`, `cases` as `save_document` takes them) in ONE
        transaction: for building large stores (the load bench's 100,000 cases) without a commit
        per document. Documents already stored are left out. Returns how many were stored."""
        stamp = now()
        stored = 0
        with self.transaction() as db:
            for doc, cases in items:
                if db.execute("SELECT 1 FROM documents WHERE doc_id = ?", (doc["doc_id"],)).fetchone():
                    continue
                previous = self._supersede_path(db, doc["path"], doc["doc_id"])
                db.execute(
                    "INSERT INTO documents (doc_id, name, path, kind, status, error, pages, page_spans, doc_date, "
                    "encoding, warnings, layout, n_cases, chars, text, model_version, previous, current, run_id, "
                    "added_at) VALUES (?, ?, ?, ?, 'done', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?)",
                    (doc["doc_id"], doc["name"], doc["path"], doc.get("kind"), len(doc.get("pages") or []) or None,
                     _json(doc.get("pages") or []), doc.get("doc_date"), doc.get("encoding"),
                     _json(doc.get("warnings") or []), cases[0]["layout"] if cases else None, len(cases),
                     len(doc.get("text") or ""), doc.get("text"), model_version, previous, run_id, stamp))
                for record in cases:
                    self._insert_case(db, record, stamp, run_id, model_version)
                stored += 1
        return stored

    def add_review_info(self, records: list[dict]) -> list[dict]:
        """What the exports carry about each case's review, added to records as `query_cases`
        gives them: `notes` and `segmentation` (the reviewers' values), `reviewers` (users who
        changed the case, first to last), `reviews` (each time a user marked it reviewed:
        {reviewer, at, how: save | accept | bulk | adjudicate}) and `blind_label` (the blind
        second labelling with its status, or None)."""
        by_id = {r["case_id"]: r for r in records}
        for r in records:
            r.update({"notes": [], "segmentation": None, "reviewers": [], "reviews": [], "blind_label": None})
        with self.snapshot() as db:
            users = {row[0] for row in db.execute("SELECT name FROM users")}
            for chunk in _chunks(list(by_id), 500):
                marks = ",".join("?" * len(chunk))
                for v in db.execute(f"SELECT case_id, field, value FROM case_values WHERE case_id IN ({marks}) "
                                    "AND field IN ('notes', 'segmentation') ORDER BY case_id, field, position", chunk):
                    record = by_id[v["case_id"]]
                    if v["field"] == "notes":
                        record["notes"].append(_loads(v["value"]))
                    else:
                        record["segmentation"] = _loads(v["value"])
                for h in db.execute(f"SELECT case_id, who, at, field, new, note FROM history WHERE case_id IN ({marks}) "
                                    "AND field != 'blind_label' ORDER BY id", chunk):
                    if h["who"] not in users:
                        continue
                    record = by_id[h["case_id"]]
                    if h["who"] not in record["reviewers"]:
                        record["reviewers"].append(h["who"])
                    if h["field"] == "review_status" and _loads(h["new"]) == "reviewed":
                        note = h["note"] or ""
                        how = ("bulk" if note.endswith(" bulk") else note.split(" ", 1)[0]) or "save"
                        record["reviews"].append({"reviewer": h["who"], "at": h["at"], "how": how})
                for b in db.execute(f"SELECT * FROM blind_labels WHERE case_id IN ({marks})", chunk):
                    by_id[b["case_id"]]["blind_label"] = {**_loads(b["label"]), "reviewer": b["reviewer"],
                                                          "at": b["labelled_at"], "status": b["status"]}
        return records

    def region_places(self) -> dict[str, dict]:
        """Region values of places (関西, 三遠南信, 道東 …) on current documents: region -> {cases,
        prefectures}. Regions are kept as written, not spread over their prefectures."""
        out: dict[str, dict] = {}
        rows = self.conn.execute(
            "SELECT v.key, v.value, v.case_id FROM case_values v JOIN cases c ON c.case_id = v.case_id "
            "JOIN documents d ON d.doc_id = c.doc_id WHERE v.field = 'places' AND d.current = 1 "
            "AND v.value LIKE '%\"level\": \"region\"%'").fetchall()
        seen: dict[str, set] = {}
        for r in rows:
            value = _loads(r["value"])
            if value.get("level") != "region" or not value.get("region"):
                continue
            name = value["region"]
            entry = out.setdefault(name, {"cases": 0, "prefectures": list(value.get("prefectures") or [])})
            if r["case_id"] not in seen.setdefault(name, set()):
                seen[name].add(r["case_id"])
                entry["cases"] += 1
        return out

    def bulk_set_fields(self, planned: dict[str, tuple[int, dict[str, Any]]], who: str, *, source: str | None,
                        model_version: str | None = None, note: str | None = None) -> dict[str, list]:
        """The same kind of change on many cases: {case_id: (version read, changes)}. Each case is
        written as `set_fields` writes it (its own transaction and version check, history entries
        sharing `note`), so one stale case does not hold up the others. Returns {done: [case ids],
        conflicts: [{case_id, expected, actual, who}], missing: [case ids]}."""
        report: dict[str, list] = {"done": [], "conflicts": [], "missing": []}
        for case_id, (version, changes) in planned.items():
            try:
                self.set_fields(case_id, changes, who, source=source, model_version=model_version,
                                expected_version=version, note=note)
            except ConflictError as exc:
                report["conflicts"].append({"case_id": case_id, "expected": exc.expected, "actual": exc.actual,
                                            "who": ", ".join(sorted({c["who"] for c in exc.changes})) or "someone"})
                continue
            except StoreError:
                if self.conn.execute("SELECT 1 FROM cases WHERE case_id = ?", (case_id,)).fetchone() is None:
                    report["missing"].append(case_id)
                    continue
                raise
            report["done"].append(case_id)
        return report


# --- helpers ----------------------------------------------------------------------------------------


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (triggers hold `;` inside BEGIN … END)."""
    out, buf = [], []
    for line in script.strip().splitlines():
        buf.append(line)
        joined = "\n".join(buf)
        if joined.rstrip().endswith(";") and sqlite3.complete_statement(joined):
            out.append(joined)
            buf = []
    if "".join(buf).strip():
        out.append("\n".join(buf))
    return out


class _WriterQueue:
    """The turn of one process's write transactions on one store, and the turn among processes.

    Threads of this process queue on an RLock (handed on the moment a commit ends; the same
    thread may take it again). The thread holding it then takes an exclusive flock on the file
    `<store>.write-lock` beside the store, which other processes' writers (`jirei serve --workers
    N`, `jirei batch`) take the same way: a waiting process tries again every half millisecond
    instead of sleeping in SQLite's busy handler, whose sleeps grow to 100 ms. Where that file
    cannot be made (a read-only folder) or the turn does not come within the busy timeout, the
    transaction goes on to SQLite's own locking as before; nothing else ever depends on it."""

    def __init__(self, path: str):
        self.lock = threading.RLock()
        self.file = f"{path}.write-lock"
        self._depth = 0
        self._fd: int | None = None
        self._locked = False

    def acquire(self, timeout: float) -> bool:
        if not self.lock.acquire(timeout=timeout):
            return False
        self._depth += 1
        if self._depth == 1:
            self._locked = self._lock_file(time.monotonic() + timeout)
        return True

    def release(self) -> None:
        self._depth -= 1
        if self._depth == 0 and self._locked:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            self._locked = False
        self.lock.release()

    def _lock_file(self, deadline: float) -> bool:
        if self._fd is None:
            try:
                self._fd = os.open(self.file, os.O_RDWR | os.O_CREAT, 0o600)
            except OSError:
                return False
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(0.0005)
            except OSError:
                return False


_WRITER_QUEUES: dict[str, _WriterQueue] = {}
_WRITER_QUEUES_LOCK = threading.Lock()


def _writer_queue(path: Path) -> _WriterQueue:
    """The writer queue of this process for the store at `path`."""
    key = os.path.realpath(path)
    with _WRITER_QUEUES_LOCK:
        return _WRITER_QUEUES.setdefault(key, _WriterQueue(key))


def _check_path(path: Path, *, create: bool) -> None:
    """Refuse a path that cannot be a store, by its directory entry alone (stat, never open)."""
    if not path.exists():
        if not create:
            raise StoreError(f"{path}: no such store (run `jirei batch` to make one)")
        if not path.parent.exists():
            raise StoreError(f"{path}: folder {path.parent} does not exist")
        return
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not a Jirei store")


def _check_store(conn: sqlite3.Connection, path: Path) -> None:
    """Refuse, through SQLite and before anything is written, a file that is not a Jirei store or
    is too new. An empty file or an empty database becomes a new store."""
    try:
        app_id = conn.execute("PRAGMA application_id").fetchone()[0]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        if "not a database" in str(exc):
            raise StoreError(f"{path}: not a Jirei store (not an SQLite database); left untouched") from None
        if isinstance(exc, sqlite3.OperationalError):
            raise store_problem(path, exc, "cannot read") from None
        raise StoreError(f"{path}: cannot read as a Jirei store ({exc}); left untouched") from None
    if app_id != APPLICATION_ID:
        if tables == 0 and app_id == 0:
            return
        raise StoreError(f"{path}: not a Jirei store (another application's SQLite database); left untouched")
    if version > SCHEMA_VERSION:
        raise StoreError(f"{path}: made by a newer Jirei (store schema {version}, this Jirei reads up to "
                         f"{SCHEMA_VERSION}); left untouched")


def open_for_reading(path: str | Path) -> Store:
    """The store for a command that only reads: opened as usual (so an older schema is migrated),
    or, where it cannot be written, read-only."""
    try:
        return Store(path, create=False)
    except ReadOnlyStoreError:
        return Store(path, create=False, readonly=True)


def store_problem(path: Path, exc: sqlite3.Error, doing: str | None = None) -> StoreError:
    """An SQLite error as one line naming the store, with its cause in plain words: the disk
    full (or the process's file size limit reached), a read-only file, folder or file system,
    another process holding the write lock past the busy timeout."""
    name = getattr(exc, "sqlite_errorname", "") or ""
    text = str(exc)
    readonly = _readonly_reason(path)
    if name.startswith(("SQLITE_FULL", "SQLITE_IOERR")) or "disk is full" in text:
        space = _space_problem(path)
        if space or name.startswith("SQLITE_FULL"):
            return StoreError(f"{path}: cannot write: {space or 'the disk is full'}; the write in progress "
                              "was undone (free some space, then run the command again)")
        return StoreError(f"{path}: disk I/O error ({name or text}); the write in progress was undone")
    if name.startswith(("SQLITE_READONLY", "SQLITE_CANTOPEN")) or "readonly database" in text:
        if readonly:
            wal, shm = (path.with_name(path.name + s) for s in ("-wal", "-shm"))
            if wal.exists() and not shm.exists():
                return ReadOnlyStoreError(f"{path}: store is read-only ({readonly}) and cannot be read here: "
                                          f"{wal.name} holds changes SQLite reads only with {shm.name}; open "
                                          "it once where it can be written")
            if not path.exists():
                return ReadOnlyStoreError(f"{path}: cannot create the store ({readonly})")
            return ReadOnlyStoreError(f"{path}: store is read-only ({readonly})")
        if name.startswith("SQLITE_READONLY"):
            return ReadOnlyStoreError(f"{path}: store is read-only ({text})")
    if name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED")) or "database is locked" in text:
        return StoreError(f"{path}: store is busy: another process held its write lock for over "
                          f"{BUSY_TIMEOUT_MS // 1000} s; try again")
    return StoreError(f"{path}: {doing + ': ' if doing else ''}{text}")


def _readonly_reason(path: Path) -> str | None:
    """Why this process cannot write the store, from the directory entries alone (never opened)."""
    path = Path(path)
    folder = path.resolve().parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return "read-only file system"
    except OSError:
        pass
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is not writable"
    if not os.access(folder, os.W_OK):
        return f"its folder {folder} is not writable"
    for sibling in (path.with_name(path.name + s) for s in ("-wal", "-shm")):
        if sibling.exists() and not os.access(sibling, os.W_OK):
            return f"{sibling.name} is not writable"
    return None


def _space_problem(path: Path) -> str | None:
    """The disk holding the store is full, or a store file reached the process's file size limit."""
    try:
        st = os.statvfs(Path(path).resolve().parent)
        free = st.f_bavail * st.f_frsize
        if free < (1 << 20):  # under 1 MiB: the next WAL frames or pages do not fit
            return f"no space left on the disk holding it ({free // 1024} KiB free)"
    except OSError:
        pass
    soft = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if soft != resource.RLIM_INFINITY:
        sizes = [f.stat().st_size for f in store_files(path) if f.exists()]
        if sizes and max(sizes) >= soft - (64 << 10):
            return f"the file size limit of this process is reached (ulimit -f: {soft:,} bytes)"
    return None


def _immutable_readable(path: Path) -> bool:
    """A store SQLite may read as immutable: in a place this process cannot write, with no -wal
    beside it (a -wal would hold commits not yet in the main file)."""
    return _readonly_reason(path) is not None and not path.with_name(path.name + "-wal").exists()


def store_files(path: str | Path) -> set[Path]:
    """The store's file and SQLite's files beside it (-wal, -shm, -journal), resolved: paths that
    nothing but SQLite may open while the store may be in use."""
    base = Path(path).resolve()
    return {base, *(base.with_name(base.name + suffix) for suffix in ("-wal", "-shm", "-journal"))}


def _as_list(field: str, value: Any) -> list:
    if field in SINGLE_FIELDS:
        return [] if value is None or value == {} else [value]
    return list(value or [])


def _share_key(case_id: str) -> str:
    """A stable pseudo-random order of case ids (the overlap share takes the first ones)."""
    return hashlib.sha256(case_id.encode()).hexdigest()


def _chunks(items: list, size: int) -> Iterable[list]:
    for i in range(0, len(items), size):
        yield items[i:i + size]


def _run_dict(row: sqlite3.Row) -> dict:
    d = dict(row)
    for key in ("settings", "counts", "timings"):
        d[key] = _loads(d[key])
    return d


def _job_dict(row: sqlite3.Row) -> dict:
    d = dict(row)
    for key in ("settings", "figures"):
        d[key] = _loads(d[key])
    return d


def _document_dict(row: sqlite3.Row) -> dict:
    d = dict(row)
    for key in ("page_spans", "warnings"):
        d[key] = _loads(d[key])
    return d


def _record(row: sqlite3.Row, values: dict[str, list], sources: dict[str, list]) -> dict:
    """A stored case as the `jirei extract` record (same keys, same order) plus review fields."""
    record = {
        "doc": row["doc_name"],
        "case_id": row["case_id"],
        "doc_id": row["doc_id"],
        "ordinal": row["ordinal"],
        "title": row["title"],
        "text": row["text"],
        "span": [row["span_start"], row["span_end"]],
        "page": row["page"],
        "section": _loads(row["section"]),
        "layout": row["layout"],
    }
    for field in CASE_VALUE_FIELDS + REVIEW_LIST_FIELDS + REVIEW_SINGLE_FIELDS:
        found = values.get(field, [])
        record[field] = (found[0] if found else empty_value(field)) if field in SINGLE_FIELDS else found
    record["needs_review"] = bool(row["needs_review"])
    record["review_status"] = row["review_status"]
    record["version"] = row["version"]
    record["margin"] = row["margin"]
    record["history_count"] = row["history_count"]
    record["sources"] = {f: s for f, s in sources.items()}
    return record


# --- boundary edits: values of the cases a split or merge makes ---------------------------------

_TITLE_MARKS = "#-*・●■◆○◇□▪•– \u3000"


def first_line(text: str) -> str:
    """A case's default title: its first non-empty line without leading list or heading marks."""
    for line in text.splitlines():
        line = line.strip().lstrip(_TITLE_MARKS).strip()
        if line:
            return line[:200]
    return text.strip()[:200]


def _page_of(page_spans: list, offset: int, default):
    """The number of the page holding a document offset ([number, start, end, …] rows)."""
    found = default
    for span in page_spans or []:
        if span[1] <= offset:
            found = span[0]
    return found


def _part_values(rows: list[dict], lo: int, hi: int, whole: tuple[int, int]) -> list[dict]:
    """The values of a case that go to its part [lo, hi): a value with a span inside the case goes
    where its span starts; one without (or pointing outside the case, e.g. a place the document
    states on its title page) goes to every part. A year stays where a mention of it is, or
    everywhere when no mention in the case names it. The segmentation mark goes nowhere: the
    split answers it."""
    def inside(r: dict) -> bool | None:  # None: no span within the case
        if r["span_start"] is None or not (whole[0] <= r["span_start"] < whole[1]):
            return None
        return lo <= r["span_start"] < hi
    mentioned = {r["value"].get("year"): r for r in rows if r["field"] == "year_mentions" and isinstance(r["value"], dict)
                 and inside(r) is not None}
    here = {r["value"].get("year") for r in rows if r["field"] == "year_mentions" and isinstance(r["value"], dict)
            and inside(r)}
    out = []
    for r in rows:
        if r["field"] == "segmentation":
            continue
        if r["field"] == "years":
            if r["value"] in mentioned and r["value"] not in here:
                continue
        elif inside(r) is False:
            continue
        out.append(r)
    return out


def _merged_values(first: list[dict], second: list[dict]) -> list[dict]:
    """The values of a merged case: the first case's labels and single values (the second's
    where the first has none), list values of both without repeats, years in order; no
    segmentation mark."""
    fields_first = {r["field"] for r in first}
    out = [r for r in first if r["field"] != "segmentation"]
    for r in second:
        if r["field"] == "segmentation" or r["field"] in LABEL_FIELDS:
            continue
        if r["field"] in SINGLE_FIELDS:
            if r["field"] not in fields_first:
                out.append(r)
            continue
        if not any(o["field"] == r["field"] and o["value"] == r["value"] for o in out):
            out.append(r)
    years = sorted({r["value"] for r in out if r["field"] == "years"})
    by_year = {r["value"]: r for r in out if r["field"] == "years"}
    out = [r for r in out if r["field"] != "years"] + [by_year[y] for y in years]
    return out
