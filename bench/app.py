"""The app's own figures: what a label key and opening a report cost on a long report, and
startup on a 10,000-report database, each next to a bare Textual baseline measured in the same
run (a plain ``TextArea`` repainting the same text, a minimal app starting up)."""

from __future__ import annotations

import asyncio
import compileall
import json
import math
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

import reviewer
from bench.corpus import FILLER, WORDS, write_corpus
from reviewer.core.importer import import_paths
from reviewer.core.store import Store

SIZE = (160, 45)
REPORT_CHARS = 30_000
REPORT_SPANS = 500
TAGS = 50  # label keys timed, each on a different word
OPENS = 20  # report openings timed, alternating between two reports
STARTS = 5  # process starts timed, for each app
REVIEWER = "bench"

# Filler words that are words to the tokenizer (not "≥" or "→"), so a label key tags them.
_TAGGABLE = {w for w in FILLER if w.isalpha() and len(w) >= 3}


def long_report(rng: random.Random, n: int, per_paragraph: int) -> tuple[dict, list[int]]:
    """A report of exactly ``REPORT_CHARS`` characters with ``REPORT_SPANS`` spans on label
    words (as in ``bench.corpus``), in paragraphs of ``per_paragraph`` sentences; and the
    offsets of untagged filler words through it, for the label key to tag."""
    head = f"Title: Generated long case report {n}\nDOI: 10.5555/bench.long.{n}\n\n"
    parts, pos = [head], len(head)
    spans: list[dict] = []
    free: list[int] = []
    for i in range(REPORT_SPANS):
        budget = (REPORT_CHARS - 20 - pos) / (REPORT_SPANS - i)  # keeps the spans inside
        label, words = WORDS[i % 4]
        word = rng.choice(words)
        end_sentence = i % 5 == 4
        new_paragraph = end_sentence and (i // 5) % per_paragraph == per_paragraph - 1
        sep = "\n\n" if new_paragraph else " "
        room = budget - len(word) - len(sep) - (1 if end_sentence else 0)
        filler = ""
        while len(filler) < room - 3:
            w = rng.choice(FILLER)
            if w in _TAGGABLE:
                free.append(pos + len(filler))
            filler += w + " "
        parts.append(filler)
        pos += len(filler)
        spans.append({"start": pos, "end": pos + len(word), "label": label})
        tail = word + ("." if end_sentence else "") + sep
        parts.append(tail)
        pos += len(tail)
    while pos < REPORT_CHARS:  # pad to the exact length with more filler
        w = rng.choice(FILLER) + " "
        parts.append(w)
        pos += len(w)
    text = "".join(parts)[:REPORT_CHARS]
    free = [f for f in free if f + 12 < REPORT_CHARS]
    record = {"id": f"long{n:02d}", "text": text, "_annotator_id": REVIEWER, "spans": spans}
    return record, free


def spread(items: list[int], k: int) -> list[int]:
    """``k`` items evenly spread over ``items``."""
    return [items[i * len(items) // k] for i in range(k)]


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def ms_line(name: str, samples: list[float], target_ms: float, base: float | None) -> None:
    median, high = statistics.median(samples) * 1e3, p95(samples) * 1e3
    verdict = "met" if median <= target_ms else "MISSED"
    ratio = (
        f"   baseline {base * 1e3:6.2f} ms   ratio {median / (base * 1e3):5.1f}x" if base else ""
    )
    print(
        f"  {name:<24} median {median:7.2f} ms   p95 {high:7.2f} ms{ratio}   "
        f"target median <= {target_ms:g} ms: {verdict}"
    )


def repaint(view) -> None:
    """Render every visible line of a text area, as the compositor does after a change."""
    for y in range(view.size.height):
        view.render_line(y)


async def _time_app(db: Path, ids: list[str], free: list[int], tags_n: int, opens_n: int) -> dict:
    from reviewer.tui.app import ReviewerApp

    store = Store(db)
    app = ReviewerApp(store, REVIEWER)
    tags: list[float] = []
    opens: list[float] = []
    try:
        async with app.run_test(size=SIZE) as pilot:
            await pilot.pause()
            screen = app.review_screen
            view = screen.view
            if screen.report is None or screen.report.id != ids[0]:
                screen.open_report(ids[0])
                await pilot.pause()
            before = len(screen.spans)
            positions = spread(free, tags_n)
            for offset in positions:
                view.place(offset)  # scrolled there before the key, as the reviewer would be
                await pilot.pause()
                start = time.perf_counter()
                screen.action_label(0)
                repaint(view)
                tags.append(time.perf_counter() - start)
                await pilot.pause()
                app.clear_notifications()
            added = len(screen.spans) - before
            assert added == tags_n, f"{added} of {tags_n} label keys added a span: {screen.saved}"
            outer, inner = view.outer_size, view.size
            for i in range(opens_n):
                start = time.perf_counter()
                screen.open_report(ids[(i + 1) % 2])
                repaint(view)
                opens.append(time.perf_counter() - start)
                await pilot.pause()
            assert screen.report is not None and screen.report.id == ids[opens_n % 2]
            assert view.text == store.report(ids[opens_n % 2]).text
        text = store.report(ids[0]).text
    finally:
        store.close()
    return {"tags": tags, "opens": opens, "outer": outer, "inner": inner, "text": text}


async def _time_bare(text: str, outer, inner, positions: list[int]) -> list[float]:
    """Baseline: a plain read-only ``TextArea`` of the same size holding the same text,
    repainting fully (its line cache cleared) at the same places."""
    from textual.app import App, ComposeResult
    from textual.widgets import TextArea

    class Bare(App):
        CSS = f"TextArea {{ width: {outer.width}; height: {outer.height}; border: round red; }}"

        def compose(self) -> ComposeResult:
            yield TextArea(text, read_only=True, soft_wrap=True)

    samples: list[float] = []
    app = Bare()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        area = app.query_one(TextArea)
        assert area.size == inner, (area.size, inner)
        for offset in positions:
            area.move_cursor(area.document.get_location_from_index(offset), center=True)
            await pilot.pause()
            start = time.perf_counter()
            area.notify_style_update()
            repaint(area)
            samples.append(time.perf_counter() - start)
    return samples


def bench_keys(tmp: Path, per_paragraph: int, tags_n: int, opens_n: int) -> None:
    rng = random.Random(11)
    (a, free), (b, _) = long_report(rng, 1, per_paragraph), long_report(rng, 2, per_paragraph)
    corpus = tmp / f"long-{per_paragraph}.jsonl"
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in (a, b)), "utf-8")
    db = tmp / f"long-{per_paragraph}.db"
    with Store(db) as store:
        summary = import_paths(store, [corpus], reviewer=REVIEWER)
        assert summary.reports == 2 and summary.spans == 2 * REPORT_SPANS, summary.line()
    paragraphs = a["text"].count("\n\n")
    print(
        f"app: two reports of {REPORT_CHARS:,} characters in {paragraphs} "
        f"paragraph{'s' if paragraphs != 1 else ''}, "
        f"{REPORT_SPANS} spans each (one reviewer's), at {SIZE[0]}x{SIZE[1]}"
    )
    got = asyncio.run(_time_app(db, [a["id"], b["id"]], free, tags_n, opens_n))
    positions = spread(free, tags_n)
    bare = asyncio.run(_time_bare(got["text"], got["outer"], got["inner"], positions))
    base = statistics.median(bare)
    ms_line("label key + repaint", got["tags"], 16, base)
    ms_line("open report + paint", got["opens"], 50, base)
    print(
        f"  {'':<24} (over {tags_n} words and {opens_n} openings; baseline: a bare TextArea "
        f"repainting its {got['inner'].height} visible lines of the same text)"
    )


# --- startup -------------------------------------------------------------------------------------

# Each app notes the clock when it hands its first frame to the driver (``App._display``,
# where a terminal would be written to), then exits once that frame is on screen.
_REVIEWER_START = """
import sys
import time
from pathlib import Path
from reviewer.core.store import Store
from reviewer.tui import app
from reviewer.tui.app import ReviewerApp

class FirstScreen(ReviewerApp):
    # A class defined in -c has no file to resolve a relative stylesheet path against.
    CSS_PATH = str(Path(app.__file__).with_name(ReviewerApp.CSS_PATH))
    shown_at = None

    def _display(self, screen, renderable):
        if renderable is not None and self.shown_at is None and screen is self.review_screen:
            # The first frame of the review screen with a report open in it, laid out and
            # its text wrapped to the view's width (not yet on the frame before the Resize).
            view = screen.view
            wrapped = view.wrap_width and view.wrapped_document._width == view.wrap_width
            if screen.report is not None and view.text and view.region and wrapped:
                self.shown_at = time.time()
                self.call_after_refresh(self.shown)
        super()._display(screen, renderable)

    def shown(self):
        screen = self.review_screen
        status = str(screen.query_one("#status").render())
        self.exit(f"{self.shown_at} {screen.report.id} {len(screen.rows)} {status}")

with Store(sys.argv[1]) as store:
    print(FirstScreen(store, "bench").run(headless=True, size=SIZE))
""".replace("SIZE", repr(SIZE))

_MINIMAL_START = """
import time
from textual.app import App
from textual.widgets import Static

class Minimal(App):
    shown_at = None

    def compose(self):
        yield Static("hello")

    def _display(self, screen, renderable):
        if renderable is not None and self.shown_at is None:
            self.shown_at = time.time()
            self.call_after_refresh(lambda: self.exit(f"{self.shown_at} shown"))
        super()._display(screen, renderable)

print(Minimal().run(headless=True, size=SIZE))
""".replace("SIZE", repr(SIZE))


def _start(script: str, *args: str) -> tuple[float, float, str]:
    """Run an app in a fresh process: the time from launch to its first screen (the app
    prints the clock when it is shown), the whole process's time, and what it printed."""
    launched, start = time.time(), time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"app start failed:\n{done.stderr}")
    shown_at, out = done.stdout.strip().split(" ", 1)
    return float(shown_at) - launched, took, out


