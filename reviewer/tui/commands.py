"""The command palette (ctrl+p): jump to a report, export, switch reviewer, and more.

Report titles are untrusted text: each hit is built as ``Content`` with the matched characters
styled by position, never through the matcher's markup-parsing ``highlight``.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.content import Content

from reviewer.core.formats import FORMATS
from reviewer.core.team import session_names
from reviewer.core.text import one_line

if TYPE_CHECKING:
    from reviewer.tui.app import ReviewerApp


def _highlighted(text: str, query: str) -> Content:
    """``text`` with the query's characters, found in order, in bold (case-insensitive)."""
    content = Content(text)
    folded, i = text.casefold(), 0
    for ch in query.casefold():
        j = folded.find(ch, i)
        if j < 0:
            break
        content = content.stylize("bold underline", j, j + 1)
        i = j + 1
    return content


class ReviewCommands(Provider):
    """Commands of the review screen."""

    def _actions(self) -> list[tuple[str, object, str]]:
        """The commands other than opening a report (what discovery lists)."""
        app: ReviewerApp = self.app  # type: ignore[assignment]
        screen = app.review_screen
        commands: list[tuple[str, object, str]] = [
            ("Switch reviewer…", app.action_switch_reviewer, "Annotate as someone else"),
            ("Toggle character precision", screen.action_toggle_precision, "Words or characters"),
            ("Show keys", screen.action_help, "Every key of this screen"),
        ]
        commands += [
            ("Curate: all reports", app.open_curation, "Decide the reviewers' disagreements"),
            ("Agreement: all reviewers", app.open_agreement, "F1, kappa and alpha"),
        ]
        for name in session_names(app.store):
            commands += [
                (
                    one_line(f"Curate session {name}"),
                    partial(app.open_curation, name),
                    "Decide the session's disagreements into the curated layer",
                ),
                (
                    one_line(f"Agreement: session {name}"),
                    partial(app.open_agreement, name),
                    "F1, kappa and alpha of the session's reviewers",
                ),
            ]
        for info in FORMATS:
            if info.write:
                commands.append(
                    (f"Export as {info.name}", partial(app.export, info.name), info.description)
                )
        return commands

    def _commands(self) -> list[tuple[str, object, str]]:
        screen = self.app.review_screen  # type: ignore[attr-defined]
        commands = self._actions()
        for row in screen.rows:
            title = one_line(f"Open report: {row.title} ({row.report_id})")
            commands.append((title, partial(screen.open_report, row.report_id), ""))
        return commands

    async def discover(self) -> Hits:
        for name, action, help_text in self._actions():
            yield DiscoveryHit(Content(name), action, text=name, help=help_text)  # type: ignore[arg-type]

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, action, help_text in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, _highlighted(name, query), action, text=name, help=help_text)  # type: ignore[arg-type]
