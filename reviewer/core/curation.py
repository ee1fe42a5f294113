"""Curation: the reviewers' layers of a report compared, and one curated (gold) layer made.

The reviewers' spans of a report fall into *clusters*: spans that overlap, directly or through
one another, whatever their labels. A cluster is

* ``agreed`` when every reviewer who annotated the report tagged it the same way (the same
  offsets, labels and attributes such as negated) and at least two did;
* ``attributes`` when they tagged the same offsets with the same labels, but the attributes
  differ (one says negated, the other not);
* ``label`` when every reviewer tagged the same offsets but the labels differ;
* ``boundary`` when every reviewer tagged it but the offsets differ;
* ``missing`` when only some of the reviewers tagged anything there.

The curated layer's spans belong to the reserved reviewer ``@curated``; each decision (agreed
spans accepted automatically, one reviewer's version accepted, a span edited by the curator,
a cluster rejected) is a row of the ``curation`` table saying who, when, and from which
reviewers' spans. Spans are added through the store's log, so the curator's ``u`` undoes them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, replace

from reviewer.core.model import ReviewerError, Span, now_iso, validate_span
from reviewer.core.store import Change, Store
from reviewer.core.team import CURATED, annotated, check_reviewer_name

KINDS = ("agreed", "attributes", "label", "boundary", "missing")


@dataclass(frozen=True)
class Cluster:
    """Overlapping reviewers' spans of one report, how they differ, and what was decided."""

    report_id: str
    start: int
    end: int
    kind: str
    spans: tuple[Span, ...]
    reviewers: tuple[str, ...]  # who annotated the report (some may have no span here)
    curated: tuple[Span, ...] = ()  # curated spans overlapping the cluster
    decision: str = ""  # the latest decision on the cluster's spans, "" when none
    stale: bool = False  # a reviewer changed or added a span here since that decision

    @property
    def resolved(self) -> bool:
        return not self.stale and (bool(self.curated) or self.decision == "rejected")

    def versions(self) -> dict[str, list[Span]]:
        """Each reviewer's spans in the cluster (an empty list: they tagged nothing here)."""
        out: dict[str, list[Span]] = {r: [] for r in self.reviewers}
        for span in self.spans:
            out.setdefault(span.reviewer, []).append(span)
        return out


def clusters(
    store: Store,
    report_id: str,
    reviewers: Sequence[str] | None = None,
    *,
    who: set[str] | None = None,
) -> list[Cluster]:
    """The report's clusters in document order (see the module's docstring), over the
    reviewers who annotated it (``who``, when the caller has read it; only ``reviewers``
    when given)."""
    if who is None:
        who = annotated(store, [report_id]).get(report_id, set())
    if reviewers is not None:
        who = who & set(reviewers)  # (never the caller's set)
    names = tuple(sorted(who))
    spans = [s for s in store.spans(report_id) if s.reviewer in who]
    curated = store.spans(report_id, reviewer=CURATED)
    decisions = _decisions(store, report_id)
    out = []
    for group in _overlapping(spans):
        start, end = min(s.start for s in group), max(s.end for s in group)
        ids = {s.id for s in group}
        decided = [(d, at, sources) for sources, d, at in decisions if sources & ids]
        seen = set().union(*(sources for _, _, sources in decided))
        latest = max((at for _, at, _ in decided), default="")
        stale = bool(decided) and (not ids <= seen or any(s.updated_at > latest for s in group))
        out.append(
            Cluster(
                report_id,
                start,
                end,
                _kind(group, names),
                tuple(group),
                names,
                tuple(c for c in curated if c.start < end and start < c.end),
                decided[-1][0] if decided else "",
                stale,
            )
        )
    return out


def _overlapping(spans: list[Span]) -> list[list[Span]]:
    groups: list[list[Span]] = []
    end = -1
    for span in sorted(spans, key=lambda s: (s.start, s.end, s.reviewer, s.label, s.id)):
        if groups and span.start < end:
            groups[-1].append(span)
            end = max(end, span.end)
        else:
            groups.append([span])
            end = span.end
    return groups


