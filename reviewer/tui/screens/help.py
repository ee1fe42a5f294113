"""The help screen: every key of the review screen, built from the bindings themselves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

_NAMES = {
    "left": "←",
    "right": "→",
    "up": "↑",
    "down": "↓",
    "exclamation_mark": "!",
    "question_mark": "?",
    "left_parenthesis": "(",
    "right_parenthesis": ")",
    "left_curly_bracket": "{",
    "right_curly_bracket": "}",
    "left_square_bracket": "[",
    "right_square_bracket": "]",
    "backslash": "\\",
}


def key_text(keys: str) -> str:
    """A binding's keys as a reader types them: ``shift+right`` stays, ``left`` is ←."""
    return " ".join(_NAMES.get(k.strip(), k.strip()) for k in keys.split(","))


class HelpScreen(ModalScreen[None]):
    """Lists the keys by section; escape, q or ? closes it."""

    BINDINGS = [Binding("escape,q,question_mark", "close", "Close")]

    def __init__(self, sections: list[tuple[str, list[Binding]]], intro: str = "") -> None:
        super().__init__()
        self.sections = sections
        self.intro = intro

    def compose(self) -> ComposeResult:
        parts: list[str | tuple[str, str]] = []
        if self.intro:
            parts += [(self.intro, "italic"), "\n"]
        for title, bindings in self.sections:
            parts += ["\n", (title, "bold underline"), "\n"]
            for binding in bindings:
                what = binding.tooltip or binding.description
                parts += [(f"  {key_text(binding.key):<22}", "bold"), what, "\n"]
        with VerticalScroll(id="help-body"):
            yield Static(Content.assemble(*parts))
        yield Static(Content(" escape, q or ?: close"), id="help-footer")

    def action_close(self) -> None:
        self.dismiss(None)
