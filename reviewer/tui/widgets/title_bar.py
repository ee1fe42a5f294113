"""The top line of a screen: the app's title and sub-title (the reviewer, the database).

One widget where Textual's ``Header`` is four (an icon, the title, a clock's space and the
bar around them), each styled and laid out at startup; the palette it opens on a click is
on ctrl+p and in the footer."""

from __future__ import annotations

from textual.widgets import Static


class TitleBar(Static):
    DEFAULT_CSS = """
    TitleBar {
        dock: top;
        width: 100%;
        height: 1;
        background: $panel;
        color: $foreground;
        content-align: center middle;
        text-wrap: nowrap;
        text-overflow: ellipsis;
    }
    """

    def on_mount(self) -> None:
        # Called at once and on each change (the reviewer switched, a screen's own title).
        self.watch(self.app, "sub_title", self._show)
        self.watch(self.screen, "sub_title", self._show)

    def _show(self) -> None:
        screen = self.screen
        title = screen.title if screen.title is not None else self.app.title
        sub_title = screen.sub_title if screen.sub_title is not None else self.app.sub_title
        self.update(self.app.format_title(title, sub_title))
