"""Team work on one database: assignments, curation sessions, blind mode, and the inputs of
the agreement figures.

An *assignment* gives a report to a reviewer; a reviewer with assignments sees only those
reports in the queue. A *session* has a name, its reports, its reviewers and its curator;
creating one assigns each of its reports to N of its reviewers, balanced. In a *blind* session
(the default) a reviewer sees no one else's spans on a report until they have marked it done,
so the agreement figures measure independent work.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviewer.core.model import ReviewerError, Status, now_iso
from reviewer.core.store import Store
from reviewer.core.text import has_controls

if TYPE_CHECKING:
    from reviewer.core.agreement import ReportLayers

CURATED = "@curated"
"""The reviewer name of the curated (gold) layer; no person can take it."""


def check_reviewer_name(name: str) -> str:
    """A person's reviewer name, or an error: not empty, no control characters, and not the
    curated layer's (nor any name starting with ``@``, kept for layers)."""
    if not name.strip() or has_controls(name):
        raise ReviewerError(f"reviewer name {name!r} is empty or has control characters")
    if name.startswith("@"):
        raise ReviewerError(f"reviewer name {name!r}: names starting with @ are kept for layers")
    return name


def parse_names(value: str) -> list[str]:
    """``a,b,c`` as a list of checked reviewer names, without repeats."""
    names = [n.strip() for n in value.split(",") if n.strip()]
    if not names:
        raise ReviewerError("no reviewer names given (use a,b,c)")
    for name in names:
        check_reviewer_name(name)
    if len(set(names)) != len(names):
        raise ReviewerError(f"a reviewer is named twice in {value!r}")
    return names


# --- assignments ------------------------------------------------------------------------------


@dataclass
class AssignSummary:
    reports: int = 0
    added: int = 0
    already: int = 0
    per_reviewer: Counter[str] = field(default_factory=Counter)

    def line(self) -> str:
        counts = ", ".join(f"{r} {n}" for r, n in sorted(self.per_reviewer.items()))
        return (
            f"{self.reports} reports: {self.added} assignments added, {self.already} already "
            f"there; reports per reviewer: {counts}"
        )


def assign(
    store: Store,
    reviewers: Sequence[str],
    per_report: int,
    report_ids: Sequence[str] | None = None,
    *,
    session: str = "",
) -> AssignSummary:
    """Give each report to ``per_report`` of ``reviewers``, balanced: each report goes to those
    with the fewest reports so far (ties in the order given, rotating). Assignments already
    there count and are kept, so running it again adds nothing. One transaction."""
    for name in reviewers:
        check_reviewer_name(name)
    if not 1 <= per_report <= len(reviewers):
        raise ReviewerError(
            f"--per-report must be between 1 and the number of reviewers ({len(reviewers)})"
        )
    ids = _report_ids(store, report_ids)
    summary = AssignSummary(reports=len(ids))
    with store.write():
        current: dict[str, set[str]] = {}
        for rid, reviewer in store.conn.execute("SELECT report_id, reviewer FROM assignments"):
            current.setdefault(rid, set()).add(reviewer)
        load = Counter({r: 0 for r in reviewers})
        for names in current.values():
            load.update(n for n in names if n in load)
        rows = []
        for turn, rid in enumerate(ids):
            have = current.get(rid, set()) & set(reviewers)
            summary.already += len(have)
            rotation = {r: (i - turn) % len(reviewers) for i, r in enumerate(reviewers)}
            choose = sorted(set(reviewers) - have, key=lambda r: (load[r], rotation[r]))
            for reviewer in choose[: max(0, per_report - len(have))]:
                load[reviewer] += 1
                rows.append((rid, reviewer, session, now_iso()))
        store.conn.executemany(
            "INSERT INTO assignments (report_id, reviewer, session, assigned_at) "
            "VALUES (?, ?, ?, ?)",
            rows,
        )
        summary.added = len(rows)
        for reviewer in reviewers:
            summary.per_reviewer[reviewer] = store.conn.execute(
                "SELECT count(*) FROM assignments WHERE reviewer = ?", (reviewer,)
            ).fetchone()[0]
    return summary


def _report_ids(store: Store, report_ids: Sequence[str] | None) -> list[str]:
    """The given report ids in import order (all reports when None); unknown ids are an error."""
    every = store.report_ids()
    if report_ids is None:
        return every
    known = set(every)
    missing = [r for r in report_ids if r not in known]
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ReviewerError(f"no report with id {', '.join(map(repr, missing[:3]))}{more}")
    wanted = set(report_ids)
    return [r for r in every if r in wanted]


def assigned_report_ids(store: Store, reviewer: str) -> set[str] | None:
    """The reports assigned to ``reviewer``, or None when they have no assignments (then every
    report is theirs to review)."""
    rows = store.conn.execute("SELECT report_id FROM assignments WHERE reviewer = ?", (reviewer,))
    ids = {r[0] for r in rows}
    return ids or None


