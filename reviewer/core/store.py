"""The SQLite store: reports, spans, review status and the append-only action log.

One ``Store`` wraps one connection and belongs to the thread that opened it (open another in a
worker thread). The database runs in WAL mode with ``synchronous=NORMAL``, a busy timeout and
foreign keys on, so several processes can share it. Every user action is one ``BEGIN IMMEDIATE``
transaction that changes the spans and appends to the log together: once a call returns, the
change is committed and survives the process being killed.

Undo and redo are derived from the log, so they work across restarts: each reviewer's stack is
the sequence of their ``edit`` actions, minus those an ``undo`` action reverted, plus those a
``redo`` replayed.
"""

from __future__ import annotations

import contextlib
import json
import math
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from reviewer.core.migrations import MIGRATION_NAMES, MIGRATION_SET, reviewer_migrations
from reviewer.core.model import (
    LabelSchema,
    Report,
    ReviewerError,
    ReviewStatus,
    Span,
    Status,
    ValidationError,
    display_title,
    export_meta,
    now_iso,
    validate_span,
)
from reviewer.core.rows import (
    KEPT_LINE_COLUMNS,
    RELATION_COLUMNS,
    RELATION_FIELDS,
    REPORT_COLUMNS,
    SPAN_COLUMNS,
    SPAN_PLACEHOLDERS,
    insert_reports,
    insert_spans,
    insert_sql,
    log_action,
    report_from_row,
    span_from_json,
    span_from_row,
    span_json,
    span_params,
    where_clause,
)
from reviewer.core.schema import load_schema, with_imported

BUSY_TIMEOUT_MS = 15_000
CACHE_KIB = 64 * 1024


class Cancelled(Exception):
    """Work in a worker stopped because its caller asked (the app is closing)."""


@dataclass(frozen=True)
class Change:
    """One span before and after an action (``None`` where it did not exist)."""

    before: Span | None
    after: Span | None

    @property
    def report_id(self) -> str:
        span = self.after or self.before
        assert span is not None
        return span.report_id


def applied(spans: list[Span], changes: Iterable[Change], report_id: str) -> list[Span]:
    """One report's spans, as ``Store.spans`` lists them, after ``changes`` (those of other
    reports are passed over): what reading them again would give, without the read. A
    change is a delete and an insert, so a changed span goes after others in the same
    place, as its new row does."""
    by_id = {span.id: span for span in spans}
    for change in changes:
        if change.before is not None and change.before.report_id == report_id:
            by_id.pop(change.before.id, None)
        if change.after is not None and change.after.report_id == report_id:
            by_id.pop(change.after.id, None)
            by_id[change.after.id] = change.after
    return sorted(by_id.values(), key=_place)


def _place(span: Span) -> tuple[int, int]:
    return span.start, span.end


@dataclass(frozen=True)
class ActionResult:
    """What an action, undo or redo did: its log id and the spans it changed."""

    action_id: int
    kind: str
    changes: tuple[Change, ...]


