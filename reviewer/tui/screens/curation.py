"""The curation screen: the reviewers' versions of each report side by side, one gold layer.

On opening a report the spans every reviewer agrees on are accepted into the curated layer
(``T`` turns that off); the disagreements are listed, coloured by kind, and decided one by one:
a digit takes one reviewer's version, ``r`` rejects them all, ``E`` lets the curator select the
right words and tag them. The curated layer is filled in the text, the reviewers' spans are
underlined. Every decision is one transaction, logged, and ``u`` undoes it.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from reviewer.core import curation
from reviewer.core.curation import Cluster
from reviewer.core.model import ReviewerError
from reviewer.core.store import Store
from reviewer.core.team import CURATED
from reviewer.core.text import one_line
from reviewer.tui.widgets.report_view import ReportView
from reviewer.tui.widgets.rows import RowList, key_name
from reviewer.tui.widgets.title_bar import TitleBar

KIND_COLORS = {
    "agreed": "#5fd75f",
    "attributes": "#5fafff",
    "label": "#ffaf00",
    "boundary": "#af87ff",
    "missing": "#ff5f5f",
}
KIND_NAMES = {
    "agreed": "agreed",
    "attributes": "attributes differ",
    "label": "labels differ",
    "boundary": "boundaries differ",
    "missing": "only some tagged it",
}


class CurationReports(RowList):
    """The reports to curate: how many disagreements are still open in each."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.open: dict[str, int | None] = {}

    def render_row(self, index: int, line: int) -> Content:
        rid = self.keys[index]
        n = self.open.get(rid)
        mark = ("…", "dim") if n is None else ("✓", "green") if n == 0 else (f"{n:>2}", "bold red")
        return Content.assemble(mark, " ", one_line(rid))