def assignees(store: Store, report_id: str) -> list[str]:
    rows = store.conn.execute(
        "SELECT reviewer FROM assignments WHERE report_id = ? ORDER BY reviewer", (report_id,)
    )
    return [r[0] for r in rows]


# --- sessions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Session:
    name: str
    curator: str
    blind: bool
    created_at: str
    reviewers: tuple[str, ...]
    report_ids: tuple[str, ...]


def create_session(
    store: Store,
    name: str,
    *,
    reviewers: Sequence[str],
    curator: str,
    report_ids: Sequence[str] | None = None,
    per_report: int | None = None,
    blind: bool = True,
) -> tuple[Session, AssignSummary]:
    """A new curation session over ``report_ids`` (every report when None), whose reports are
    assigned to ``per_report`` of its reviewers (all of them when None). One transaction."""
    if not name.strip() or has_controls(name):
        raise ReviewerError(f"session name {name!r} is empty or has control characters")
    check_reviewer_name(curator)
    if len(reviewers) < 2:
        raise ReviewerError("a session needs at least two reviewers to compare")
    if curator in reviewers:
        raise ReviewerError(
            f"{curator} cannot both review and curate a session: the curator sees every "
            "reviewer's spans"
        )
    ids = _report_ids(store, report_ids)
    if not ids:
        raise ReviewerError("a session needs at least one report")
    with store.write():
        if store.conn.execute("SELECT 1 FROM sessions WHERE name = ?", (name,)).fetchone():
            raise ReviewerError(f"there is already a session named {name!r}")
        store.conn.execute(
            "INSERT INTO sessions (name, curator, blind, created_at) VALUES (?, ?, ?, ?)",
            (name, curator, int(blind), now_iso()),
        )
        store.conn.executemany(
            "INSERT INTO session_reports (session, report_id) VALUES (?, ?)",
            [(name, rid) for rid in ids],
        )
        store.conn.executemany(
            "INSERT INTO session_reviewers (session, reviewer) VALUES (?, ?)",
            [(name, r) for r in reviewers],
        )
        summary = assign(store, reviewers, per_report or len(reviewers), ids, session=name)
    return get_session(store, name), summary


def get_session(store: Store, name: str) -> Session:
    row = store.conn.execute(
        "SELECT name, curator, blind, created_at FROM sessions WHERE name = ?", (name,)
    ).fetchone()
    if row is None:
        names = ", ".join(session_names(store)) or "none yet"
        raise ReviewerError(f"no session named {name!r} (sessions: {names})")
    reviewers = store.conn.execute(
        "SELECT reviewer FROM session_reviewers WHERE session = ? ORDER BY rowid", (name,)
    )
    reports = store.conn.execute(
        "SELECT sr.report_id FROM session_reports sr JOIN reports r ON r.id = sr.report_id "
        "WHERE sr.session = ? ORDER BY r.seq",
        (name,),
    )
    return Session(
        row[0],
        row[1],
        bool(row[2]),
        row[3],
        tuple(r[0] for r in reviewers),
        tuple(r[0] for r in reports),
    )


def session_names(store: Store) -> list[str]:
    return [r[0] for r in store.conn.execute("SELECT name FROM sessions ORDER BY created_at")]


def sessions_of(store: Store, reviewer: str) -> list[Session]:
    """The sessions in which ``reviewer`` reviews or curates."""
    rows = store.conn.execute(
        "SELECT name FROM sessions WHERE curator = ? UNION "
        "SELECT session FROM session_reviewers WHERE reviewer = ?",
        (reviewer, reviewer),
    )
    return [get_session(store, r[0]) for r in rows]


def blind_report_ids(store: Store, reviewer: str) -> set[str]:
    """Reports on which ``reviewer`` may not see others' spans yet: those of a blind session
    they review in, which they have not marked done."""
    rows = store.conn.execute(
        "SELECT sr.report_id FROM session_reports sr "
        "JOIN sessions s ON s.name = sr.session AND s.blind "
        "JOIN session_reviewers v ON v.session = sr.session AND v.reviewer = ? "
        "LEFT JOIN review_status st ON st.report_id = sr.report_id AND st.reviewer = ? "
        "WHERE coalesce(st.status, 'todo') != 'done'",
        (reviewer, reviewer),
    )
    return {r[0] for r in rows}


def curated_elsewhere(store: Store, curator: str) -> dict[str, str]:
    """Reports that belong to a session someone else curates, with that curator: only a
    session's curator adjudicates its reports (a reviewer of a blind session must not see
    the others' spans by curating)."""
    rows = store.conn.execute(
        "SELECT sr.report_id, s.curator FROM session_reports sr "
        "JOIN sessions s ON s.name = sr.session WHERE s.curator != ?",
        (curator,),
    )
    return dict(rows)