def _kind(group: list[Span], reviewers: tuple[str, ...]) -> str:
    # Sets: a reviewer's two identical spans (brat allows them) say the same as one.
    tagged: dict[str, set] = {r: set() for r in reviewers}
    flagged: dict[str, set] = {r: set() for r in reviewers}
    for span in group:
        key = (span.start, span.end, span.label)
        tagged[span.reviewer].add(key)
        flagged[span.reviewer].add((key, json.dumps(span.attributes, sort_keys=True)))
    versions = list(tagged.values())
    if len(versions) < 2 or any(not v for v in versions):
        return "missing"  # (with one reviewer, there is no one to agree with)
    if all(v == versions[0] for v in versions):
        attributes = list(flagged.values())
        return "agreed" if all(a == attributes[0] for a in attributes) else "attributes"
    offsets = [{(a, b) for a, b, _ in v} for v in versions]
    if all(o == offsets[0] for o in offsets):
        return "label"  # the same stretches, not the same labels
    return "boundary"


def _decisions(store: Store, report_id: str) -> list[tuple[set[str], str, str]]:
    """Each decision on the report: the reviewers' span ids it saw, what it was, when."""
    rows = store.conn.execute(
        "SELECT decision, sources, curated_at FROM curation WHERE report_id = ? ORDER BY id",
        (report_id,),
    )
    return [({s["id"] for s in json.loads(src)}, decision, at) for decision, src, at in rows]


# --- decisions --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Decision:
    """What one curation decision wrote: the curated spans it added or brought up to date, the
    logged action that wrote them (None when it wrote none), and its rows in the ``curation``
    table."""

    spans: tuple[Span, ...] = ()
    action_id: int | None = None
    rows: tuple[int, ...] = ()

    def __len__(self) -> int:
        return len(self.spans)


def auto_accept(
    store: Store, report_id: str, curator: str, reviewers: Sequence[str] | None = None
) -> Decision:
    """Accept every agreed cluster not yet decided into the curated layer, as one action of
    ``curator``."""
    todo = [c for c in clusters(store, report_id, reviewers) if c.kind == "agreed"]
    todo = [c for c in todo if not c.resolved]
    if not todo:
        return Decision()
    with store.write():
        changes: list[Change] = []
        rows: list[int] = []
        for cluster in todo:
            first = cluster.versions()[cluster.reviewers[0]]
            more, ids = _add(store, cluster, first, curator, "agreed")
            changes += more
            rows += ids
        return _logged(store, curator, f"curate: {len(changes)} agreed", changes, rows)


def accept(store: Store, cluster: Cluster, reviewer: str, curator: str) -> Decision:
    """Make ``reviewer``'s version of the cluster the curated one (their spans there, with
    attributes and notes), as one action of ``curator``."""
    chosen = cluster.versions().get(reviewer)
    if chosen is None:
        raise ReviewerError(f"{reviewer} did not annotate {cluster.report_id}")
    with store.write():
        added, rows = _add(store, cluster, chosen, curator, "accepted" if chosen else "rejected")
        return _logged(store, curator, f"curate: {reviewer}'s version", added, rows)


def reject(store: Store, cluster: Cluster, curator: str) -> Decision:
    """Decide that none of the cluster's spans belongs in the curated layer."""
    with store.write():
        _, rows = _add(store, cluster, [], curator, "rejected")
    return Decision(rows=tuple(rows))


def add_curated(
    store: Store, cluster: Cluster, start: int, end: int, label: str, curator: str
) -> Decision:
    """The curator's own span for the cluster (other offsets or another label)."""
    text = store.report_text(cluster.report_id)
    span = Span(cluster.report_id, start, end, label, text[start:end], CURATED)
    validate_span(span, text, store.labels)
    with store.write():
        added, rows = _add(store, cluster, [span], curator, "edited")
        if not added:
            raise ReviewerError(f"the curated layer already has {label} at {start}-{end}")
        return _logged(store, curator, "curate: edited", added, rows)


def delete_curated(store: Store, span: Span, curator: str) -> Decision:
    """Take a span out of the curated layer (its disagreement opens again unless rejected)."""
    if span.reviewer != CURATED:
        raise ReviewerError(f"span {span.id} is {span.reviewer}'s, not the curated layer's")
    check_reviewer_name(curator)
    result = store.record(curator, "curate: delete", [Change(span, None)])
    return Decision(action_id=result.action_id)


def undo(store: Store, decision: Decision, curator: str) -> None:
    """Take a decision back: the spans it added (through the log, so only while it is still
    the curator's latest change) and its rows. One transaction."""
    with store.write():
        if decision.action_id is not None:
            stack, _ = store.undo_stacks(curator)
            if not stack or stack[-1] != decision.action_id:
                raise ReviewerError("that decision is no longer your latest change")
            store.undo(curator)
        store.conn.executemany(
            "DELETE FROM curation WHERE id = ?", [(row,) for row in decision.rows]
        )


