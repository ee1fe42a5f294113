"""The installed ``reviewer`` command in a real terminal: tmux runs it, send-keys types, and
capture-pane reads the screen, as a user would see it; what the keys did is then read back
from the database."""

from __future__ import annotations

import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from reviewer.core.store import Store

SAMPLES = Path(__file__).resolve().parents[2] / "sample_reports"
REVIEWER = Path(sys.executable).with_name("reviewer")

pytestmark = pytest.mark.skipif(
    shutil.which("tmux") is None or not REVIEWER.exists(),
    reason="needs tmux and the installed reviewer command (.ci/run installs tmux)",
)


class Tmux:
    def __init__(self, socket: str) -> None:
        self.socket = socket

    def __call__(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["tmux", "-L", self.socket, *args], capture_output=True, text=True, check=check
        )

    def screen(self) -> str:
        return self("capture-pane", "-p", "-t", "app").stdout

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            screen = self.screen() if self.alive() else ""
            if predicate(screen):
                return screen
            time.sleep(0.2)
        raise AssertionError(f"timed out; the screen was:\n{screen}")

    def alive(self) -> bool:
        return self("has-session", "-t", "app", check=False).returncode == 0

    def wait_gone(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        while self.alive() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not self.alive(), f"the app is still running; the screen is:\n{self.screen()}"

    def keys(self, *keys: str) -> None:
        for key in keys:  # one at a time, as a user types them
            self("send-keys", "-t", "app", key)

    def pane_pid(self) -> int:
        return int(self("display-message", "-p", "-t", "app", "#{pane_pid}").stdout)


@pytest.fixture
def tmux():
    t = Tmux(f"reviewer-e2e-{uuid.uuid4().hex[:8]}")
    yield t
    t("kill-server", check=False)


def test_open_browse_and_quit_in_a_real_terminal(tmp_path: Path, tmux: Tmux) -> None:
    db = tmp_path / "reviewer.db"
    env = {**os.environ, "REVIEWER_DB": str(db), "REVIEWER_NAME": "e2e"}
    imported = subprocess.run(
        [str(REVIEWER), "import", str(SAMPLES)], capture_output=True, text=True, env=env
    )
    assert imported.returncode == 0, imported.stderr
    assert "Imported 13 reports" in imported.stdout

    command = f"env REVIEWER_DB={db} REVIEWER_NAME=e2e TERM=xterm-256color {REVIEWER}"
    tmux("new-session", "-d", "-s", "app", "-x", "100", "-y", "30", command)
    screen = tmux.wait_for(lambda s: " 1/13 · " in s)
    assert "Facial erythema after dupilumab" in screen
    assert "Title: Facial erythema" in screen  # the text pane shows the report itself

    tmux("send-keys", "-t", "app", "n")
    screen = tmux.wait_for(lambda s: " 2/13 · " in s)
    assert "amoxicillin" in screen

    tmux("send-keys", "-t", "app", "C-q")
    deadline = time.monotonic() + 15
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not tmux.alive(), "ctrl+q did not quit the app"


SIZES = [pytest.param(80, 24, id="80x24"), pytest.param(120, 35, id="120x35")]
SAVED = re.compile(r"\bsaved\b")  # the status line after a change ("NOT SAVED" on failure)


def imported_database(tmp_path: Path) -> Path:
    db = tmp_path / "reviewer.db"
    imported = subprocess.run(
        [str(REVIEWER), "--db", str(db), "import", str(SAMPLES)], capture_output=True, text=True
    )
    assert imported.returncode == 0, imported.stderr
    assert "Imported 13 reports" in imported.stdout
    return db


def open_as_carol(tmux: Tmux, db: Path, width: int, height: int) -> None:
    # exec: the pane's process is the app itself, so its pid is the app's.
    command = (
        f"exec env TERM=xterm-256color {shlex.quote(str(REVIEWER))} "
        f"--db {shlex.quote(str(db))} --reviewer carol"
    )
    tmux("new-session", "-d", "-s", "app", "-x", str(width), "-y", str(height), command)
    screen = tmux.wait_for(lambda s: " 1/13 · " in s and "Title: Facial erythema" in s)
    assert "carol" in screen and not SAVED.search(screen)


def tag_dupilumab_as_drug(tmux: Tmux) -> str:
    """From the top of case01, four words on ("Title: Facial erythema after dupilumab") the
    cursor is on "dupilumab"; 1 tags it as a drug. Returns the screen once it says saved."""
    tmux.keys("w", "w", "w", "w", "1")
    return tmux.wait_for(lambda s: SAVED.search(s) is not None)


def carols_spans(db: Path) -> list[tuple[str, int, int, str, str]]:
    with Store(db) as store:
        return [
            (s.report_id, s.start, s.end, s.label, s.text) for s in store.spans(reviewer="carol")
        ]


def expected_dupilumab(db: Path) -> list[tuple[str, int, int, str, str]]:
    with Store(db) as store:
        start = store.report("case01").text.index("dupilumab")
    return [("case01", start, start + len("dupilumab"), "drug", "dupilumab")]


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_label_key_tags_the_word_under_the_cursor_and_it_is_in_the_database(
    tmp_path: Path, tmux: Tmux, width: int, height: int
) -> None:
    db = imported_database(tmp_path)
    open_as_carol(tmux, db, width, height)
    screen = tag_dupilumab_as_drug(tmux)
    assert "NOT SAVED" not in screen
    tmux.keys("C-q")
    tmux.wait_gone()
    assert carols_spans(db) == expected_dupilumab(db)


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_tag_acknowledged_on_screen_survives_sigkill(
    tmp_path: Path, tmux: Tmux, width: int, height: int
) -> None:
    db = imported_database(tmp_path)
    open_as_carol(tmux, db, width, height)
    pid = tmux.pane_pid()
    command = subprocess.run(["ps", "-o", "command=", "-p", str(pid)], capture_output=True)
    assert b"reviewer" in command.stdout, command  # the app, not a shell around it
    tag_dupilumab_as_drug(tmux)
    os.kill(pid, signal.SIGKILL)  # no quit, no unmount, no clean close of the database
    tmux.wait_gone()
    assert carols_spans(db) == expected_dupilumab(db)
