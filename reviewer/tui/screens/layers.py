"""The review screen's team work: whose spans it shows, which reports it queues, and keeping
both current while other processes write to the same database.

Every span belongs to a reviewer (the curated layer, ``@curated``, is one more). The reviewer
sees and edits their own; ``o`` shows the others' too, read-only, except on a report of a blind
session that the reviewer has not marked done. The queue's counts follow the same rule. With
assignments the queue holds only the reports assigned to the reviewer.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from reviewer.core.changes import Changes, layer_counts
from reviewer.core.model import Span
from reviewer.core.team import assigned_report_ids, blind_report_ids
from reviewer.tui.widgets.queue import NO_COUNTS
from reviewer.tui.widgets.span_list import SpanList

if TYPE_CHECKING:
    from reviewer.tui.screens.review import ReviewScreen

BLIND_NOTICE = "blind session: others' spans show once you mark this report done (d)"


class LayersMixin:
    """Layers, blind mode, the assigned queue and live refresh for :class:`ReviewScreen`."""

    def init_layers(self: ReviewScreen) -> None:
        self.show_others = False  # the reviewer asked to see the other layers (o)
        self.assigned: set[str] | None = None  # None: no assignments, every report is queued
        self.blind: set[str] = set()  # reports whose other layers stay hidden for now
        self.all_spans: list[Span] = []  # the current report's spans, every layer
        # Span counts per report, per reviewer, per label: the queue shows a sum of layers.
        self.span_layers: dict[str, dict[str, Counter[str]]] = {}
        self.recounted: set[str] = set()  # counted since the counting worker's snapshot

    # --- whose spans --------------------------------------------------------------------------

    def others_visible(self: ReviewScreen, report_id: str | None = None) -> bool:
        """Whether other reviewers' spans show on a report (the current one by default)."""
        if report_id is None:
            if self.report is None:
                return False
            report_id = self.report.id
        return self.show_others and report_id not in self.blind

    def shown_spans(self: ReviewScreen, spans: list[Span]) -> list[Span]:
        """The current report's spans on show."""
        if self.others_visible():
            return list(spans)
        return [s for s in spans if s.reviewer == self.reviewer]

    def layer_state(self: ReviewScreen) -> str:
        """For the status line."""
        if self.report is not None and self.report.id in self.blind:
            return "blind: others hidden"
        return "others shown" if self.show_others else "others hidden"

    def action_toggle_others(self: ReviewScreen) -> None:
        """Show or hide the other reviewers' spans (never on a blind report not yet done)."""
        if self.report is None:
            return
        if self.report.id in self.blind:
            self.notify(BLIND_NOTICE, severity="warning", markup=False)
            return
        self.show_others = not self.show_others
        self.relayer(queue=True)
        self.update_status()  # its layer part says which (a message would go stale)

    def relayer(self: ReviewScreen, *, queue: bool) -> None:
        """Show the current report's spans (and, with ``queue``, every row's counts) by the
        layer rule, keeping the cursor, the selection and the span list's highlight."""
        if self.report is not None:
            self.spans = self.shown_spans(self.all_spans)
            self.view.set_spans(self.spans, self.reviewer)
            self._show_spans(self.query_one(SpanList).highlighted_key, follow=False)
        if queue:
            self.rows = [row._replace(counts=self.row_counts(row.report_id)) for row in self.rows]
            self._show_queue(follow=False)
        self.update_status()

    # --- counts -------------------------------------------------------------------------------

    def row_counts(self: ReviewScreen, report_id: str) -> Mapping[str, int]:
        """A queue row's counts: the reviewer's own, or every layer's when they show."""
        layers = self.span_layers.get(report_id)
        if not layers:  # not counted yet (at start the counts come from a worker), or none
            return NO_COUNTS
        if not self.others_visible(report_id):
            return Counter(layers.get(self.reviewer, ()))
        total: Counter[str] = Counter()
        for counts in layers.values():
            total.update(counts)
        return total

    def count_layers(self: ReviewScreen, report_id: str, spans: list[Span]) -> None:
        """A report's counts from all of its spans (just read)."""
        by: dict[str, Counter[str]] = {}
        for span in spans:
            by.setdefault(span.reviewer, Counter())[span.label] += 1
        self._store_layers({report_id: by}, [report_id])

    def recount(self: ReviewScreen, report_ids: Iterable[str | None]) -> None:
        """Count the spans of these reports again (one query) and show them in the queue."""
        ids = {rid for rid in report_ids if rid is not None}
        if ids:
            self._store_layers(layer_counts(self.store, ids), ids)

    def _store_layers(
        self: ReviewScreen, counts: dict[str, dict[str, Counter[str]]], report_ids: Iterable[str]
    ) -> None:
        updates = {}
        for rid in report_ids:
            new = counts.get(rid, {})
            self.recounted.add(rid)
            if self.span_layers.get(rid) != new:
                self.span_layers[rid] = new
                updates[rid] = {"counts": self.row_counts(rid)}
        self._update_rows(updates)

    # --- assignments and blind sessions -------------------------------------------------------

    def read_team(self: ReviewScreen) -> None:
        self.assigned = assigned_report_ids(self.store, self.reviewer)
        self.blind = blind_report_ids(self.store, self.reviewer)

    def read_blind(self: ReviewScreen) -> None:
        """The reviewer's status changed to or from done: a blind report may open or close."""
        before = self.blind
        self.blind = blind_report_ids(self.store, self.reviewer)
        if self.blind != before:
            self.relayer(queue=self.show_others)

    # --- other processes ----------------------------------------------------------------------

    def apply_changes(self: ReviewScreen, changes: Changes) -> None:
        """Another process committed these changes: show them, keeping the cursor, the
        selection, the highlights and the scroll positions where they are."""
        if not self.is_mounted:
            return
        blind = self.blind
        if changes.team:
            self.read_team()
        mine = {rid: st for (rid, who), st in changes.statuses.items() if who == self.reviewer}
        if changes.team or changes.unlogged:  # new reports, or other ones assigned
            self._read_rows(follow=False)
            if changes.unlogged:  # an import: spans the log does not list
                self._count_spans()
        elif mine:
            self._update_rows({rid: {"status": st} for rid, st in mine.items()})
        if (mine or changes.unlogged) and not changes.team:  # done elsewhere: blind ones open
            self.blind = blind_report_ids(self.store, self.reviewer)
        current = self.report.id if self.report is not None else None
        touched = changes.span_reports
        if current is not None and (current in touched or changes.unlogged):
            spans = self.store.spans(current)
            if spans != self.all_spans:
                self.all_spans = spans
                self.count_layers(current, spans)
                self.relayer(queue=False)
        self.recount(touched - {current})
        if self.blind != blind:
            self.relayer(queue=self.show_others)
        if self.report is None and self.rows:  # the first reports of an empty database
            self._fit_panes(self.size.width)
            self.first_reports()
        self.update_status()
