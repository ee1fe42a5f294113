"""Merging work done apart: ``reviewer merge OTHER.db``.

Reports, spans, statuses, assignments, sessions and curation decisions of another reviewer
database are added to this one. Spans are matched by id, so merging twice changes nothing.
A span changed on one side only takes that side's version (the log says which version it
came from). When the same span was changed on both sides (or changed on one and deleted on
the other), the later change wins, the other version is kept in the event log (one ``import``
action, ``merge from ...``, with an event per span), and the summary lists every such case.
A report with the same id and another text stops the merge before anything is written.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.core.model import ReviewerError, Span, differences
from reviewer.core.rows import (
    KEPT_LINE_COLUMNS,
    RELATION_COLUMNS,
    REPORT_COLUMNS,
    SPAN_COLUMNS,
    insert_sql,
    report_from_row,
    span_from_json,
    span_from_row,
)
from reviewer.core.store import Change, Store
from reviewer.core.text import has_controls


@dataclass
class MergeSummary:
    reports: int = 0
    spans_added: int = 0
    spans_updated: int = 0
    spans_deleted: int = 0
    spans_same: int = 0
    statuses: int = 0
    rows: int = 0  # assignments, sessions, curation decisions, relations, labels
    conflicts: list[str] = field(default_factory=list)

    def line(self) -> str:
        return (
            f"merged: {self.reports} reports, {self.spans_added} spans added, "
            f"{self.spans_updated} updated, {self.spans_deleted} deleted, {self.spans_same} "
            f"already here, {self.statuses} statuses, {self.rows} other rows; "
            f"{len(self.conflicts)} conflict{'s' * (len(self.conflicts) != 1)}"
        )


def _open(path: Path) -> sqlite3.Connection:
    if not Path(path).is_file():
        raise ReviewerError(f"{path}: no such database file")
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    except sqlite3.DatabaseError as exc:
        raise ReviewerError(f"{path}: not a reviewer database: {exc}") from None
    if not {"reports", "spans", "events", "review_status"} <= tables:
        raise ReviewerError(f"{path}: not a reviewer database (no reports and spans tables)")
    return conn


def merge(store: Store, other_path: Path, actor: str) -> MergeSummary:
    """Merge the database at ``other_path`` into ``store`` in one transaction."""
    if Path(other_path).resolve() == store.path.resolve():
        raise ReviewerError(f"{other_path}: that is this database")
    other = _open(other_path)
    summary = MergeSummary()
    try:
        with store.write():
            _reports(store, other, summary)
            _labels(store, other, summary)
            changes = _spans(store, other, summary)
            if changes:
                store.record(actor, f"merge from {Path(other_path).name}", changes, kind="import")
            _statuses(store, other, summary)
            _team_rows(store, other, summary)
    finally:
        other.close()
    return summary


def _reports(store: Store, other: sqlite3.Connection, summary: MergeSummary) -> None:
    ours = dict(store.conn.execute("SELECT id, sha256 FROM reports"))
    new = []
    for row in other.execute(f"SELECT {REPORT_COLUMNS} FROM reports ORDER BY seq"):
        report = report_from_row(row)
        sha = ours.get(report.id)
        if sha is None:
            new.append(report)
        elif sha != report.sha256:
            raise ReviewerError(
                f"report id {report.id!r} has another text in the other database: "
                "nothing was merged"
            )
    store.insert_reports(new)
    summary.reports = len(new)


def _labels(store: Store, other: sqlite3.Connection, summary: MergeSummary) -> None:
    names = [r[0] for r in other.execute("SELECT name FROM labels ORDER BY added_at, name")]
    new = [n for n in names if n not in store.labels]
    if new:
        store.add_labels(new, "merge")
        summary.rows += len(new)


def _deleted_at(conn: sqlite3.Connection) -> dict[str, tuple[str, Span]]:
    """Spans whose latest logged change is a deletion: when, and the span as it was."""
    last: dict[str, tuple[str, str, str | None]] = {}
    for span_id, at, action, before in conn.execute(
        "SELECT span_id, at, action, before FROM events WHERE span_id IS NOT NULL ORDER BY id"
    ):
        last[span_id] = (at, action, before)
    out = {}
    for span_id, (at, action, before) in last.items():
        span = span_from_json(before)
        if action == "delete_span" and span is not None:
            out[span_id] = (at, span)
    return out


def _version(span: Span) -> str:
    return repr(span.content())


def _history(conn: sqlite3.Connection) -> dict[str, set[str]]:
    """Every version each span has had in a database, from its log: a span whose version on
    the other side is one of these was changed on one side only, which is no conflict."""
    out: dict[str, set[str]] = {}
    rows = conn.execute("SELECT span_id, before, after FROM events WHERE span_id IS NOT NULL")
    for span_id, before, after in rows:
        for data in (before, after):
            span = span_from_json(data)
            if span is not None:
                out.setdefault(span_id, set()).add(_version(span))
    return out


def _check_names(*names: str) -> None:
    """Names from another database reach the terminal: refuse control characters."""
    for name in names:
        if has_controls(name):
            raise ReviewerError(
                f"the other database names {name!r}, with control characters: nothing was merged"
            )


def _spans(store: Store, other: sqlite3.Connection, summary: MergeSummary) -> list[Change]:
    ours = {
        row[0]: span_from_row(row)
        for row in store.conn.execute(f"SELECT {SPAN_COLUMNS} FROM spans")
    }
    theirs = {
        row[0]: span_from_row(row) for row in other.execute(f"SELECT {SPAN_COLUMNS} FROM spans")
    }
    ours_deleted = _deleted_at(store.conn)
    theirs_deleted = _deleted_at(other)
    ours_history, theirs_history = _history(store.conn), _history(other)
    changes: list[Change] = []
    for span in theirs.values():
        _check_names(span.reviewer, span.label)
    for sid, span in theirs.items():
        mine = ours.get(sid)
        seen_here = _version(span) in ours_history.get(sid, ())
        if mine is None and sid in ours_deleted:
            at, _ = ours_deleted[sid]
            if seen_here:
                summary.spans_same += 1  # we had that version, then deleted it: it stays so
            elif span.updated_at > at:  # edited there after we deleted it: theirs wins
                changes.append(Change(None, span))
                summary.spans_added += 1
                _conflict(summary, span, "deleted here, edited there later: kept theirs")
            else:  # their edit goes to our log (so it is listed once), the span stays deleted
                changes.append(Change(span, None))
                _conflict(summary, span, "edited there, deleted here later: stays deleted")
        elif mine is None:
            changes.append(Change(None, span))
            summary.spans_added += 1
        elif mine.content() == span.content():
            summary.spans_same += 1
        elif seen_here and span.updated_at <= mine.updated_at:
            summary.spans_same += 1  # theirs is a version ours came from: only we changed it
        elif _version(mine) in theirs_history.get(sid, ()) and mine.updated_at <= span.updated_at:
            changes.append(Change(mine, span))  # ours is a version theirs came from
            summary.spans_updated += 1
        elif span.updated_at > mine.updated_at:
            changes.append(Change(mine, span))  # ours stays in the log as "before"
            summary.spans_updated += 1
            _conflict(summary, span, "changed on both sides: kept theirs (later)", mine)
        else:
            changes.append(Change(span, mine))  # theirs kept in the log as "before"
            _conflict(summary, span, "changed on both sides: kept ours (later)", mine)
    for sid, (at, gone) in theirs_deleted.items():
        mine = ours.get(sid)
        if mine is None or sid in theirs:
            continue
        if _version(mine) in theirs_history.get(sid, ()):
            changes.append(Change(mine, None))  # they had our version, then deleted it
            summary.spans_deleted += 1
        elif _version(gone) in ours_history.get(sid, ()) and mine.updated_at >= at:
            summary.spans_same += 1  # their deletion was seen here before, and ours is later
        elif at > mine.updated_at:
            changes.append(Change(mine, None))
            summary.spans_deleted += 1
            _conflict(summary, mine, "edited here, deleted there later: deleted")
        else:  # their deleted version goes to our log, so this is listed once
            changes.append(Change(gone, mine))
            _conflict(summary, mine, "deleted there, edited here later: kept ours")
    return changes


def _conflict(summary: MergeSummary, span: Span, what: str, mine: Span | None = None) -> None:
    where = f"{span.report_id} {span.start}-{span.end} {span.label}"
    diff = f"; {differences(mine, span, 'here', 'there')}" if mine is not None else ""
    summary.conflicts.append(f"{where} ({span.reviewer}, span {span.id}): {what}{diff}")


def _statuses(store: Store, other: sqlite3.Connection, summary: MergeSummary) -> None:
    """Each (report, reviewer) status: the later one wins."""
    ours = {
        (rid, rev): at
        for rid, rev, at in store.conn.execute(
            "SELECT report_id, reviewer, updated_at FROM review_status"
        )
    }
    rows = other.execute(
        "SELECT report_id, reviewer, status, flag_reason, seconds_spent, updated_at "
        "FROM review_status"
    ).fetchall()
    newer = [r for r in rows if (r[0], r[1]) not in ours or r[5] > ours[(r[0], r[1])]]
    store.conn.executemany(
        "INSERT OR REPLACE INTO review_status (report_id, reviewer, status, flag_reason, "
        "seconds_spent, updated_at) VALUES (?, ?, ?, ?, ?, ?)",
        newer,
    )
    summary.statuses = len(newer)


# Tables whose rows are added when not already there (by their key, or by every column).
_PLAIN = {
    "sessions": ("name", "curator", "blind", "created_at"),
    "session_reports": ("session", "report_id"),
    "session_reviewers": ("session", "reviewer"),
    "assignments": ("report_id", "reviewer", "session", "assigned_at"),
    "kept_lines": KEPT_LINE_COLUMNS,
    "relations": RELATION_COLUMNS,
}
_CURATION = ("report_id", "span_id", "decision", "curator", "curated_at", "sources")


def _team_rows(store: Store, other: sqlite3.Connection, summary: MergeSummary) -> None:
    tables = {r[0] for r in other.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    q = store.conn
    if "sessions" in tables:
        ours = {r[0]: r[1:] for r in q.execute("SELECT name, curator, blind FROM sessions")}
        for name, curator, blind in other.execute("SELECT name, curator, blind FROM sessions"):
            _check_names(name, curator)
            if name in ours and ours[name] != (curator, blind):
                raise ReviewerError(
                    f"session {name!r} is another session in the other database (curator "
                    f"{curator}, here {ours[name][0]}): nothing was merged"
                )
        for table in ("session_reviewers", "assignments"):
            for (name,) in other.execute(f"SELECT reviewer FROM {table}"):
                _check_names(name)
    for table, columns in _PLAIN.items():
        if table not in tables:
            continue
        before = q.total_changes
        q.executemany(
            insert_sql(table, columns, "OR IGNORE"),
            other.execute(f"SELECT {', '.join(columns)} FROM {table}"),
        )
        summary.rows += q.total_changes - before
    if "curation" in tables:
        have = set(q.execute(f"SELECT {', '.join(_CURATION)} FROM curation"))
        new = [
            r
            for r in other.execute(f"SELECT {', '.join(_CURATION)} FROM curation ORDER BY id")
            if r not in have
        ]
        q.executemany(insert_sql("curation", _CURATION), new)
        summary.rows += len(new)
