"""The installed ``reviewer`` command in a real terminal: tmux runs it, send-keys types, and
capture-pane reads the screen, as a user at 100x30 would see it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

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
    screen = tmux.wait_for(lambda s: "report 1/13" in s)
    assert "Facial erythema after dupilumab" in screen
    assert "Title: Facial erythema" in screen  # the text pane shows the report itself

    tmux("send-keys", "-t", "app", "n")
    screen = tmux.wait_for(lambda s: "report 2/13" in s)
    assert "amoxicillin" in screen

    tmux("send-keys", "-t", "app", "C-q")
    deadline = time.monotonic() + 15
    while tmux.alive() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not tmux.alive(), "ctrl+q did not quit the app"