def bench_startup(tmp: Path, db: Path | None, reports: int = 10_000) -> None:
    if db is None:
        db = tmp / "startup.db"
        corpus = tmp / "startup.jsonl"
        write_corpus(corpus, reports, reports * 20)
        with Store(db) as store:
            import_paths(store, [corpus], reviewer=REVIEWER)
    with Store(db) as store:
        reports = store.report_count()
    # Textual's modules were byte-compiled when pip installed them; ours are compiled here
    # too (as a first run writes them), since this environment may forbid writing bytecode.
    compileall.compile_dir(Path(reviewer.__file__).parent, quiet=1)
    ours: list[float] = []
    minimal: list[float] = []
    ours_whole: list[float] = []
    minimal_whole: list[float] = []
    shown = ""
    for _ in range(STARTS):  # interleaved, so drift on a shared machine hits both alike
        first, whole, shown = _start(_REVIEWER_START, str(db))
        ours.append(first)
        ours_whole.append(whole)
        first, whole, out = _start(_MINIMAL_START)
        assert out == "shown", out
        minimal.append(first)
        minimal_whole.append(whole)
    report_id, rows, status = shown.split(" ", 2)
    assert int(rows) == reports and "report 1/" in status, shown
    mine, base = statistics.median(ours), statistics.median(minimal)
    verdict = "met" if mine / base <= 1.5 else "MISSED"
    print(f"startup to the first screen, {reports:,} reports, a fresh process each, headless:")
    print(
        f"  {'reviewer app':<24} {mine:7.2f} s   minimal Textual app {base:5.2f} s   "
        f"ratio {mine / base:4.2f}x   target ratio <= 1.5x: {verdict}"
    )
    print(
        f"  {'':<24} (median of {STARTS}, from launch to the first frame drawn, our modules "
        f"byte-compiled as Textual's are; whole processes "
        f"with exit: {statistics.median(ours_whole):.2f} s and "
        f"{statistics.median(minimal_whole):.2f} s)"
    )
    print(f"  {'':<24} (the first screen showed {report_id}: {status.strip()})")


def bench_app(tmp: Path, db: Path | None = None) -> None:
    """Both app sections; ``db`` is a 10,000-report database to reuse, if there is one."""
    bench_keys(tmp, per_paragraph=6, tags_n=TAGS, opens_n=OPENS)
    # The worst case: the same text with no paragraph break (a report pasted as one line),
    # with fewer repetitions as each costs far more.
    bench_keys(tmp, per_paragraph=REPORT_SPANS, tags_n=3, opens_n=2)
    bench_startup(tmp, db)
