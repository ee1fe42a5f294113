"""A list that draws only the rows on screen, so 10,000 reports or 500 spans cost nothing to show.

Textual's ``OptionList`` measures every option's height when it is filled, which takes seconds
for a 10,000-report queue and tens of milliseconds per tag for a 500-span list. Here every row
has the same number of lines, cut to the width, and is rendered when it scrolls into view.
"""

from __future__ import annotations

from collections.abc import Mapping

from textual import events
from textual.binding import Binding, BindingsMap
from textual.content import Content
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip


def key_name(key: str) -> str:
    """A label's key as Textual names it ("%" is "percent_sign"), for binding it."""
    (name,) = BindingsMap([Binding(key, "label")]).key_to_bindings
    return name


class RowList(ScrollView, can_focus=True):
    """Rows known by a key (a report or span id), one highlighted; subclasses draw a row."""

    ROW_HEIGHT = 1
    COMPONENT_CLASSES = {"rows--highlight", "rows--highlight-blurred"}
    DEFAULT_CSS = """
    RowList { overflow-x: hidden; }
    RowList > .rows--highlight { background: $block-cursor-background; text-style: bold; }
    RowList > .rows--highlight-blurred { background: $block-cursor-blurred-background; }
    """
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Open", show=False),
    ]

    highlighted: reactive[int | None] = reactive(None, always_update=True)

    class Highlighted(Message):
        """The highlight moved to the row ``key`` (by key or mouse, not by the program)."""

        def __init__(self, rows: RowList, key: str) -> None:
            super().__init__()
            self.rows = rows
            self.key = key

        @property
        def control(self) -> RowList:
            return self.rows

    class Selected(Highlighted):
        """Enter or a click on the row ``key``."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.keys: list[str] = []
        self._index: Mapping[str, int] = {}
        self._strips: dict[tuple[int, int, int, bool], Strip] = {}

    # --- content ------------------------------------------------------------------------------

    def set_keys(
        self,
        keys: list[str],
        current: str | None = None,
        *,
        follow: bool = True,
        index: Mapping[str, int] | None = None,
    ) -> None:
        """Show these rows (drawn by :meth:`render_row`), highlighting ``current`` if present
        and scrolling to it (unless not ``follow``: a refresh leaves the scroll alone).
        ``index``: each key's position, when the caller has it already (not changed later)."""
        self.keys = keys
        self._index = {key: i for i, key in enumerate(keys)} if index is None else index
        self._strips.clear()
        self.virtual_size = Size(self.size.width, len(keys) * self.ROW_HEIGHT)
        self.set_reactive(RowList.highlighted, self._index.get(current) if current else None)
        if self.highlighted is not None and follow:
            self._scroll_to_highlight()
        self.refresh()

    def redraw(self) -> None:
        """Draw every row again (their content changed, not their number)."""
        self._strips.clear()
        self.refresh()

    def highlight(self, key: str | None) -> None:
        """Highlight the row ``key`` without posting a message."""
        self.set_reactive(RowList.highlighted, self._index.get(key) if key else None)
        self._strips.clear()
        self._scroll_to_highlight()
        self.refresh()

    def index_of(self, key: str) -> int | None:
        return self._index.get(key)

    @property
    def highlighted_key(self) -> str | None:
        i = self.highlighted
        return self.keys[i] if i is not None and 0 <= i < len(self.keys) else None

    def row_text(self, index: int) -> str:
        """Row ``index`` as plain text, its lines joined by newlines."""
        return "\n".join(self.render_row(index, line).plain for line in range(self.ROW_HEIGHT))

    def render_row(self, index: int, line: int) -> Content:
        """Line ``line`` (0 to ``ROW_HEIGHT - 1``) of row ``index``."""
        raise NotImplementedError

    # --- moving -------------------------------------------------------------------------------

    def _move_to(self, index: int) -> None:
        if not self.keys:
            return
        index = max(0, min(index, len(self.keys) - 1))
        self.highlighted = index
        self._strips.clear()
        self._scroll_to_highlight()
        self.refresh()
        self.post_message(self.Highlighted(self, self.keys[index]))

    def _scroll_to_highlight(self) -> None:
        if self.highlighted is None or not self.scrollable_content_region.height:
            return  # hidden: scrolled when it is shown (on_resize)
        top = self.highlighted * self.ROW_HEIGHT
        height = self.scrollable_content_region.height
        if top < self.scroll_y:
            self.scroll_to(y=top, animate=False, immediate=True)
        elif top + self.ROW_HEIGHT > self.scroll_y + height:
            self.scroll_to(y=top + self.ROW_HEIGHT - height, animate=False, immediate=True)

    def action_move(self, step: int) -> None:
        self._move_to((self.highlighted if self.highlighted is not None else -1) + step)

    def action_page(self, direction: int) -> None:
        rows = max(self.scrollable_content_region.height // self.ROW_HEIGHT, 1)
        self._move_to((self.highlighted or 0) + direction * rows)

    def action_jump(self, index: int) -> None:
        self._move_to(index if index >= 0 else len(self.keys) - 1)

    def action_select(self) -> None:
        key = self.highlighted_key
        if key is not None:
            self.post_message(self.Selected(self, key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)  # inside the border, or None on it
        if offset is None:
            return
        index = int(self.scroll_y + offset.y) // self.ROW_HEIGHT
        if 0 <= index < len(self.keys):
            self._move_to(index)
            self.post_message(self.Selected(self, self.keys[index]))

    def on_resize(self) -> None:
        self.virtual_size = Size(self.size.width, len(self.keys) * self.ROW_HEIGHT)
        self._strips.clear()
        self.call_after_refresh(self._scroll_to_highlight)

    def watch_has_focus(self) -> None:
        self._strips.clear()
        self.refresh()

    # --- drawing ------------------------------------------------------------------------------

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        index, line = divmod(int(self.scroll_y) + y, self.ROW_HEIGHT)
        if index >= len(self.keys):
            return Strip.blank(width, self.rich_style)  # (rich_style takes 50 µs: not per row)
        lit = index == self.highlighted
        key = (index, line, width, lit and self.has_focus)
        strip = self._strips.get(key)
        if strip is None:
            content = self.render_row(index, line).truncate(width, ellipsis=True)
            style = self.visual_style
            if lit:
                name = "rows--highlight" if self.has_focus else "rows--highlight-blurred"
                style = style + self.get_visual_style(name)
            strip = Strip(content.render_segments(style)).extend_cell_length(
                width, style.rich_style
            )
            if len(self._strips) > 4096:
                self._strips.clear()
            self._strips[key] = strip
        return strip.apply_offsets(0, int(self.scroll_y) + y)


class ContentRows(RowList):
    """Rows given as ready-made ``Content`` (search results: a few hundred at most)."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.contents: list[Content] = []

    def set_rows(
        self, keys: list[str], contents: list[Content], current: str | None = None
    ) -> None:
        """Show these rows; the highlight stays on ``current`` or goes to the first row."""
        self.contents = contents
        self.set_keys(keys, current if current in keys else (keys[0] if keys else None))

    def render_row(self, index: int, line: int) -> Content:
        return self.contents[index]
