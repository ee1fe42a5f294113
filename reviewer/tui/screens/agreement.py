"""The agreement screen: the figures of ``reviewer agreement`` in the app, computed in a worker
(tokenizing every report takes a moment on a large set) and shown as plain text, never markup."""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from reviewer.core import team
from reviewer.core.agreement import compute, render_markdown
from reviewer.core.store import Store
from reviewer.tui.widgets.title_bar import TitleBar


class AgreementScreen(Screen):
    """Span F1, Cohen's and Fleiss' kappa and Krippendorff's alpha for a set of reports."""

    BINDINGS = [
        Binding("q,escape", "close", "Back"),
        Binding("r", "refresh_figures", "Recompute"),
        Binding("j,down", "scroll(1)", "Down", show=False),
        Binding("k,up", "scroll(-1)", "Up", show=False),
    ]

    def __init__(
        self,
        store: Store,
        report_ids: list[str] | None = None,
        reviewers: list[str] | None = None,
        title: str = "all reports",
    ) -> None:
        super().__init__()
        self.store = store
        self.report_ids = report_ids
        self.reviewers = reviewers
        self.title_text = title

    def compose(self) -> ComposeResult:
        yield TitleBar()
        with VerticalScroll(id="agreement-body"):
            yield Static(Content(f"Computing the agreement on {self.title_text}…"), id="figures")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = f"agreement · {self.title_text}"
        self.query_one("#agreement-body").focus()
        self._compute()

    def action_refresh_figures(self) -> None:
        self.query_one("#figures", Static).update(Content("Computing…"))
        self._compute()

    def action_scroll(self, step: int) -> None:
        self.query_one("#agreement-body", VerticalScroll).scroll_relative(y=step, animate=False)

    def action_close(self) -> None:
        self.dismiss()

    @work(thread=True, exclusive=True, group="agreement")
    def _compute(self) -> None:
        store = self.store.for_thread()  # a connection belongs to its thread
        try:
            items = team.report_layers(store, self.report_ids, self.reviewers)
        finally:
            store.close()
        text = render_markdown(compute(items, reviewers=self.reviewers))
        self.app.call_from_thread(self._show, text)

    def _show(self, text: str) -> None:
        self.query_one("#figures", Static).update(Content(text))
