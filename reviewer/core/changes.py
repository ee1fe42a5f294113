"""What other connections changed, for an app that shares its database with other processes.

SQLite's ``PRAGMA data_version`` moves on a connection when *another* connection commits (its
own commits leave it alone) and costs next to nothing, so an app can ask it twice a second and
read the rest only when it moved. What changed is then read from:

* the append-only log: ``actions`` and ``events`` ids only grow, in commit order (a writer
  takes the write lock, ``BEGIN IMMEDIATE``, before it inserts), so "ids above the last one
  read" misses nothing and repeats nothing. An edit, undo or redo lists its span changes in
  ``events``; a status action names its report in its summary; an import (or a merge) asks
  for the queue, its counts and the search index to be read again;
* new ``reports`` rows (``seq`` grows too);
* a fingerprint of the team tables (assignments and sessions are not logged).

The changes read include the reading process's own, already applied: applying a span change
again is harmless (a span is replaced by id), and replaying the log in order ends at what the
database holds.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from reviewer.core.model import Status
from reviewer.core.rows import span_from_json
from reviewer.core.store import Change, Store

# A status action names its report in its summary; an edit, undo or redo lists its spans in
# ``events``; an import (or a merge) is read as a whole.
_STATUS = "status"
_IMPORT = "import"


@dataclass(frozen=True)
class LogMark:
    """How far the log and the reports have been read: the highest ids seen."""

    action_id: int = 0
    event_id: int = 0
    report_seq: int = 0


@dataclass(frozen=True)
class Changes:
    """What was committed after a :class:`LogMark`, and the mark that follows it."""

    mark: LogMark
    spans: tuple[Change, ...] = ()
    """Span changes from the log, in the order they were made."""
    statuses: dict[tuple[str, str], Status] = field(default_factory=dict)
    """The current status of each (report id, reviewer) whose status was set."""
    new_reports: tuple[str, ...] = ()
    """Reports added (imported), in import order."""
    unlogged: bool = False
    """Something changed spans without listing them (an import): read counts and the search
    index again."""
    team: bool = False
    """Assignments or sessions changed."""

    @property
    def span_reports(self) -> set[str]:
        """The reports whose spans the logged changes touched."""
        return {change.report_id for change in self.spans}

    def __bool__(self) -> bool:
        return bool(self.spans or self.statuses or self.new_reports or self.unlogged or self.team)


def data_version(store: Store) -> int:
    """``PRAGMA data_version`` of the store's connection: it changes when another connection
    commits."""
    return store.conn.execute("PRAGMA data_version").fetchone()[0]


def log_mark(store: Store) -> LogMark:
    """The mark of everything committed now (read it in the snapshot it is meant for)."""
    row = store.conn.execute(
        "SELECT (SELECT coalesce(max(id), 0) FROM actions), "
        "(SELECT coalesce(max(id), 0) FROM events), "
        "(SELECT coalesce(max(seq), 0) FROM reports)"
    ).fetchone()
    return LogMark(*row)


def changes_since(store: Store, mark: LogMark) -> Changes:
    """Everything logged after ``mark`` (call it inside ``store.read()`` for one snapshot)."""
    q = store.conn.execute
    actions = q(
        "SELECT id, kind, reviewer, summary FROM actions WHERE id > ? ORDER BY id",
        (mark.action_id,),
    ).fetchall()
    events = q(
        "SELECT id, action_id, before, after FROM events WHERE id > ? ORDER BY id",
        (mark.event_id,),
    ).fetchall()
    reports = q(
        "SELECT seq, id FROM reports WHERE seq > ? ORDER BY seq", (mark.report_seq,)
    ).fetchall()
    with_events = {action_id for _, action_id, _, _ in events}
    unlogged = False
    touched: set[tuple[str, str]] = set()
    for action_id, kind, reviewer, summary in actions:
        if kind == _STATUS:
            report_id = _status_report(summary)
            if report_id is None:
                unlogged = True
            else:
                touched.add((report_id, reviewer))
        elif kind == _IMPORT or action_id not in with_events:
            # An import lists no spans; a merge (an import too) lists its spans but may bring
            # statuses and assignments: read everything again. So for an unknown action.
            unlogged = True
    statuses = {(rid, who): store.status(rid, who).status for rid, who in sorted(touched)}
    spans = tuple(Change(span_from_json(b), span_from_json(a)) for _, _, b, a in events)
    new_mark = LogMark(
        actions[-1][0] if actions else mark.action_id,
        events[-1][0] if events else mark.event_id,
        reports[-1][0] if reports else mark.report_seq,
    )
    return Changes(
        new_mark,
        spans,
        statuses,
        tuple(rid for _, rid in reports),
        unlogged or bool(reports),
    )


def _status_report(summary: str) -> str | None:
    """The report a status action was about (the store writes its summary as JSON)."""
    try:
        report_id = json.loads(summary).get("report_id")
    except (ValueError, AttributeError):
        return None
    return report_id if isinstance(report_id, str) else None


def team_state(store: Store) -> tuple:
    """A fingerprint of assignments and sessions: it changes when rows are added, removed or
    a session's blindness changes (they are not in the log)."""
    try:
        return store.conn.execute(
            "SELECT (SELECT count(*) || ':' || coalesce(max(rowid), 0) FROM assignments), "
            "(SELECT count(*) || ':' || coalesce(sum(blind), 0) FROM sessions), "
            "(SELECT count(*) || ':' || coalesce(max(rowid), 0) FROM session_reports), "
            "(SELECT count(*) || ':' || coalesce(max(rowid), 0) FROM session_reviewers)"
        ).fetchone()
    except sqlite3.OperationalError:  # a database without the team tables
        return ()


def layer_counts(
    store: Store, report_ids: Iterable[str] | None = None
) -> dict[str, dict[str, Counter[str]]]:
    """Span counts per label, per reviewer, per report: of every report, or of those given."""
    out: dict[str, dict[str, Counter[str]]] = {}
    sql = "SELECT report_id, reviewer, label, count(*) FROM spans {} GROUP BY 1, 2, 3"
    if report_ids is None:
        chunks: list[list[str]] = [[]]
    else:
        ids = sorted(set(report_ids))
        if not ids:
            return out
        chunks = [ids[i : i + 500] for i in range(0, len(ids), 500)]
    for chunk in chunks:
        where = f"WHERE report_id IN ({','.join('?' * len(chunk))})" if chunk else ""
        for rid, reviewer, label, n in store.conn.execute(sql.format(where), chunk):
            out.setdefault(rid, {}).setdefault(reviewer, Counter())[label] = n
    return out


class Watcher:
    """Notices other connections' commits on a store and says what they changed.

    Make it before reading what it is to keep current: a commit in between is then read twice
    (harmless), never missed."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.version = data_version(store)
        with store.read():
            self.mark = log_mark(store)
            self.team = team_state(store)

    def moved(self) -> bool:
        """Whether another connection committed since the last call (one pragma)."""
        version = data_version(self.store)
        if version == self.version:
            return False
        self.version = version
        return True

    def read(self) -> Changes:
        """What was committed since the last read, in one snapshot."""
        with self.store.read():
            changes = changes_since(self.store, self.mark)
            team = team_state(self.store)
        self.mark = changes.mark
        if team != self.team:
            self.team = team
            changes = Changes(
                changes.mark,
                changes.spans,
                changes.statuses,
                changes.new_reports,
                changes.unlogged,
                team=True,
            )
        return changes
