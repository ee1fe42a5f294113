"""Versioned schema migrations (sqlite-utils ``Migrations``), applied when a store opens.

The tables are plain and named for a reader of the ``sqlite3`` shell or Datasette: offsets are
``start_char``/``end_char`` (``end`` is an SQL keyword), JSON lives in TEXT columns, timestamps are
ISO 8601 UTC strings. Never edit a migration that has shipped: add a new one.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlite_utils import Database
    from sqlite_utils.migrations import Migrations

MIGRATION_SET = "reviewer"
_STEPS: list[tuple[str, Callable[[Database], None]]] = []


def _migration(name: str) -> Callable:
    """Register a step. sqlite-utils is imported only when the steps are needed (see
    :func:`reviewer_migrations`): a store that is up to date opens without it."""

    def register(step: Callable[[Database], None]) -> Callable[[Database], None]:
        _STEPS.append((name, step))
        return step

    return register


@cache
def reviewer_migrations() -> Migrations:
    """The steps as a sqlite-utils ``Migrations`` set, in order."""
    from sqlite_utils.migrations import Migrations

    migrations = Migrations(MIGRATION_SET)
    for name, step in _STEPS:
        migrations(name=name)(step)
    return migrations


def __getattr__(name: str) -> Any:
    if name == "migrations":  # the Migrations set, built on first use
        return reviewer_migrations()
    raise AttributeError(name)


def _run(db: Database, script: str) -> None:
    """Statement by statement: executescript() would commit in the middle of the migration."""
    for statement in script.split(";\n\n"):
        if statement.strip():
            db.execute(statement)


@_migration("0001_initial")
def initial(db: Database) -> None:
    _run(db, _INITIAL)


_INITIAL = """
-- One row per imported case report. seq is the import order and the FTS rowid; id is the
-- stable name users see (file path without extension, or the JSONL id).
CREATE TABLE reports (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL DEFAULT '',
    title TEXT NOT NULL DEFAULT '',
    journal TEXT NOT NULL DEFAULT '',
    published TEXT NOT NULL DEFAULT '',
    doi TEXT NOT NULL DEFAULT '',
    authors TEXT NOT NULL DEFAULT '[]',
    meta TEXT NOT NULL DEFAULT '{}',
    text TEXT NOT NULL,
    length INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    duplicate_of TEXT REFERENCES reports(id),
    imported_at TEXT NOT NULL
);

CREATE INDEX reports_by_sha256 ON reports(sha256);

-- One row per annotation. Offsets are code points into reports.text, end exclusive.
CREATE TABLE spans (
    id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES reports(id),
    start_char INTEGER NOT NULL,
    end_char INTEGER NOT NULL,
    label TEXT NOT NULL,
    text TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    note TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    CHECK (start_char >= 0 AND start_char < end_char)
);

CREATE INDEX spans_by_report ON spans(report_id, start_char);

-- Where each reviewer stands with each report; no row means todo.
CREATE TABLE review_status (
    report_id TEXT NOT NULL REFERENCES reports(id),
    reviewer TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'todo'
        CHECK (status IN ('todo', 'in_progress', 'done', 'flagged')),
    flag_reason TEXT NOT NULL DEFAULT '',
    seconds_spent REAL NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (report_id, reviewer)
);

-- The append-only log. One row in actions per user action (one transaction); one row in events
-- per span it changed, with the span before and after as JSON (NULL when absent). An undo or
-- redo is an action of its own whose target is the edit it reverts or replays.
CREATE TABLE actions (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('edit', 'undo', 'redo', 'status', 'import')),
    target INTEGER REFERENCES actions(id),
    summary TEXT NOT NULL DEFAULT ''
);

CREATE INDEX actions_by_reviewer ON actions(reviewer, kind);

CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    action_id INTEGER NOT NULL REFERENCES actions(id),
    at TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    action TEXT NOT NULL,
    report_id TEXT,
    span_id TEXT,
    before TEXT,
    after TEXT
);

CREATE INDEX events_by_action ON events(action_id);

CREATE INDEX events_by_span ON events(span_id);

CREATE TRIGGER actions_append_only_update BEFORE UPDATE ON actions
BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;

CREATE TRIGGER actions_append_only_delete BEFORE DELETE ON actions
BEGIN SELECT RAISE(ABORT, 'the action log is append-only'); END;

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'the event log is append-only'); END;

-- Trigram full-text index over report text, kept current by triggers (for search).
CREATE VIRTUAL TABLE reports_fts USING fts5(
    text, content='reports', content_rowid='seq', tokenize='trigram'
);

CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports
BEGIN INSERT INTO reports_fts(rowid, text) VALUES (new.seq, new.text); END;

CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports
BEGIN INSERT INTO reports_fts(reports_fts, rowid, text) VALUES ('delete', old.seq, old.text); END;

