"""What the screen looks like, at the two sizes that matter: 80x24 and a wide 160x45.

Update after a deliberate change with ``pytest tests/tui --snapshot-update``, after reading
``snapshot_report.html``.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from reviewer.core.importer import import_paths
from reviewer.core.store import Store
from reviewer.tui.app import ReviewerApp
from reviewer.tui.screens import review
from reviewer.tui.widgets.report_view import ReportView

SAMPLES = Path(__file__).resolve().parents[2] / "sample_reports"


@pytest.fixture
def app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)  # the header shows the database path: keep it the same

    class Clock(datetime):  # the status line shows when the last change was saved
        @classmethod
        def now(cls, tz=None):  # type: ignore[override]
            return datetime(2026, 11, 25, 9, 30, 0)

    monkeypatch.setattr(review, "datetime", Clock)
    store = Store(Path("reviewer.db"))
    import_paths(store, [SAMPLES], reviewer="alice")
    yield ReviewerApp(store, "alice")
    store.close()


async def no_blink(pilot) -> None:
    await pilot.pause()  # the screen composed (run_before may come before it is)
    await pilot.app.workers.wait_for_complete()  # the queue's span counts come from a worker
    pilot.app.screen.query_one(ReportView).cursor_blink = False
    await pilot.pause()


def test_main_screen_80x24(snap_compare, app: ReviewerApp) -> None:
    assert snap_compare(app, terminal_size=(80, 24), run_before=no_blink)


def test_main_screen_160x45(snap_compare, app: ReviewerApp) -> None:
    assert snap_compare(app, terminal_size=(160, 45), run_before=no_blink)


def test_help_screen(snap_compare, app: ReviewerApp) -> None:
    assert snap_compare(app, terminal_size=(100, 40), press=["question_mark"], run_before=no_blink)


def test_tagged_span_and_queue_shown_80x24(snap_compare, app: ReviewerApp) -> None:
    # Tag "Dupilumab" as a drug (own spans are filled), then show the queue over the narrow screen.
    keys = ["n", "w", "w", "1", "Q"]
    assert snap_compare(app, terminal_size=(80, 24), press=keys, run_before=no_blink)