class CurationScreen(Screen):
    """Adjudicate the reviewers' annotations of a set of reports into the curated layer."""

    BINDINGS = [
        Binding("n", "step(1)", "Next disagreement"),
        Binding("p", "step(-1)", "Previous", show=False),
        Binding("N", "report_step(1)", "Next report to curate"),
        Binding("P", "report_step(-1)", "Previous report to curate", show=False),
        Binding("r", "reject", "Reject all versions"),
        Binding("E", "edit", "Edit: select, then a label key"),
        Binding("A", "accept_agreed", "Accept agreed", show=False),
        Binding("T", "toggle_auto", "Auto-accept on/off", show=False),
        Binding("x", "delete", "Delete curated span", show=False),
        Binding("u", "undo", "Undo"),
        Binding("q,escape", "close", "Back to reviewing"),
        Binding("question_mark", "help", "Keys"),
    ]

    def __init__(
        self,
        store: Store,
        curator: str,
        report_ids: list[str],
        reviewers: list[str] | None = None,
        title: str = "all reports",
    ) -> None:
        super().__init__()
        self.store = store
        self.curator = curator
        self.report_ids = report_ids
        self.reviewers = reviewers
        self.title_text = title
        self.auto = True
        self.editing = False
        self.report_id: str | None = None
        self.clusters: list[Cluster] = []
        self.current: int | None = None  # index into self.clusters
        self.said = "nothing decided yet"
        # Decisions of this visit, latest last, for u: (decision, its report, where).
        self.decisions: list[tuple[curation.Decision, str, int]] = []
        for i in range(1, 10):
            self._bindings.bind(str(i), f"digit({i})", f"Take version {i}", show=i == 1)
        for i, label in enumerate(store.labels.labels):
            if label.key and not label.key.isdigit():  # digits are the versions' keys
                self._bindings.bind(key_name(label.key), f"label({i})", show=False)

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with Horizontal(id="main"):
            yield CurationReports(id="curation-reports")
            with Vertical(id="reading"):
                yield Static(id="meta")
                yield ReportView(self.store.labels, id="text")
                yield Static(self._legend(), id="legend")
            yield Static(id="versions")
        yield Static(id="status")
        yield Footer()

    @property
    def view(self) -> ReportView:
        return self.query_one(ReportView)

    def _legend(self) -> Content:
        parts: list[str | tuple[str, str]] = [" gold filled · reviewers underlined · "]
        for kind in ("attributes", "label", "boundary", "missing"):
            parts += [(f"■ {KIND_NAMES[kind]}", KIND_COLORS[kind]), "  "]
        return Content.assemble(*parts)

    def on_mount(self) -> None:
        reports = self.query_one(CurationReports)
        reports.set_keys(self.report_ids, self.report_ids[0] if self.report_ids else None)
        self._count_open()
        if self.report_ids:
            self.open_report(self.report_ids[0])
        self.view.focus()

    @work(thread=True, exclusive=True, group="curation-count")
    def _count_open(self) -> None:
        store = self.store.for_thread()
        try:
            counts = {rid: 0 for rid in self.report_ids}
            counts.update(curation.open_reports(store, self.report_ids, self.reviewers))
        finally:
            store.close()
        self.app.call_from_thread(self._show_counts, counts)

    def _show_counts(self, counts: dict[str, int]) -> None:
        reports = self.query_one(CurationReports)
        reports.open.update(counts)
        reports.redraw()

    # --- a report and its clusters ------------------------------------------------------------

    def open_report(self, report_id: str, *, at: int = 0) -> None:
        self.report_id = report_id
        self.editing = False
        report = self.store.report(report_id)
        if self.auto:
            decision = self._try(
                lambda: curation.auto_accept(self.store, report_id, self.curator, self.reviewers)
            )
            if decision:
                self._remember(decision, 0)
                self._said(f"{len(decision)} agreed span{'s' * (len(decision) != 1)} accepted")
        self.query_one("#meta", Static).update(
            Content.assemble(
                (one_line(report.display_title), "bold"), "  ", (one_line(report.id), "dim")
            )
        )
        self._load(text=report.text)
        self.query_one(CurationReports).highlight(report_id)
        self.current = None
        self._go(at, 1)

    def _load(self, text: str | None = None) -> None:
        """Read the clusters and repaint (after every decision)."""
        assert self.report_id is not None
        self.clusters = curation.clusters(self.store, self.report_id, self.reviewers)
        shown = [s for c in self.clusters for s in c.spans]
        shown += self.store.spans(self.report_id, reviewer=CURATED)
        if text is not None:
            self.view.show(text, shown, CURATED)
        else:
            self.view.set_spans(shown, CURATED)
        open_now = sum(1 for c in self.clusters if c.kind != "agreed" and not c.resolved)
        reports = self.query_one(CurationReports)
        reports.open[self.report_id] = open_now
        reports.redraw()

    def _open_indices(self) -> list[int]:
        return [i for i, c in enumerate(self.clusters) if c.kind != "agreed" and not c.resolved]

    def _go(self, start: int, step: int) -> None:
        """Select the first open cluster from ``start`` in the direction of ``step``."""
        order = self._open_indices()
        if step < 0:
            order.reverse()
        pick = next((i for i in order if (i >= start if step > 0 else i <= start)), None)
        self.current = pick
        if pick is not None:
            c = self.clusters[pick]
            self.view.select_range(c.start, c.end)
        self._show_versions()

    def action_step(self, step: int) -> None:
        if self.current is None:
            self._go(0 if step > 0 else len(self.clusters), step)
            if self.current is None:
                self.action_report_step(step)
            return
        here = self.current
        self._go(here + step, step)
        if self.current is None:
            self.current = here
            self.action_report_step(step)

    def action_report_step(self, step: int) -> None:
        """The next (or previous) report with disagreements still open."""
        if self.report_id is None:
            return
        reports = self.query_one(CurationReports)
        i = self.report_ids.index(self.report_id)
        order = self.report_ids[i + 1 :] if step > 0 else list(reversed(self.report_ids[:i]))
        for rid in order:
            if reports.open.get(rid, 1) != 0:
                self.open_report(rid)
                if self.current is not None or reports.open.get(rid) != 0:
                    return
        self._note("no other report with disagreements")

    def on_row_list_selected(self, event: RowList.Selected) -> None:
        self.open_report(event.key)
        self.view.focus()

    # --- the current cluster's versions -------------------------------------------------------

    def _cluster(self) -> Cluster | None:
        return None if self.current is None else self.clusters[self.current]

    def _show_versions(self) -> None:
        panel = self.query_one("#versions", Static)
        cluster = self._cluster()
        if cluster is None:
            done = not self._open_indices()
            panel.update(
                Content("Every disagreement here is decided.\n\nN: next report to curate")
                if done
                else Content("n: next disagreement")
            )
            self._status()
            return
        text = self.store.report_text(cluster.report_id)
        color = KIND_COLORS[cluster.kind]
        parts: list[str | tuple[str, str]] = [
            (f"■ {KIND_NAMES[cluster.kind]}", f"bold {color}"),
            "\n",
            (one_line(text[cluster.start : cluster.end])[:200], "italic"),
            "\n\n",
        ]
        for n, (reviewer, spans) in enumerate(cluster.versions().items(), 1):
            parts += [(f"{n} ", "bold reverse"), " ", (one_line(reviewer), "bold"), "\n"]
            if not spans:
                parts += [("   tagged nothing here", "dim"), "\n"]
            for span in spans:
                label = self.store.labels.get(span.label)
                flags = " ".join(k for k, v in sorted(span.attributes.items()) if v is True)
                parts += [
                    "   ",
                    (f"{one_line(span.label):<10.10}", f"bold {label.color if label else 'white'}"),
                    " ",
                    one_line(span.text)[:60],
                    (f" {span.start}-{span.end}", "dim"),
                ]
                if flags:
                    parts += [" ", (one_line(flags), "bold italic")]
                if span.note:
                    parts += [" ", ("✎ " + one_line(span.note)[:40], "dim italic")]
                parts.append("\n")
        n = len(cluster.versions())
        parts += ["\n", *_keys(("1" if n == 1 else f"1-{n}", "take that version"))]
        parts += ["\n", *_keys(("r", "reject all"), ("E", "edit"))]
        parts += ["\n", *_keys(("n", "next"), ("u", "undo"), ("?", "keys"))]
        if self.editing:
            parts += [
                "\n\n",
                ("EDIT: select the words, then a label key (E: leave)", "bold reverse"),
            ]
        panel.update(Content.assemble(*parts))
        self._status()

    # --- decisions ----------------------------------------------------------------------------

    def action_digit(self, n: int) -> None:
        if self.editing:
            keyed = [i for i, lab in enumerate(self.store.labels.labels) if lab.key == str(n)]
            if keyed:
                self._tag(keyed[0])
            return
        cluster = self._cluster()
        if cluster is None:
            self._note("no disagreement selected (n: next)")
            return
        names = list(cluster.versions())
        if n > len(names):
            self._note(f"there are {len(names)} versions here")
            return
        reviewer = names[n - 1]
        decision = self._decide(
            lambda: curation.accept(self.store, cluster, reviewer, self.curator)
        )
        if decision is not None:
            took = ", ".join(f"{s.label} “{one_line(s.text)}”" for s in decision.spans)
            self._decided(f"took {reviewer}'s version: {took or 'nothing here'}")

    def action_reject(self) -> None:
        cluster = self._cluster()
        if cluster is None:
            return
        if self._decide(lambda: curation.reject(self.store, cluster, self.curator)) is not None:
            self._decided("rejected every version")

    def action_edit(self) -> None:
        """Edit mode: select the right words (motions, v, shift+arrows, f), then a label key
        makes them a curated span for the current disagreement."""
        if self._cluster() is None:
            self._note("no disagreement selected (n: next)")
            return
        self.editing = not self.editing
        self._show_versions()

    def action_label(self, index: int) -> None:
        if self.editing:
            self._tag(index)

    def _tag(self, index: int) -> None:
        cluster = self._cluster()
        labels = self.store.labels.labels
        if cluster is None or index >= len(labels):
            return
        words = self.view.words
        selected = self.view.selected_range()
        chosen = words.snap(*selected) if selected else words.word_at(self.view.offset)
        if chosen is None:
            self._note("select the words first")
            return
        start, end = chosen
        label = labels[index].name
        decision = self._decide(
            lambda: curation.add_curated(self.store, cluster, start, end, label, self.curator)
        )
        if decision is not None:
            self.editing = False
            self._decided(f"curated {label} “{one_line(decision.spans[0].text)}”")

    def action_accept_agreed(self) -> None:
        if self.report_id is None:
            return
        rid = self.report_id
        decision = self._decide(
            lambda: curation.auto_accept(self.store, rid, self.curator, self.reviewers)
        )
        if decision is not None:
            self._load()
            self._said(f"{len(decision)} agreed span{'s' * (len(decision) != 1)} accepted")

    def action_toggle_auto(self) -> None:
        self.auto = not self.auto
        self._note(
            "agreed spans are accepted on opening a report"
            if self.auto
            else "agreed spans wait on opening a report (A accepts them)"
        )

    def action_delete(self) -> None:
        spans = [s for s in self.view.spans_at(self.view.offset) if s.reviewer == CURATED]
        if not spans:
            self._note("no curated span under the cursor")
            return
        span = spans[0]
        if (
            self._decide(lambda: curation.delete_curated(self.store, span, self.curator))
            is not None
        ):
            self._decided(f"deleted curated {span.label} “{one_line(span.text)}”")

    def _decide(self, call) -> curation.Decision | None:
        """Make a decision; remember it for u (None when it failed, and it said why)."""
        decision = self._try(call)
        if decision is None:
            return None
        cluster = self._cluster()
        self._remember(decision, cluster.start if cluster is not None else 0)
        return decision

    def _remember(self, decision: curation.Decision, at: int) -> None:
        assert self.report_id is not None
        self.decisions.append((decision, self.report_id, at))

    def action_undo(self) -> None:
        """Take back the latest decision made on this screen (and only those: a change made
        on the review screen is undone there)."""
        if not self.decisions:
            self._note("no decision of this visit to undo")
            return
        decision, report_id, at = self.decisions[-1]
        if self._try(lambda: curation.undo(self.store, decision, self.curator)) is None:
            return
        self.decisions.pop()
        if report_id != self.report_id:
            auto, self.auto = self.auto, False  # opening must not accept it all again
            self.open_report(report_id)
            self.auto = auto
        self._decided("undone", at=at)

    def action_close(self) -> None:
        if self.editing:
            self.editing = False
            self._show_versions()
            return
        self.dismiss()

    def action_help(self) -> None:
        from reviewer.tui.screens.help import HelpScreen

        labels = [
            Binding(label.key, "", f"In edit mode (E): tag the selection as {label.name}")
            for label in self.store.labels.labels
            if label.key
        ]
        versions = [Binding("1", "", "Take version 1 (2, 3… the others) into the gold layer")]
        sections = [
            ("Curating", versions + [b for b in self.BINDINGS if isinstance(b, Binding)]),
            ("Edit mode", labels),
            (
                "Moving and selecting in the text",
                [b for b in ReportView.BINDINGS if isinstance(b, Binding)],
            ),
        ]
        intro = (
            "Each disagreement lists the reviewers' versions, numbered: a digit takes one into "
            "the curated (gold) layer, r rejects them all, E lets you select the right words and "
            "tag them. Agreed spans are accepted when a report opens (T turns that off)."
        )
        self.app.push_screen(HelpScreen(sections, intro))

    def _decided(self, what: str, at: int | None = None) -> None:
        """Repaint after a decision and select the next disagreement: from the current one,
        or from the one holding offset ``at`` (what an undo brought back)."""
        here = self.current or 0
        self._load()
        if at is not None:
            here = next((i for i, c in enumerate(self.clusters) if c.end > at), here)
        self._said(what)
        self._go(here, 1)

    # --- saying ---------------------------------------------------------------------------------

    def _try(self, call):
        try:
            result = call()
        except (ReviewerError, sqlite3.Error) as exc:
            self.said = f"✗ NOT SAVED: {exc}"
            self.notify(f"Not saved: {exc}", severity="error", markup=False)
            self._status()
            return None
        return True if result is None else result

    def _said(self, message: str) -> None:
        """A decision is in the database: say so."""
        self.said = f"✓ saved {datetime.now():%H:%M:%S} {message}"
        self._status()

    def _note(self, message: str) -> None:
        """Say something that is not a save (a refusal, a hint)."""
        self.said = message
        self._status()

    def _status(self) -> None:
        if self.report_id is None:
            return
        i = self.report_ids.index(self.report_id) + 1
        mode = "EDIT (select, label key) · " if self.editing else ""
        auto = "" if self.auto else " · agreed not accepted on opening (T)"
        line = (
            f" {mode}{self.said} · {len(self._open_indices())} open here · report "
            f"{i}/{len(self.report_ids)} of {self.title_text} · curator {self.curator}{auto}"
        )
        self.query_one("#status", Static).update(Content(one_line(line)))


def _keys(*pairs: tuple[str, str]) -> list[str | tuple[str, str]]:
    """Key hints: each key in reverse video, then what it does."""
    parts: list[str | tuple[str, str]] = []
    for key, what in pairs:
        parts += [(f" {key} ", "bold reverse"), f" {what}  "]
    return parts