CREATE TRIGGER reports_fts_update AFTER UPDATE OF text ON reports
BEGIN
    INSERT INTO reports_fts(reports_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    INSERT INTO reports_fts(rowid, text) VALUES (new.seq, new.text);
END
"""


@_migration("0002_fragments_relations_labels")
def fragments_relations_labels(db: Database) -> None:
    _run(db, _SECOND)


_SECOND = """
-- Discontinuous spans: JSON [[start, end], ...] in the source's order ('' when contiguous).
ALTER TABLE spans ADD COLUMN fragments TEXT NOT NULL DEFAULT '';

-- Normalisations of a span to a vocabulary: JSON [{"type", "ref", "text"}] ('' when none).
ALTER TABLE spans ADD COLUMN refs TEXT NOT NULL DEFAULT '';

-- The span's id in the file it came from (brat T12), reused when it is exported again.
ALTER TABLE spans ADD COLUMN source_id TEXT NOT NULL DEFAULT '';

-- Labels that imports brought in beyond the label schema (brat types kept as they are).
CREATE TABLE labels (
    name TEXT PRIMARY KEY,
    color TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    added_at TEXT NOT NULL
);

-- Binary relations between two spans of one report (brat R lines). The arguments are span ids;
-- a relation whose span is gone is not exported.
CREATE TABLE relations (
    id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES reports(id),
    type TEXT NOT NULL,
    arg1_role TEXT NOT NULL,
    arg1 TEXT NOT NULL,
    arg2_role TEXT NOT NULL,
    arg2 TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    source_id TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);

CREATE INDEX relations_by_report ON relations(report_id);

-- Lines of a source file that the model does not hold (brat events, equivalences, notes on
-- events...), kept verbatim and written back on export in their original order.
CREATE TABLE kept_lines (
    report_id TEXT NOT NULL REFERENCES reports(id),
    reviewer TEXT NOT NULL,
    format TEXT NOT NULL,
    position INTEGER NOT NULL,
    kind TEXT NOT NULL,
    line TEXT NOT NULL,
    PRIMARY KEY (report_id, reviewer, format, position)
)
"""


# Also used by a bulk import, which drops this trigger and indexes its rows in one statement
# (several times faster than one trigger call per row), then puts it back, all in its transaction.
FTS_INSERT_TRIGGER = """CREATE TRIGGER reports_fts_insert AFTER INSERT ON reports
BEGIN INSERT INTO reports_fts(rowid, text) VALUES (new.seq, new.text); END"""


@_migration("0003_fts_without_positions")
def fts_without_positions(db: Database) -> None:
    _run(db, _THIRD)


_THIRD = (
    """
-- The trigram index keeps no token positions (detail=none): substring search goes through
-- LIKE, which the trigram tokenizer answers from the index alone, and indexing costs half.
DROP TRIGGER reports_fts_insert;

DROP TRIGGER reports_fts_delete;

DROP TRIGGER reports_fts_update;

DROP TABLE reports_fts;

CREATE VIRTUAL TABLE reports_fts USING fts5(
    text, content='reports', content_rowid='seq', tokenize='trigram', detail='none'
);

INSERT INTO reports_fts(reports_fts) VALUES ('rebuild');

"""
    + FTS_INSERT_TRIGGER
    + """;

CREATE TRIGGER reports_fts_delete AFTER DELETE ON reports
BEGIN INSERT INTO reports_fts(reports_fts, rowid, text) VALUES ('delete', old.seq, old.text); END;

CREATE TRIGGER reports_fts_update AFTER UPDATE OF text ON reports
BEGIN
    INSERT INTO reports_fts(reports_fts, rowid, text) VALUES ('delete', old.seq, old.text);
    INSERT INTO reports_fts(rowid, text) VALUES (new.seq, new.text);
END
"""
)


@_migration("0004_reviewer_position")
def reviewer_position(db: Database) -> None:
    _run(db, _FOURTH)


_FOURTH = """
-- Where each reviewer was in the app (report and cursor offset), so it reopens there.
CREATE TABLE reviewer_position (
    reviewer TEXT PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES reports(id),
    cursor INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
)
"""


@_migration("0005_team")
def team(db: Database) -> None:
    _run(db, _FIFTH)


_FIFTH = """
-- Who is to annotate which report (reviewer assign). A reviewer with assignments sees those
-- reports in the queue; one with none sees every report.
CREATE TABLE assignments (
    report_id TEXT NOT NULL REFERENCES reports(id),
    reviewer TEXT NOT NULL,
    session TEXT NOT NULL DEFAULT '',
    assigned_at TEXT NOT NULL,
    PRIMARY KEY (report_id, reviewer)
);

CREATE INDEX assignments_by_reviewer ON assignments(reviewer);

-- A curation session: its reports, its reviewers and its curator. In a blind session a
-- reviewer sees no one else's spans on a report until marking it done.
CREATE TABLE sessions (
    name TEXT PRIMARY KEY,
    curator TEXT NOT NULL,
    blind INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE session_reports (
    session TEXT NOT NULL REFERENCES sessions(name),
    report_id TEXT NOT NULL REFERENCES reports(id),
    PRIMARY KEY (session, report_id)
);

CREATE INDEX session_reports_by_report ON session_reports(report_id);

CREATE TABLE session_reviewers (
    session TEXT NOT NULL REFERENCES sessions(name),
    reviewer TEXT NOT NULL,
    PRIMARY KEY (session, reviewer)
);

-- The curated (gold) layer's spans are spans of the reserved reviewer '@curated'. Each
-- curation decision is a row here: who made it, when, what, and from which reviewers' spans
-- (JSON [{"id", "reviewer", "start", "end", "label"}]). span_id is the curated span (NULL
-- when the decision rejected the reviewers' spans).
CREATE TABLE curation (
    id INTEGER PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES reports(id),
    span_id TEXT,
    decision TEXT NOT NULL CHECK (decision IN ('agreed', 'accepted', 'edited', 'rejected')),
    curator TEXT NOT NULL,
    curated_at TEXT NOT NULL,
    sources TEXT NOT NULL DEFAULT '[]'
);

CREATE INDEX curation_by_report ON curation(report_id);

CREATE INDEX curation_by_span ON curation(span_id)
"""


@_migration("0006_queue_index")
def queue_index(db: Database) -> None:
    _run(db, _SIXTH)


_SIXTH = """
-- What the app's queue shows of each report, in import order, so that listing 10,000 reports
-- reads this index rather than every report's text (a third of the time to the first screen).
CREATE INDEX reports_for_queue ON reports(seq, id, title, journal, published, length, duplicate_of)
"""

MIGRATION_NAMES = tuple(name for name, _ in _STEPS)