def check_curator(store: Store, curator: str, session: Session | None = None) -> None:
    """An error unless ``curator`` may curate ``session``."""
    check_reviewer_name(curator)
    if session is not None and session.curator != curator:
        raise ReviewerError(
            f"{session.curator} curates session {session.name}, not {curator} "
            f"(run as --reviewer {session.curator})"
        )


def known_reviewers(store: Store) -> set[str]:
    """Everyone the database knows: who has spans, a status or an assignment."""
    rows = store.conn.execute(
        "SELECT DISTINCT reviewer FROM spans UNION SELECT reviewer FROM review_status "
        "UNION SELECT reviewer FROM assignments"
    )
    return {r[0] for r in rows}


def check_known(store: Store, names: Iterable[str]) -> None:
    """An error naming the reviewers the database does not know (a typo, most likely)."""
    known = known_reviewers(store)
    unknown = [n for n in names if n not in known]
    if unknown:
        people = ", ".join(sorted(n for n in known if not n.startswith("@"))) or "none yet"
        raise ReviewerError(
            f"no reviewer named {', '.join(map(repr, unknown))} here (reviewers: {people})"
        )


# --- agreement inputs -------------------------------------------------------------------------


def annotated(
    store: Store, report_ids: Iterable[str] | None = None, *, done_only: bool = False
) -> dict[str, set[str]]:
    """For each report, the reviewers who annotated it: marked it done, or tagged anything in
    it (with ``done_only``, marked it done: work still under way is left out). A reviewer who
    marked a report done with no span found nothing there, which counts. The curated layer is
    not a reviewer."""
    out: dict[str, set[str]] = {}
    wanted = None if report_ids is None else set(report_ids)
    # A few reports (one, when a report is curated) are looked up through the indexes; many
    # are read in one pass and picked out here.
    few = wanted is not None and len(wanted) <= 100
    only = f" AND report_id IN ({','.join('?' * len(wanted))})" if few else ""
    ids = tuple(wanted) if few else ()
    sql = f"SELECT report_id, reviewer FROM review_status WHERE status = ?{only}"
    params: tuple = (Status.DONE.value, *ids)
    if not done_only:
        sql += f" UNION SELECT DISTINCT report_id, reviewer FROM spans WHERE reviewer != ?{only}"
        params += (CURATED, *ids)
    rows = store.conn.execute(sql, params)
    for rid, reviewer in rows:
        if wanted is None or rid in wanted:
            out.setdefault(rid, set()).add(reviewer)
    return out


def report_layers(
    store: Store,
    report_ids: Sequence[str] | None = None,
    reviewers: Sequence[str] | None = None,
    *,
    done_only: bool = False,
) -> list[ReportLayers]:
    """Each report's spans by the reviewers who annotated it (see :func:`annotated`), for
    the agreement figures; only ``reviewers`` when given. Reports in import order."""
    from reviewer.core.agreement import ReportLayers

    who = annotated(store, report_ids, done_only=done_only)
    keep = None if reviewers is None else set(reviewers)
    items = []
    with store.read():
        for rid in _report_ids(store, report_ids):
            names = who.get(rid, set())
            if keep is not None:
                names &= keep
            if not names:
                continue
            layers: dict[str, list[tuple[int, int, str]]] = {n: [] for n in sorted(names)}
            for span in store.spans(rid):
                if span.reviewer in layers:
                    layers[span.reviewer].append((span.start, span.end, span.label))
            items.append(ReportLayers(rid, store.report_text(rid), layers))
    return items


# --- a session's report -----------------------------------------------------------------------


def session_progress(store: Store, session: Session) -> dict[str, Any]:
    """Per reviewer: reports assigned in the session, how many are done, in progress, flagged
    or still to do, and the time spent."""
    ids = set(session.report_ids)
    assigned: dict[str, set[str]] = {r: set() for r in session.reviewers}
    for rid, reviewer in store.conn.execute(  # whichever session (or plain assign) made it
        "SELECT report_id, reviewer FROM assignments"
    ):
        if rid in ids and reviewer in assigned:
            assigned[reviewer].add(rid)
    reviewers = {}
    for reviewer, theirs in assigned.items():
        counts = Counter({s.value: 0 for s in Status})
        statuses = {
            rid: (status, spent)
            for rid, status, spent in store.conn.execute(
                "SELECT report_id, status, seconds_spent FROM review_status WHERE reviewer = ?",
                (reviewer,),
            )
            if rid in ids
        }
        for rid in theirs:
            status, spent = statuses.get(rid, (Status.TODO.value, 0.0))
            counts[status] += 1
        seconds = sum(spent for _, spent in statuses.values())
        reviewers[reviewer] = {
            "assigned": len(theirs),
            **{s.value: counts[s.value] for s in Status},
            "seconds_spent": round(seconds, 1),
        }
    return {
        "session": session.name,
        "curator": session.curator,
        "blind": session.blind,
        "reports": len(session.report_ids),
        "reviewers": reviewers,
    }
