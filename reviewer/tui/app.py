"""The reviewer app: wiring only. It opens the review screen, palette commands and exports."""

from __future__ import annotations

import gc
import sqlite3
import threading
from datetime import datetime
from pathlib import Path

from textual import work
from textual.app import App
from textual.binding import Binding, BindingsMap
from textual.command import Provider
from textual.screen import ModalScreen
from textual.widgets import Input
from textual.worker import get_current_worker

from reviewer.core.changes import Changes, LogMark, Watcher, changes_since, log_mark
from reviewer.core.model import ReviewerError
from reviewer.core.store import Cancelled, Store
from reviewer.core.team import blind_report_ids
from reviewer.core.text import one_line
from reviewer.tui.screens.review import ReviewScreen
from reviewer.tui.widgets.report_view import ReportView

# Extensions of export files written from the app (brat writes a folder).
_EXTENSIONS = {"conll": "conll"}
# How often the app asks whether another process committed (one pragma each time).
POLL_SECONDS = 0.5


def _review_commands() -> type[Provider]:
    from reviewer.tui.commands import ReviewCommands

    return ReviewCommands


class ReviewerApp(App):
    """Keyboard-first annotation of case reports."""

    CSS_PATH = "app.tcss"
    TITLE = "reviewer"
    COMMANDS = App.COMMANDS | {_review_commands}  # imported when the palette first opens
    BINDINGS = [Binding("ctrl+q", "quit", "Quit", priority=True)]

    def __init__(self, store: Store, reviewer: str) -> None:
        super().__init__()
        self.store = store
        self.reviewer = reviewer
        check_label_keys(store)
        # Before the screen reads anything: a commit in between is then seen twice, not never.
        self.watcher = Watcher(store)
        self.review_screen = ReviewScreen(store, reviewer)
        self.index_lock = threading.Lock()  # the index is read in search workers
        self.sub_title = one_line(f"{reviewer} · {store.path}")

    def run(self, **kwargs):  # type: ignore[override]  # the same arguments, passed on
        """Run the app in this process (the command's own)."""
        # What the imports and the app's construction made lives as long as the process: out
        # of the collector's reach. Until the first screen is drawn, no collections at all:
        # the queue's 10,000 rows and the widgets set off dozens, each walking what is new
        # (together 8 ms of the first screen); they are turned back on right after it.
        gc.freeze()
        self._collector_paused = gc.isenabled()
        gc.disable()
        try:
            return super().run(**kwargs)
        finally:  # (an app that closed before its first screen was drawn)
            self._resume_collector()

    _collector_paused = False  # run() turned the collector off for the start (not run_test)

    def _resume_collector(self) -> None:
        if self._collector_paused:
            self._collector_paused = False
            gc.freeze()  # the screen's widgets and the queue live on: kept out of its walks
            gc.enable()

    def get_default_screen(self) -> ReviewScreen:
        # The first screen on the stack itself, not pushed over an empty default screen
        # (which Textual would compose, style and lay out first).
        return self.review_screen

    def on_mount(self) -> None:
        self.call_after_refresh(self._first_screen_drawn)

    def _first_screen_drawn(self) -> None:
        self._resume_collector()
        # After the first screen is drawn: the build shares the interpreter with it.
        self._build_index()
        self.set_interval(POLL_SECONDS, self._poll, name="live refresh")

    # --- other processes on the same database ---------------------------------------------------

    def _poll(self) -> None:
        """Another process committed (a reviewer, another window of yours, an import, an
        assignment): bring the index and the review screen up to date with it."""
        try:
            if not self.watcher.moved():
                return
            changes = self.watcher.read()
        except sqlite3.Error:  # (busy for longer than the timeout): asked again next time
            return
        if not changes:
            return
        try:
            self.apply_changes(changes)
        except (sqlite3.Error, ReviewerError) as exc:
            self.notify(f"Others' changes not shown: {exc}", severity="warning", markup=False)

    def apply_changes(self, changes: Changes) -> None:
        """Changes another process committed: into the search index, then onto the screen."""
        if self.span_index is not None:
            with self.index_lock:
                self._apply_to_index(self.span_index, changes)
        if changes.unlogged:  # spans the log does not list (an import): build the index again
            self._build_index()
        self.review_screen.apply_changes(changes)

    # --- the search index: built once per start, in a worker; kept current by each change ---

    span_index = None  # reviewer.core.search.SpanIndex, once built
    vocabulary = None  # reviewer.core.search.Vocabulary, once built

    @work(thread=True, exclusive=True, group="index")
    def _build_index(self) -> None:
        from reviewer.core.search import index_store, vocabulary_of

        worker = get_current_worker()

        def cancelled() -> bool:  # the app is closing: stop, do not keep it waiting
            return worker.is_cancelled

        try:
            with self.store.for_thread() as store, store.read():  # one snapshot, and its mark
                mark = log_mark(store)
                index = index_store(store, cancelled)
                vocabulary = vocabulary_of(store, cancelled)
        except Cancelled:
            return
        if not worker.is_cancelled:
            self.call_from_thread(self._index_ready, index, vocabulary, mark)

    def _index_ready(self, index, vocabulary, mark: LogMark) -> None:
        # Changes made while it was built (here or elsewhere) are in the log after its
        # snapshot: apply them. An import among them builds it again (the watcher says so).
        with self.store.read():
            self._apply_to_index(index, changes_since(self.store, mark))
        self.span_index, self.vocabulary = index, vocabulary
        # The index (a few hundred thousand counters and groups on 200,000 spans) lives until
        # the next build: out of the collector's reach, as the imports are (see run), a full
        # collection does not walk it all again (80 ms pauses while a query was typed). It
        # holds no cycles, so reference counting frees it when it is replaced. One collection
        # first (once per build), so that garbage waiting now is not frozen with it; what
        # else is alive now is (a screen that later dies in a cycle is freed only at exit).
        gc.collect()
        gc.freeze()
        from reviewer.tui.screens.search import SearchScreen

        if isinstance(self.screen, SearchScreen):  # it said "building the index…": search now
            self.screen.run_search(self.screen.query_one("#query", Input).value)

    @staticmethod
    def _apply_to_index(index, changes: Changes) -> None:
        for change in changes.spans:
            index.apply(change.before, change.after)
        for (report_id, reviewer), status in changes.statuses.items():
            index.set_status(report_id, reviewer, status)

    def index_change(self, result) -> None:
        """Apply an action's span changes to the search index (an index still being built
        reads them from the log when it is ready)."""
        if self.span_index is None:
            return
        with self.index_lock:  # a search worker may be reading it
            for change in result.changes:
                self.span_index.apply(change.before, change.after)

    def action_command_palette(self) -> None:
        # Not over a dialog: its answer belongs to the report it was asked on, and the palette
        # could open another one (or switch reviewer) in between.
        if isinstance(self.screen, ModalScreen):
            self.bell()
            return
        super().action_command_palette()

    def help_bindings(self) -> list[Binding]:
        return [
            Binding("tab,shift+tab", "", "Next / previous pane"),
            Binding(
                "ctrl+p",
                "",
                "Command palette: open a report by title or id, export, "
                "switch reviewer, toggle precision, curate, agreement",
            ),
            Binding("ctrl+q", "", "Quit (everything is already saved)"),
        ]

    def action_switch_reviewer(self) -> None:
        from reviewer.tui.screens.dialogs import TextPrompt

        def switch(name: str | None) -> None:
            if not name:
                return
            if name != one_line(name) or name.startswith("@"):
                self.notify(
                    "A reviewer name is one line of text, not starting with @ (kept for "
                    "layers such as @curated).",
                    severity="error",
                    markup=False,
                )
                return
            screen = self.review_screen
            screen._leave_report()
            screen._remember()
            self.reviewer = screen.reviewer = name
            self.sub_title = one_line(f"{name} · {self.store.path}")
            screen.report = None
            screen.refresh_queue()
            position = self.store.position(name)
            ids = [row.report_id for row in screen.rows]
            if position and position[0] in ids:
                screen.open_report(position[0], cursor=position[1])
            elif ids:
                screen.open_report(ids[0])
            self.notify(f"Now annotating as {name}.", markup=False)

        self.push_screen(TextPrompt("Annotate as (reviewer name):", self.reviewer), switch)

    # --- team work: curation and agreement ----------------------------------------------------

    def open_curation(self, session: str | None = None) -> None:
        """The curation screen over a session's reports (or every report two or more
        reviewers annotated), as the current reviewer, the session's curator."""
        from reviewer.core import team
        from reviewer.tui.screens.curation import CurationScreen

        if session is None:
            annotated = team.annotated(self.store)
            others = team.curated_elsewhere(self.store, self.reviewer)  # theirs to curate
            ids = [
                r
                for r in self.store.report_ids()
                if len(annotated.get(r, ())) >= 2 and r not in others
            ]
            reviewers, title = None, "all reports"
        else:
            found = team.get_session(self.store, session)
            if found.curator != self.reviewer:
                self.notify(
                    f"{found.curator} curates session {found.name}: switch reviewer "
                    "(ctrl+p) to curate it.",
                    severity="warning",
                    markup=False,
                )
                return
            ids, reviewers = list(found.report_ids), list(found.reviewers)
            title = f"session {found.name}"
        if not ids:
            self.notify("Nothing to curate: no report is annotated by two reviewers yet.")
            return
        mark = log_mark(self.store)
        screen = CurationScreen(self.store, self.reviewer, ids, reviewers, one_line(title))
        self.push_screen(screen, lambda _: self._caught_up(mark))

    def _caught_up(self, mark: LogMark) -> None:
        """After a screen that wrote (curation): its changes into the search index and onto
        the review screen, as if another process had made them."""
        with self.store.read():
            changes = changes_since(self.store, mark)
        if changes:
            self.apply_changes(changes)

    def open_agreement(self, session: str | None = None) -> None:
        from reviewer.core import team
        from reviewer.tui.screens.agreement import AgreementScreen

        # Figures over a blind session's reports the viewer has not finished would show how
        # the others tagged them (tag a guess, recompute): those reports are left out.
        blind = team.blind_report_ids(self.store, self.reviewer)
        if session is None:
            ids, reviewers, title = self.store.report_ids(), None, "all reports"
        else:
            found = team.get_session(self.store, session)
            ids, reviewers = list(found.report_ids), list(found.reviewers)
            title = one_line(f"session {found.name}")
        kept = [r for r in ids if r not in blind]
        if len(kept) < len(ids):
            title += f" (without the {len(ids) - len(kept)} blind reports you have not finished)"
            self.notify(
                f"{len(ids) - len(kept)} reports of a blind session you have not marked done "
                "are left out of the figures.",
                markup=False,
            )
        self.push_screen(AgreementScreen(self.store, kept, reviewers, title))

    def export(self, fmt: str) -> None:
        stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
        folder = self.store.workspace / "exports"
        name = (
            f"{fmt}-{stamp}" if fmt == "brat" else f"{fmt}-{stamp}.{_EXTENSIONS.get(fmt, 'jsonl')}"
        )
        self.notify(f"Exporting {fmt} to {folder / name}…", markup=False)
        self._export(fmt, folder / name)

    @work(thread=True, exclusive=True, group="export")
    def _export(self, fmt: str, target: Path) -> None:
        # A sqlite connection belongs to one thread: the worker opens its own.
        from reviewer.core.exporter import export, export_brat  # not needed to start

        try:
            with self.store.for_thread() as store:
                target.parent.mkdir(parents=True, exist_ok=True)
                notes: list[str] = []
                # JSONL and spans say whose each span is; the other formats hold one layer,
                # so they get the reviewer's own spans. So does anyone with a blind session
                # under way: an export must not show them the others' spans either.
                blind = bool(blind_report_ids(store, self.reviewer))
                only = None if fmt in ("jsonl", "spans") and not blind else self.reviewer
                if fmt == "brat":
                    n = export_brat(store, target, reviewer=only, notes=notes)
                    what = f"{n} reports"
                else:
                    n = export(store, fmt, target, notes=notes, reviewer=only)
                    what = f"{n} lines"
                if only:
                    what += f" of {only}'s spans"
        except (ReviewerError, OSError) as exc:
            self.call_from_thread(
                self.notify, f"Export failed: {exc}", severity="error", markup=False
            )
            return
        extra = f" ({len(notes)} notes: {one_line(notes[0])}…)" if notes else ""
        self.call_from_thread(
            self.notify, f"Exported {what} to {target}{extra}", markup=False, timeout=8
        )


def check_label_keys(store: Store) -> None:
    """A label's key must not be a key the review screen already uses."""
    taken = BindingsMap([*ReviewScreen.BINDINGS, *ReportView.BINDINGS]).key_to_bindings
    for label in store.labels.labels:
        if not label.key:
            continue
        if label.key == ",":  # Textual separates keys with commas: it cannot bind one
            raise ReviewerError(f"label {label.name!r}: ',' cannot be a key; choose another")
        (key,) = BindingsMap([Binding(label.key, "label")]).key_to_bindings
        if key in taken:
            raise ReviewerError(
                f"label {label.name!r} has the key {label.key!r}, which the review screen uses "
                f"for “{taken[key][0].description.lower()}”: give it another key in labels.toml "
                "(digits 5-9 are free)"
            )


def run(db_path: Path, reviewer: str) -> None:
    """Open the database (migrating it if needed) and run the app until the user quits."""
    with Store(db_path) as store:
        ReviewerApp(store, reviewer).run()
