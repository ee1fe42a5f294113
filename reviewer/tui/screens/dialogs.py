"""Small modal dialogs: a one-line prompt (note, flag reason, reviewer name) and attributes."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from reviewer.core.model import SPAN_ATTRIBUTES


class TextPrompt(ModalScreen[str | None]):
    """Ask for one line of text. Enter returns it (stripped); escape returns ``None``."""

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "", placeholder: str = "") -> None:
        super().__init__()
        self.prompt_title = title
        self.value = value
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content(self.prompt_title), classes="dialog-title")
            yield Input(self.value, placeholder=self.placeholder, id="prompt-input")
            yield Static(Content("enter: save · escape: cancel"), classes="dialog-help")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class AttributesDialog(ModalScreen[dict | None]):
    """Toggle a span's attributes with one key each; enter saves, escape cancels."""

    BINDINGS = [
        Binding("n", "toggle('negated')", "Negated"),
        Binding("u", "toggle('uncertain')", "Uncertain"),
        Binding("h", "toggle('historical')", "Historical"),
        Binding("enter", "save", "Save"),
        Binding("escape", "cancel", "Cancel"),
    ]

    def __init__(self, span_text: str, attributes: dict) -> None:
        super().__init__()
        self.span_text = span_text
        self.attributes = dict(attributes)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                Content.assemble("Attributes of ", (self.span_text, "bold")), classes="dialog-title"
            )
            yield Static(id="attributes")
            yield Static(
                Content("n u h: toggle · enter: save · escape: cancel"), classes="dialog-help"
            )

    def on_mount(self) -> None:
        self._show()

    def _show(self) -> None:
        parts: list[str | tuple[str, str]] = []
        for name in SPAN_ATTRIBUTES:
            on = self.attributes.get(name) is True
            parts += [
                ("[x] " if on else "[ ] ", "bold" if on else "dim"),
                (name[0], "underline"),
                name[1:],
                "\n",
            ]
        self.query_one("#attributes", Static).update(Content.assemble(*parts))

    def action_toggle(self, name: str) -> None:
        if self.attributes.get(name) is True:
            self.attributes.pop(name)
        else:
            self.attributes[name] = True
        self._show()

    def action_save(self) -> None:
        self.dismiss(self.attributes)

    def action_cancel(self) -> None:
        self.dismiss(None)