def _logged(
    store: Store, curator: str, summary: str, changes: list[Change], rows: list[int]
) -> Decision:
    if not changes:
        return Decision(rows=tuple(rows))
    result = store.record(curator, summary, changes)
    spans = tuple(c.after for c in changes if c.after is not None)
    return Decision(spans, result.action_id, tuple(rows))


def _add(
    store: Store,
    cluster: Cluster,
    chosen: list[Span],
    curator: str,
    decision: str,
) -> tuple[list[Span], list[int]]:
    """The changes that make ``chosen`` curated spans (new ones, or ones already in the layer
    whose attributes or note were another version's), and the decision's rows (their ids)."""
    check_reviewer_name(curator)
    now = now_iso()
    existing = {
        (s.start, s.end, s.label): s for s in store.spans(cluster.report_id, reviewer=CURATED)
    }
    changes: list[Change] = []
    for span in chosen:
        key = (span.start, span.end, span.label)
        old = existing.get(key)
        new = replace(
            span,
            reviewer=CURATED,
            id=curated_id(cluster.report_id, *key),
            created_at=old.created_at if old else now,
            updated_at=now,
            source_id="",
        )
        if old is None or old.content() != new.content():
            changes.append(Change(old, new))
            existing[key] = new
    added = [c.after for c in changes if c.after is not None]
    sources = [
        {"id": s.id, "reviewer": s.reviewer, "start": s.start, "end": s.end, "label": s.label}
        for s in cluster.spans
    ]
    ids = []
    for sid in [s.id for s in added] or [None]:
        cur = store.conn.execute(
            "INSERT INTO curation (report_id, span_id, decision, curator, curated_at, sources) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (
                cluster.report_id,
                sid,
                decision,
                curator,
                now,
                json.dumps(sources, ensure_ascii=False),
            ),
        )
        ids.append(cur.lastrowid)
    return changes, ids


def curated_id(report_id: str, start: int, end: int, label: str) -> str:
    """A curated span's id: the same for the same report, offsets and label, so curating
    twice (or on two machines) makes one span."""
    return str(
        uuid.uuid5(uuid.NAMESPACE_URL, f"reviewer:{CURATED}:{report_id}:{start}:{end}:{label}")
    )


def provenance(store: Store, span_id: str) -> dict | None:
    """Who curated a curated span, when, how, and from which reviewers' spans."""
    row = store.conn.execute(
        "SELECT decision, curator, curated_at, sources FROM curation WHERE span_id = ? "
        "ORDER BY id DESC LIMIT 1",
        (span_id,),
    ).fetchone()
    if row is None:
        return None
    return {"decision": row[0], "curator": row[1], "at": row[2], "sources": json.loads(row[3])}


def open_reports(store: Store, report_ids: Sequence[str], reviewers: Sequence[str] | None = None):
    """Of ``report_ids``, those with clusters still to decide, each with how many."""
    who_all = annotated(store, report_ids)  # read once, not once per report
    out = {}
    for rid in report_ids:
        found = clusters(store, rid, reviewers, who=who_all.get(rid, set()))
        n = sum(1 for c in found if c.kind != "agreed" and not c.resolved)
        if n:
            out[rid] = n
    return out


def curation_states(
    store: Store,
    report_ids: Sequence[str] | None = None,
    reviewers: Sequence[str] | None = None,
) -> dict[str, str]:
    """Each report's curation: ``complete`` when every cluster is decided (agreed ones
    accepted too), or when two reviewers or more annotated it and found nothing; ``open`` when
    some are decided and some not; ``not started`` otherwise."""
    ids = store.report_ids() if report_ids is None else list(report_ids)
    who_all = annotated(store, ids)
    keep = None if reviewers is None else set(reviewers)
    states = {}
    for rid in ids:
        who = who_all.get(rid, set())
        if keep is not None:
            who = who & keep
        found = clusters(store, rid, reviewers, who=who)
        left = [c for c in found if not c.resolved]
        if not found:
            states[rid] = "complete" if len(who) >= 2 else "not started"
        elif not left:
            states[rid] = "complete"
        else:
            states[rid] = "open" if len(left) < len(found) else "not started"
    return states