class Store:
    """The project database. Open it with ``Store(path)``; close it with ``close()``."""

    def __init__(self, path: str | Path, *, labels: LabelSchema | None = None) -> None:
        self.path = Path(path)
        self.workspace = self.path.parent
        # The schema from labels.toml (or the caller); labels imports added come on top of it.
        self._schema = labels if labels is not None else load_schema(self.workspace)
        self.labels = self._schema
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.conn = self.connect()
            self._migrate()
            self.reload_labels()
        except sqlite3.DatabaseError as exc:
            raise ReviewerError(f"{path}: cannot open the database: {exc}") from None

    @property
    def schema(self) -> LabelSchema:
        """The label schema the store was opened with (labels.toml or the caller's), without
        the labels that imports added (those are read from the database)."""
        return self._schema

    def for_thread(self) -> Store:
        """Another store on the same database and labels, for a worker thread (a sqlite
        connection belongs to the thread that made it). Close it when done."""
        return Store(self.path, labels=self._schema)

    def connect(self) -> sqlite3.Connection:
        """A new connection to this database with the store's settings, for the thread that
        calls it (the store's own is ``self.conn``)."""
        conn = sqlite3.connect(str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
        # Span ids are random (uuid5): with the default 2 MB page cache a large import spends
        # most of its time re-reading the id index. 64 MB (taken only as needed) keeps it in.
        conn.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
        return conn

    def imported_labels(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT name FROM labels ORDER BY added_at, name")]

    def add_labels(self, names: list[str], source: str) -> None:
        """Add labels an import brought in, inside the caller's transaction."""
        new = [n for n in names if n not in self.labels]
        self.conn.executemany(
            "INSERT OR IGNORE INTO labels (name, color, source, added_at) VALUES (?, ?, ?, ?)",
            [(n, "", source, now_iso()) for n in new],
        )
        self.labels = with_imported(self.labels, new)

    def reload_labels(self) -> None:
        """The schema plus the labels imports stored (also after a rolled-back import that
        would have added some)."""
        self.labels = with_imported(self._schema, self.imported_labels())

    def insert_relations(self, rows: list[tuple]) -> None:
        """Insert relations (rows in ``relations`` column order), inside the caller's
        transaction; a relation already stored (same id) is left as it is."""
        self.conn.executemany(insert_sql("relations", RELATION_COLUMNS, "OR IGNORE"), rows)

    def insert_kept_lines(self, rows: list[tuple]) -> None:
        """Insert kept source lines (report, reviewer, format, position, kind, line)."""
        self.conn.executemany(insert_sql("kept_lines", KEPT_LINE_COLUMNS), rows)

    def relations(self, report_id: str) -> list[dict[str, str]]:
        """The report's relations, each with its arguments' span ids."""
        keys = RELATION_FIELDS
        rows = self.conn.execute(
            f"SELECT {', '.join(keys)} FROM relations WHERE report_id = ? ORDER BY rowid",
            (report_id,),
        )
        return [dict(zip(keys, row, strict=True)) for row in rows]

    def relations_by_report(self, reviewer: str | None = None) -> dict[str, list[dict[str, str]]]:
        """Every relation (one reviewer's, or everyone's), by report id."""
        where, params = where_clause(reviewer=reviewer)
        keys = ("report_id", *RELATION_FIELDS)
        out: dict[str, list[dict[str, str]]] = {}
        for row in self.conn.execute(
            f"SELECT {', '.join(keys)} FROM relations {where} ORDER BY rowid", params
        ):
            relation = dict(zip(keys, row, strict=True))
            out.setdefault(relation.pop("report_id"), []).append(relation)
        return out

    def kept_line_reviewers(self, report_id: str) -> list[str]:
        """Whose kept source lines a report has."""
        rows = self.conn.execute(
            "SELECT DISTINCT reviewer FROM kept_lines WHERE report_id = ?", (report_id,)
        )
        return [r[0] for r in rows]

    def kept_lines(self, report_id: str, fmt: str, reviewer: str | None = None) -> list[str]:
        """Source lines kept verbatim for a report (one reviewer's, or everyone's)."""
        where, params = where_clause(report_id=report_id, format=fmt, reviewer=reviewer)
        rows = self.conn.execute(
            f"SELECT line FROM kept_lines {where} ORDER BY reviewer, position", params
        )
        return [r[0] for r in rows]

    def _up_to_date(self) -> bool:
        """Whether every migration is applied, read without sqlite-utils (importing it is a
        tenth of the app's start-up; it is needed only when there is something to apply)."""
        try:
            rows = self.conn.execute(
                "SELECT name FROM _sqlite_migrations WHERE migration_set = ?", (MIGRATION_SET,)
            )
            applied = {row[0] for row in rows}
        except sqlite3.OperationalError:  # no such table: a new database
            return False
        return set(MIGRATION_NAMES) <= applied

    @property
    def db(self):  # -> sqlite_utils.Database
        """The connection as a sqlite-utils ``Database``."""
        from sqlite_utils import Database

        return Database(self.conn)

    def _migrate(self) -> None:
        if self._up_to_date():
            return
        migrations = reviewer_migrations()
        if not migrations.pending(self.db):
            return
        with self.write():
            # Checked again under the write lock: another process may have just migrated.
            migrations.apply(self.db)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken with ``BEGIN IMMEDIATE`` so writers queue on the busy
        timeout instead of failing on a lock upgrade; commits on success, rolls back on error."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
            self.conn.execute("COMMIT")
        except BaseException:
            # Also when COMMIT itself fails (a deferred constraint, a full disk): a transaction
            # left open would swallow every later write and lose them all on close.
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            raise

    @contextlib.contextmanager
    def foreign_keys_unchecked(self) -> Iterator[None]:
        """For a bulk import, which only ever writes rows of reports it holds or has just
        inserted: SQLite would look every span's report up again, a second per 200,000 spans.
        The pragma cannot change inside a transaction, so there this does nothing."""
        if self.conn.in_transaction:
            yield
            return
        self.conn.execute("PRAGMA foreign_keys = OFF")
        try:
            yield
        finally:
            self.conn.execute("PRAGMA foreign_keys = ON")

    @contextlib.contextmanager
    def interruptible(self, cancelled: Callable[[], bool] | None) -> Iterator[None]:
        """Let ``cancelled`` stop SQLite inside a statement too, not only between batches
        of rows: sorting or grouping 200,000 spans before the first row comes takes a few
        hundred milliseconds (the app waited that long to close when quit just after it
        started). A statement it stops raises :class:`Cancelled`."""
        if cancelled is None:
            yield
            return
        self.conn.set_progress_handler(cancelled, 10_000)  # asked every 10,000 VM steps
        try:
            yield
        except sqlite3.OperationalError as exc:  # "interrupted", as the handler asked
            if cancelled():
                raise Cancelled from exc
            raise
        finally:
            self.conn.set_progress_handler(None, 0)

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """One consistent snapshot for several SELECTs (a concurrent import cannot show up
        between them); nests inside a write."""
        if self.conn.in_transaction:
            yield self.conn
            return
        self.conn.execute("BEGIN")
        try:
            yield self.conn
        finally:
            if self.conn.in_transaction:
                self.conn.execute("COMMIT")

    # --- reports ------------------------------------------------------------------------------

    def report_count(self) -> int:
        return self.conn.execute("SELECT count(*) FROM reports").fetchone()[0]

    def report_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT id FROM reports ORDER BY seq")]

    def get_report(self, report_id: str) -> Report | None:
        row = self.conn.execute(
            f"SELECT {REPORT_COLUMNS} FROM reports WHERE id = ?", (report_id,)
        ).fetchone()
        return report_from_row(row) if row else None

    def report(self, report_id: str) -> Report:
        report = self.get_report(report_id)
        if report is None:
            raise ReviewerError(f"no report with id {report_id!r}")
        return report

    def report_text(self, report_id: str) -> str:
        """Just a report's text (no metadata to decode): for search, which reads many."""
        row = self.conn.execute("SELECT text FROM reports WHERE id = ?", (report_id,)).fetchone()
        if row is None:
            raise ReviewerError(f"no report with id {report_id!r}")
        return row[0]

    def reports(self) -> Iterator[Report]:
        """Every report, in import order."""
        for row in self.conn.execute(f"SELECT {REPORT_COLUMNS} FROM reports ORDER BY seq"):
            yield report_from_row(row)

    def report_titles(self) -> list[tuple[str, str]]:
        """Each report's id and what to call it in a list (its title, else its first line,
        else its id: :func:`display_title`), in import order, without loading whole texts
        (for the queue)."""
        rows = self.conn.execute(  # from the index reports_for_queue alone
            "SELECT id, title FROM reports ORDER BY seq"
        ).fetchall()
        if all(title for _, title in rows):
            return rows
        # The untitled ones found in that index too, and only their texts' starts read.
        heads: dict[str, str] = dict(
            self.conn.execute(
                "SELECT id, substr(text, 1, 200) FROM reports "
                "WHERE seq IN (SELECT seq FROM reports WHERE title = '')"
            )
        )
        if not heads:
            return rows
        return [(rid, title or display_title("", heads[rid], rid)) for rid, title in rows]

    # --- spans --------------------------------------------------------------------------------

    def get_span(self, span_id: str) -> Span | None:
        row = self.conn.execute(
            f"SELECT {SPAN_COLUMNS} FROM spans WHERE id = ?", (span_id,)
        ).fetchone()
        return span_from_row(row) if row else None

    def spans(
        self,
        report_id: str | None = None,
        *,
        reviewer: str | None = None,
        label: str | None = None,
    ) -> list[Span]:
        """Spans in document order, optionally only one report's, reviewer's or label's."""
        where, params = where_clause(report_id=report_id, reviewer=reviewer, label=label)
        # Spans in the same place, in the order they were written (a change writes anew).
        sql = (
            f"SELECT {SPAN_COLUMNS} FROM spans {where} "
            "ORDER BY report_id, start_char, end_char, rowid"
        )
        return [span_from_row(row) for row in self.conn.execute(sql, params)]

    def spans_overlapping(self, places: list[tuple[str, int, int]]) -> list[list[Span]]:
        """For each place (report id, start, end), the spans that overlap it, in document
        order: one query for a few hundred places (a text search's hits)."""
        found: list[list[Span]] = [[] for _ in places]
        columns = ", ".join(f"s.{c}" for c in SPAN_COLUMNS.split(", "))
        for first in range(0, len(places), 240):  # 4 parameters each: under 999, the most
            chunk = places[first : first + 240]  # SQLite before 3.32 binds in one query
            values = ",".join("(?, ?, ?, ?)" for _ in chunk)
            sql = (
                f"WITH p(i, report_id, start_char, end_char) AS (VALUES {values}) "
                f"SELECT p.i, {columns} FROM p JOIN spans s ON s.report_id = p.report_id "
                "AND s.start_char < p.end_char AND s.end_char > p.start_char "
                "ORDER BY p.i, s.start_char, s.end_char, s.rowid"
            )
            params = [x for i, place in enumerate(chunk, first) for x in (i, *place)]
            for row in self.conn.execute(sql, params):
                found[row[0]].append(span_from_row(row[1:]))
        return found

    def span_counts(self, reviewer: str | None = None) -> dict[str, Counter[str]]:
        """For each report id, how many spans of each label (one reviewer's, or everyone's)."""
        where, params = where_clause(reviewer=reviewer)
        counts: dict[str, Counter[str]] = {}
        sql = f"SELECT report_id, label, count(*) FROM spans {where} GROUP BY report_id, label"
        for rid, label, n in self.conn.execute(sql, params):
            counts.setdefault(rid, Counter())[label] = n
        return counts

    def add_span(self, span: Span) -> ActionResult:
        """Validate and store a new span as one logged, undoable action."""
        return self._add([span], span.reviewer, "add_span")

    def add_spans(self, spans: list[Span], reviewer: str) -> ActionResult:
        """Validate and store several new spans (all ``reviewer``'s) as one action, which one
        undo takes back whole (tagging every hit of a search)."""
        if not spans:
            raise ReviewerError("no spans to add")
        return self._add(spans, reviewer, f"add_spans ({len(spans)})")

    def _add(self, spans: list[Span], reviewer: str, summary: str) -> ActionResult:
        texts: dict[str, str] = {}
        now = now_iso()
        changes = []
        for span in spans:
            if span.reviewer != reviewer:
                raise ReviewerError(f"span {span.id} is {span.reviewer}'s, not {reviewer}'s")
            if span.report_id not in texts:
                texts[span.report_id] = self.report_text(span.report_id)
            validate_span(span, texts[span.report_id], self.labels)
            changes.append(Change(None, replace(span, created_at=now, updated_at=now)))
        return self.record(reviewer, summary, changes)

    def update_span(self, span_id: str, reviewer: str, **changes: Any) -> ActionResult:
        """Change a span's offsets, label, attributes or note; the covered text follows the
        offsets. One logged, undoable action."""
        before = self._own_span(span_id, reviewer)
        allowed = {"start", "end", "label", "attributes", "note"}
        if set(changes) - allowed:
            raise ReviewerError(f"cannot change {sorted(set(changes) - allowed)} of a span")
        after = replace(before, **changes)
        text = self.report_text(before.report_id)
        if after.start != before.start or after.end != before.end:
            after = replace(after, text=text[after.start : after.end])
        validate_span(after, text, self.labels)
        after = replace(after, updated_at=now_iso())
        return self.record(reviewer, "update_span", [Change(before, after)])

    def delete_span(self, span_id: str, reviewer: str) -> ActionResult:
        """Delete a span; the log keeps it, so the deletion can be undone."""
        before = self._own_span(span_id, reviewer)
        return self.record(reviewer, "delete_span", [Change(before, None)])

    def _own_span(self, span_id: str, reviewer: str) -> Span:
        span = self.get_span(span_id)
        if span is None:
            raise ReviewerError(f"no span with id {span_id!r}")
        if span.reviewer != reviewer:
            raise ReviewerError(f"span {span_id} belongs to {span.reviewer}, not {reviewer}")
        return span

    def record(
        self, actor: str, summary: str, changes: list[Change], *, kind: str = "edit"
    ) -> ActionResult:
        """Apply already validated changes as one logged action of ``actor``, who may act on
        another layer's spans (a curator on the curated layer's). An ``edit`` is undoable
        like any; an ``import`` (a merge) is logged but not on anyone's undo stack."""
        with self.write():
            action_id = self.log_action(actor, kind, None, summary)
            for change in changes:
                self._apply(change)
                self._log_event(action_id, actor, change)
        return ActionResult(action_id, kind, tuple(changes))

    def _apply(self, change: Change) -> None:
        if change.before is not None:
            self.conn.execute("DELETE FROM spans WHERE id = ?", (change.before.id,))
        if change.after is not None:
            self.conn.execute(
                f"INSERT INTO spans ({SPAN_COLUMNS}) VALUES ({SPAN_PLACEHOLDERS})",
                span_params(change.after),
            )

    def log_action(self, reviewer: str, kind: str, target: int | None, summary: str) -> int:
        """Append one action to the log, inside the caller's transaction; returns its id."""
        return log_action(self.conn, reviewer, kind, target, summary)

    def _log_event(self, action_id: int, reviewer: str, change: Change) -> None:
        name = {
            (True, False): "add_span",
            (False, True): "delete_span",
            (False, False): "update_span",
        }[(change.before is None, change.after is None)]
        self.conn.execute(
            "INSERT INTO events (action_id, at, reviewer, action, report_id, span_id, before, "
            "after) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                action_id,
                now_iso(),
                reviewer,
                name,
                change.report_id,
                (change.after or change.before).id,  # type: ignore[union-attr]
                span_json(change.before),
                span_json(change.after),
            ),
        )

    # --- undo and redo ------------------------------------------------------------------------

    def undo_stacks(self, reviewer: str) -> tuple[list[int], list[int]]:
        """The reviewer's undo and redo stacks (edit action ids, most recent last), from the log."""
        undo: list[int] = []
        redo: list[int] = []
        rows = self.conn.execute(
            "SELECT id, kind, target FROM actions WHERE reviewer = ? "
            "AND kind IN ('edit', 'undo', 'redo') ORDER BY id",
            (reviewer,),
        )
        for action_id, kind, target in rows:
            if kind == "edit":
                undo.append(action_id)
                redo.clear()
            elif kind == "undo" and undo and undo[-1] == target:
                redo.append(undo.pop())
            elif kind == "redo" and redo and redo[-1] == target:
                undo.append(redo.pop())
        return undo, redo

    def undo(self, reviewer: str) -> ActionResult | None:
        """Revert the reviewer's latest edit not yet undone; ``None`` when there is none."""
        return self._replay(reviewer, "undo")

    def redo(self, reviewer: str) -> ActionResult | None:
        """Replay the reviewer's latest undone edit; ``None`` when there is none."""
        return self._replay(reviewer, "redo")

    def _replay(self, reviewer: str, kind: str) -> ActionResult | None:
        with self.write():
            undo, redo = self.undo_stacks(reviewer)
            stack = undo if kind == "undo" else redo
            if not stack:
                return None
            target = stack[-1]
            rows = self.conn.execute(
                "SELECT before, after FROM events WHERE action_id = ? ORDER BY id", (target,)
            ).fetchall()
            recorded = [Change(span_from_json(b), span_from_json(a)) for b, a in rows]
            if kind == "undo":
                changes = [Change(c.after, c.before) for c in reversed(recorded)]
            else:
                changes = recorded
            action_id = self.log_action(reviewer, kind, target, f"{kind} of action {target}")
            for change in changes:
                self._check_current(change, kind)
                self._apply(change)
                self._log_event(action_id, reviewer, change)
        return ActionResult(action_id, kind, tuple(changes))

    def _check_current(self, change: Change, kind: str) -> None:
        span_id = (change.before or change.after).id  # type: ignore[union-attr]
        current = self.get_span(span_id)
        expected = change.before
        if (current is None) != (expected is None) or (
            current is not None and expected is not None and current.content() != expected.content()
        ):
            raise ReviewerError(f"cannot {kind}: span {span_id} has changed since")

    # --- review status ------------------------------------------------------------------------

    def status(self, report_id: str, reviewer: str) -> ReviewStatus:
        row = self.conn.execute(
            "SELECT status, seconds_spent, flag_reason, updated_at FROM review_status "
            "WHERE report_id = ? AND reviewer = ?",
            (report_id, reviewer),
        ).fetchone()
        if row is None:
            return ReviewStatus(report_id, reviewer)
        return ReviewStatus(report_id, reviewer, Status(row[0]), row[1], row[2], row[3])

    def statuses(self, reviewer: str) -> dict[str, Status]:
        """Each report's status for one reviewer (reports with no row are todo)."""
        rows = self.conn.execute(
            "SELECT report_id, status FROM review_status WHERE reviewer = ?", (reviewer,)
        )
        return {rid: Status(status) for rid, status in rows}

    def set_status(
        self,
        report_id: str,
        reviewer: str,
        status: Status,
        *,
        reason: str = "",
        add_seconds: float = 0.0,
    ) -> ReviewStatus:
        """Record a reviewer's status for a report (and time spent), logged as one action."""
        self.report(report_id)
        status = Status(status)
        if not math.isfinite(add_seconds) or add_seconds < 0:
            raise ValidationError(f"time spent must be a positive number, not {add_seconds}")
        if status is Status.FLAGGED and not reason.strip():
            raise ReviewerError("flagging a report needs a reason")
        now = now_iso()
        with self.write():
            self.conn.execute(
                "INSERT INTO review_status (report_id, reviewer, status, flag_reason, "
                "seconds_spent, updated_at) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (report_id, reviewer) DO UPDATE SET status = excluded.status, "
                "flag_reason = excluded.flag_reason, "
                "seconds_spent = seconds_spent + excluded.seconds_spent, "
                "updated_at = excluded.updated_at",
                (report_id, reviewer, status.value, reason, add_seconds, now),
            )
            self.log_action(
                reviewer,
                "status",
                None,
                json.dumps({"report_id": report_id, "status": status.value, "reason": reason}),
            )
        return self.status(report_id, reviewer)

    def add_time(self, report_id: str, reviewer: str, seconds: float) -> None:
        """Add time spent on a report without changing its status (not an action: no log)."""
        if not math.isfinite(seconds) or seconds <= 0:
            return
        with self.write():
            self.conn.execute(
                "INSERT INTO review_status (report_id, reviewer, status, flag_reason, "
                "seconds_spent, updated_at) VALUES (?, ?, 'todo', '', ?, ?) "
                "ON CONFLICT (report_id, reviewer) DO UPDATE SET "
                "seconds_spent = seconds_spent + excluded.seconds_spent",
                (report_id, reviewer, seconds, now_iso()),
            )

    # --- where a reviewer was -----------------------------------------------------------------

    def position(self, reviewer: str) -> tuple[str, int] | None:
        """The report and cursor offset where the reviewer last was, if that report exists."""
        row = self.conn.execute(
            "SELECT report_id, cursor FROM reviewer_position WHERE reviewer = ?", (reviewer,)
        ).fetchone()
        return (row[0], row[1]) if row else None

    def save_position(self, reviewer: str, report_id: str, cursor: int) -> None:
        with self.write():
            self.conn.execute(
                "INSERT INTO reviewer_position (reviewer, report_id, cursor, updated_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (reviewer) DO UPDATE SET "
                "report_id = excluded.report_id, cursor = excluded.cursor, "
                "updated_at = excluded.updated_at",
                (reviewer, report_id, cursor, now_iso()),
            )

    # --- reading the log and counting ---------------------------------------------------------

    def events(self, *, reviewer: str | None = None, limit: int | None = None) -> list[dict]:
        where, params = where_clause(reviewer=reviewer)
        sql = (
            "SELECT id, action_id, at, reviewer, action, report_id, span_id, before, after "
            f"FROM events {where} ORDER BY id"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        keys = (
            "id",
            "action_id",
            "at",
            "reviewer",
            "action",
            "report_id",
            "span_id",
            "before",
            "after",
        )
        return [dict(zip(keys, row, strict=True)) for row in self.conn.execute(sql, params)]

    def stats(self) -> dict[str, Any]:
        """Counts of reports, spans per label and reviewer, and statuses per reviewer."""
        with self.read():
            return self._stats()

    def _stats(self) -> dict[str, Any]:
        q = self.conn.execute
        by_status: dict[str, dict[str, int]] = {}
        for reviewer, status, n in q(
            "SELECT reviewer, status, count(*) FROM review_status GROUP BY reviewer, status"
        ):
            by_status.setdefault(reviewer, {})[status] = n
        reports = self.report_count()
        for reviewer in set(by_status) | {r for (r,) in q("SELECT DISTINCT reviewer FROM spans")}:
            counts = by_status.setdefault(reviewer, {})
            counts["todo"] = reports - sum(n for s, n in counts.items() if s != "todo")
        return {
            "reports": reports,
            "duplicates": q(
                "SELECT count(*) FROM reports WHERE duplicate_of IS NOT NULL"
            ).fetchone()[0],
            "spans": q("SELECT count(*) FROM spans").fetchone()[0],
            "labels": dict(q("SELECT label, count(*) FROM spans GROUP BY label ORDER BY label")),
            "reviewers": dict(
                q("SELECT reviewer, count(*) FROM spans GROUP BY reviewer ORDER BY reviewer")
            ),
            "status": {r: dict(sorted(c.items())) for r, c in sorted(by_status.items())},
        }

    def report_ids_with_status(self, status: Status, reviewer: str | None = None) -> set[str]:
        """Reports with ``status`` for ``reviewer``, or for anyone when no reviewer is given
        (``todo`` then means nobody has moved it on)."""
        where, params = where_clause(reviewer=reviewer)
        has: dict[str, set[str]] = {}
        with self.read():
            for rid, st in self.conn.execute(
                f"SELECT report_id, status FROM review_status {where}", params
            ):
                has.setdefault(rid, set()).add(st)
            if status is Status.TODO:
                return {rid for rid in self.report_ids() if not has.get(rid, set()) - {"todo"}}
        return {rid for rid, statuses in has.items() if status.value in statuses}

    def reports_with_spans(
        self,
        *,
        label: str | None = None,
        reviewer: str | None = None,
        only: set[str] | None = None,
    ) -> Iterator[tuple[Report, list[dict]]]:
        """Reports in import order, each with its spans in document order as ``Span.to_dict()``
        dicts (building 200,000 ``Span`` objects would triple an export's time), read in one
        snapshot. ``only`` limits the reports; ``label`` and ``reviewer`` the spans."""
        where, params = where_clause("s", label=label, reviewer=reviewer)
        with self.read():
            rows = self.conn.execute(
                "SELECT r.seq, s.id, s.start_char, s.end_char, s.label, s.text, s.reviewer, "
                "s.attributes, s.note, s.fragments, s.refs "
                f"FROM spans s JOIN reports r ON r.id = s.report_id {where} "
                "ORDER BY r.seq, s.start_char, s.end_char, s.label, s.reviewer, s.id",
                params,
            )
            by_seq: dict[int, list[dict]] = {}
            for seq, sid, start, end, label_, text, reviewer_, attrs, note, frags, refs in rows:
                span = {
                    "id": sid,
                    "start": start,
                    "end": end,
                    "label": label_,
                    "text": text,
                    "reviewer": reviewer_,
                    "attributes": json.loads(attrs) if attrs != "{}" else {},
                    "note": note,
                }
                if frags:
                    span["fragments"] = json.loads(frags)
                if refs:
                    span["refs"] = json.loads(refs)
                by_seq.setdefault(seq, []).append(span)
            reports = self.conn.execute(f"SELECT seq, {REPORT_COLUMNS} FROM reports ORDER BY seq")
            for row in reports:
                if only is None or row[1] in only:
                    yield report_from_row(row[1:]), by_seq.get(row[0], [])

    def reports_with_span_json(
        self,
        *,
        label: str | None = None,
        reviewer: str | None = None,
        only: set[str] | None = None,
    ) -> Iterator[tuple[str, bytes, dict[str, Any], bytes]]:
        """The JSONL export's parts of each report, in import order, read in one query: its
        id, its text as a JSON string, its ``export_meta()``, and its spans in document order
        as JSON objects (the ``Span.to_dict()`` form) joined by commas. SQLite writes the JSON
        (UTF-8, compact, keys in ``to_dict()`` order) in a third of the time that building the
        dicts in Python takes; a test holds the two byte for byte."""
        where, params = where_clause("s", label=label, reviewer=reviewer)
        filters = where.replace("WHERE", "AND", 1)
        rows = self.conn.execute(
            "SELECT r.id, CAST(json_quote(r.text) AS BLOB), r.title, r.journal, r.published, "
            "r.doi, r.authors, r.source, r.meta, "
            f"(SELECT CAST(group_concat(o, ',') AS BLOB) FROM (SELECT {_SPAN_JSON} AS o "
            f"FROM spans s WHERE s.report_id = r.id {filters} ORDER BY {_SPAN_ORDER})) "
            "FROM reports r ORDER BY r.seq",
            params,
        )
        for rid, text, title, journal, published, doi, authors, source, meta, spans in rows:
            if only is None or rid in only:
                authors = json.loads(authors) if authors != "[]" else ()
                meta = json.loads(meta) if meta != "{}" else {}
                yield (
                    rid,
                    text,
                    export_meta(title, journal, published, doi, authors, source, meta),
                    spans or b"",
                )

    def fts_report_ids(self, query: str) -> list[str]:
        """Ids of reports whose text contains ``query``, ignoring case (see
        :meth:`iter_fts_report_ids`)."""
        return list(self.iter_fts_report_ids(query))

    def iter_fts_report_ids(self, query: str) -> Iterator[str]:
        """Ids of reports whose text contains ``query``, ignoring case (Unicode case too).

        The trigram index answers LIKE from its ASCII runs of 3+ characters; shorter queries
        scan. LIKE folds ASCII case only, so each non-ASCII character becomes the one-character
        wildcard ``_``; for such a query, or one holding the wildcards ``%`` or ``_``, the
        candidates are checked again here with Unicode case folding."""
        sql = (
            "SELECT r.id{} FROM reports_fts JOIN reports r ON r.seq = reports_fts.rowid "
            "WHERE reports_fts.text LIKE ?"
        )  # no ORDER BY: the index yields rows in rowid (import) order, and sorting would
        # read every match before the first could be used
        pattern = "".join(c if c.isascii() else "_" for c in query)
        if pattern == query and "%" not in query and "_" not in query:
            yield from (r[0] for r in self.conn.execute(sql.format(""), (f"%{query}%",)))
            return
        folded = query.casefold()
        rows = self.conn.execute(sql.format(", r.text"), (f"%{pattern}%",))
        yield from (rid for rid, text in rows if folded in text.casefold())

    def spans_by_id(self, span_ids: list[str]) -> dict[str, Span]:
        """The stored spans among ``span_ids``, by id."""
        found: dict[str, Span] = {}
        for i in range(0, len(span_ids), 500):
            chunk = span_ids[i : i + 500]
            sql = f"SELECT {SPAN_COLUMNS} FROM spans WHERE id IN ({','.join('?' * len(chunk))})"
            for row in self.conn.execute(sql, chunk):
                found[row[0]] = span_from_row(row)
        return found

    def has_deletions(self) -> bool:
        """Whether any span was ever deleted (one look at the log; an import asks once)."""
        row = self.conn.execute("SELECT 1 FROM events WHERE action = 'delete_span' LIMIT 1")
        return row.fetchone() is not None

    def deleted_span_ids(self, span_ids: list[str]) -> set[str]:
        """Those of ``span_ids`` whose latest logged change is a deletion."""
        if not span_ids:
            return set()
        last: dict[str, str] = {}
        for i in range(0, len(span_ids), 500):
            chunk = span_ids[i : i + 500]
            sql = (
                "SELECT span_id, action FROM events "
                f"WHERE span_id IN ({','.join('?' * len(chunk))}) ORDER BY id"
            )
            last.update(self.conn.execute(sql, chunk))
        return {sid for sid, action in last.items() if action == "delete_span"}

    def insert_reports(self, reports: Iterable[Report]) -> None:
        """Insert new reports, inside a transaction the caller holds (used by import)."""
        insert_reports(self.conn, reports)

    def insert_spans(self, spans: Iterable[Span]) -> None:
        """Insert new spans, inside a transaction the caller holds (used by import)."""
        insert_spans(self.conn, spans)


# Spans in document order; spans on the same stretch by label, reviewer and id.
_SPAN_ORDER = "s.start_char, s.end_char, s.label, s.reviewer, s.id"
# A span as the JSON object ``Span.to_dict()`` gives (group_concat keeps the subquery's order):
# ``fragments`` and ``refs`` are there only when the span has them.
_SPAN_OBJECT = (
    "json_object('id', s.id, 'start', s.start_char, 'end', s.end_char, 'label', s.label, "
    "'text', s.text, 'reviewer', s.reviewer, 'attributes', "
    "CASE s.attributes WHEN '{}' THEN json_object() ELSE json(s.attributes) END, 'note', s.note)"
)
_SPAN_JSON = (
    f"CASE WHEN s.fragments = '' AND s.refs = '' THEN {_SPAN_OBJECT} "
    f"WHEN s.refs = '' THEN json_insert({_SPAN_OBJECT}, '$.fragments', json(s.fragments)) "
    f"WHEN s.fragments = '' THEN json_insert({_SPAN_OBJECT}, '$.refs', json(s.refs)) "
    f"ELSE json_insert({_SPAN_OBJECT}, '$.fragments', json(s.fragments), '$.refs', json(s.refs)) "
    "END"
)
