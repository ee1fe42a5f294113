"""The reviewer app: wiring only. It opens the store, fills the widgets, and routes keys."""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Footer, Header, OptionList, Static

from reviewer.core.model import Report, Status, display_title
from reviewer.core.store import Store
from reviewer.core.text import one_line
from reviewer.tui.widgets.queue import QueueRow, ReportQueue
from reviewer.tui.widgets.report_view import ReportView


class ReviewerApp(App):
    """Lists the imported reports and shows the selected one, read-only."""

    CSS_PATH = "app.tcss"
    TITLE = "reviewer"
    BINDINGS = [
        Binding("n", "next_report", "Next"),
        Binding("p", "previous_report", "Previous"),
        Binding("q", "focus_queue", "Queue"),
        Binding("t", "focus_text", "Text"),
        Binding("b", "toggle_queue", "Toggle queue"),
    ]

    def __init__(self, store: Store, reviewer: str) -> None:
        super().__init__()
        self.store = store
        self.reviewer = reviewer
        self.report: Report | None = None
        self.sub_title = one_line(f"{reviewer} · {store.path}")

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield ReportQueue(self.store.labels, id="queue")
            with Vertical(id="reading"):
                yield Static(id="meta")
                yield ReportView(self.store.labels, id="text")
                yield Static(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_queue()
        queue = self.query_one(ReportQueue)
        if queue.option_count:
            queue.highlighted = 0
            self.show_report(self.rows[0].report_id)
        else:
            self.query_one("#meta", Static).update(
                Content("No reports yet. Quit (ctrl+q) and run: reviewer import PATH")
            )
        queue.focus()

    def refresh_queue(self) -> None:
        counts = self.store.span_counts()
        statuses = self.store.statuses(self.reviewer)
        self.rows = [
            QueueRow(
                s["id"],
                display_title(s["title"], s["head"], s["id"]),
                statuses.get(s["id"], _TODO),
                counts.get(s["id"], _EMPTY),
            )
            for s in self.store.report_summaries()
        ]
        self.query_one(ReportQueue).set_rows(self.rows)

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option.id is not None:
            self.show_report(event.option.id)

    def show_report(self, report_id: str) -> None:
        report = self.store.report(report_id)
        self.report = report
        spans = self.store.spans(report_id)
        self.query_one(ReportView).show(report.text, spans)
        self.query_one("#meta", Static).update(_meta(report))
        position = next(i for i, row in enumerate(self.rows) if row.report_id == report_id)
        status = self.store.status(report_id, self.reviewer).status.value
        per_label = (
            ", ".join(f"{label} {n}" for label, n in sorted(_count(spans).items())) or "no spans"
        )
        self.query_one("#status", Static).update(
            Content(
                f" {one_line(self.reviewer)} · report {position + 1}/{len(self.rows)} · {status} · "
                f"all saved · {per_label}"
            )
        )

    def _move(self, step: int) -> None:
        queue = self.query_one(ReportQueue)
        if queue.option_count:
            current = queue.highlighted or 0
            queue.highlighted = max(0, min(queue.option_count - 1, current + step))

    def action_next_report(self) -> None:
        self._move(1)

    def action_previous_report(self) -> None:
        self._move(-1)

    def action_focus_queue(self) -> None:
        self.query_one(ReportQueue).focus()

    def action_focus_text(self) -> None:
        self.query_one(ReportView).focus()

    def action_toggle_queue(self) -> None:
        queue = self.query_one(ReportQueue)
        queue.display = not queue.display
        if not queue.display:
            self.query_one(ReportView).focus()


_TODO = Status.TODO
_EMPTY: dict = {}


def _count(spans) -> dict[str, int]:
    out: dict[str, int] = {}
    for span in spans:
        out[span.label] = out.get(span.label, 0) + 1
    return out


def _meta(report: Report) -> Content:
    """Title, journal, date and DOI as literal text: report metadata is untrusted, so it is
    never parsed as markup, and :func:`one_line` keeps control characters off the terminal."""
    parts: list[str | tuple[str, str]] = [(one_line(report.display_title), "bold")]
    details = [p for p in (report.journal, report.published) if p]
    if report.doi:
        details.append(f"doi:{report.doi}")
    if details:
        parts += ["\n", (one_line(" · ".join(details)), "italic")]
    parts += ["\n", (one_line(f"{report.id} · {len(report.text):,} characters"), "dim")]
    if report.duplicate_of:
        parts += [("  duplicate of ", "dim"), (one_line(report.duplicate_of), "dim")]
    return Content.assemble(*parts)


def run(db_path: Path, reviewer: str) -> None:
    """Open the database (migrating it if needed) and run the app until the user quits."""
    with Store(db_path) as store:
        ReviewerApp(store, reviewer).run()
