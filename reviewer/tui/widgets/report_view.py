"""The report text: spans painted by label, keyboard motions, counts, extend mode and jump hints.

The widget is a read-only ``TextArea`` holding the stored, normalised text, so every offset is a
code point of it and ``Document`` rows are exactly its ``\\n``-separated lines. It moves the cursor
and selection itself; what a selection becomes (a span) is the screen's business.
"""

from __future__ import annotations

from bisect import bisect_left
from itertools import pairwise

from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding
from textual.geometry import Offset, Region
from textual.message import Message
from textual.reactive import reactive
from textual.strip import Strip
from textual.widgets import TextArea
from textual.widgets.text_area import Selection

from reviewer.core.model import LabelSchema, Span
from reviewer.core.words import Words, hint_labels

_OVERLAP = Style(underline=True, bold=True)
_HINT = Style(color="#000000", bgcolor="#ffd75f", bold=True)
_HINT_DONE = Style(color="#808080", bgcolor="#ffd75f")
_REPAINT_ALL = 50  # spans changed at once above which every line is painted again


class ReportView(TextArea):
    """A read-only ``TextArea`` that paints spans over the report text and moves by words.

    The reviewer's own spans are filled with their label's colour; other reviewers' spans are
    underlined in it. Where spans overlap the region is also bold and underlined, so an overlap
    is never hidden by the span painted last.
    """

    BINDINGS = [
        Binding("h,left", "move('left')", "Left", show=False),
        Binding("l,right", "move('right')", "Right", show=False),
        Binding("k,up", "move('up')", "Line up", show=False),
        Binding("j,down", "move('down')", "Line down", show=False),
        Binding("w,ctrl+right", "move('word')", "Next word", show=False),
        Binding("b,ctrl+left", "move('back')", "Previous word", show=False),
        Binding("e", "move('end')", "End of word", show=False),
        Binding(")", "move('sentence')", "Next sentence", show=False),
        Binding("(", "move('sentence_back')", "Previous sentence", show=False),
        Binding("home", "move('line_start')", "Line start", show=False),
        Binding("end", "move('line_end')", "Line end", show=False),
        Binding("g", "move('top')", "Top", show=False),
        Binding("G", "move('bottom')", "Bottom", show=False),
        Binding("shift+right", "extend('word')", "Extend by a word", show=False),
        Binding("shift+left", "extend('back')", "Extend back by a word", show=False),
        Binding("shift+down", "extend('down')", "Extend by a line", show=False),
        Binding("shift+up", "extend('up')", "Extend back by a line", show=False),
        Binding("v", "toggle_extend", "Extend mode"),
        Binding("f", "hints", "Jump"),
        Binding("ctrl+u", "count", "Count (ctrl+u 3 w)", show=False),
        Binding("escape", "clear", "Clear selection", show=False),
        # TextArea's editing keys do nothing in a read-only area; these are the screen's.
        Binding("ctrl+z", "screen.undo", "Undo", show=False),
        Binding("ctrl+y", "screen.redo", "Redo", show=False),
        Binding("ctrl+c", "screen.copy", "Copy", show=False),
        Binding("delete", "screen.delete", "Delete span", show=False),  # not TextArea's
    ]

    extend: reactive[bool] = reactive(False)
    """In extend mode every motion extends the selection instead of moving the cursor."""

    count: reactive[str] = reactive("")
    """Digits typed after ctrl+u: the next motion repeats that many times."""

    class ModeChanged(Message):
        """Extend mode, the pending count or jump hints changed (for the status line)."""

    def __init__(self, labels: LabelSchema, **kwargs) -> None:
        super().__init__("", read_only=True, soft_wrap=True, **kwargs)
        # A paragraph is one line: highlighting the cursor's line would hide every span's
        # colour in the paragraph being annotated.
        self.highlight_cursor_line = False
        self.labels = labels
        self.words = Words("")
        self.reviewer = ""
        self._spans: list[Span] = []
        self._painted: dict[int, Text] = {}  # line index -> the line with spans and hints
        # line index -> its wrap offsets, whether it has tabs, its rows painted (row -> Text)
        # and drawn without cursor or selection ((row, width, base style) -> Strip); kept
        # for _render_line until the wrap or the paint changes
        self._sections: dict[int, tuple[list[int], bool, dict[int, Text], dict[tuple, Strip]]] = {}
        self._span_starts: list[int] = []
        self._longest = 0
        self.counting = False
        self.hints: dict[str, int] = {}
        self.hint_typed = ""
        self._styles = {
            label.name: Style(color="#1c1c1c", bgcolor=label.color) for label in labels.labels
        }
        self._others = {
            label.name: Style(color=label.color, underline=True) for label in labels.labels
        }

    # --- content ------------------------------------------------------------------------------

    def show(self, text: str, spans: list[Span], reviewer: str, cursor: int = 0) -> None:
        """Show a report's text and spans with the cursor at ``cursor``."""
        self.words = Words(text)
        self.reviewer = reviewer
        self._set_spans(spans)
        self.extend = False
        self._end_hints()
        self.load_text(text)
        self._forget_paint()
        self.place(min(max(cursor, 0), len(text)))
        if cursor == 0:
            self.scroll_home(animate=False)

    def set_spans(self, spans: list[Span], reviewer: str | None = None) -> None:
        """Repaint with another set of spans (the text is unchanged): only the lines that
        a span added, changed or removed lies on are painted again."""
        if reviewer is not None and reviewer != self.reviewer:
            self.reviewer = reviewer  # own spans and others' are painted differently
            self._set_spans(spans)
            self._repaint()
            return
        changed = set(self._spans).symmetric_difference(spans)
        self._set_spans(spans, forget=False)
        if len(changed) > _REPAINT_ALL:
            self._forget_paint()
        else:
            location = self.document.get_location_from_index
            for span in changed:
                (top, left), (bottom, right) = location(span.start), location(span.end)
                for line in range(top, bottom + 1):
                    self._forget_columns(
                        line, left if line == top else 0, right if line == bottom else None
                    )
        self.notify_style_update()
        self.refresh()

    def _set_spans(self, spans: list[Span], *, forget: bool = True) -> None:
        if forget:
            self._forget_paint()
        self._spans = sorted(spans, key=lambda s: (s.start, -s.end))
        self._span_starts = [s.start for s in self._spans]
        self._longest = max((s.end - s.start for s in self._spans), default=0)

    @property
    def spans(self) -> list[Span]:
        return list(self._spans)

    # --- offsets ------------------------------------------------------------------------------

    @property
    def offset(self) -> int:
        """The cursor as a code-point offset into the text."""
        return self.document.get_index_from_location(self.cursor_location)

    def selected_range(self) -> tuple[int, int] | None:
        """The selection as sorted offsets, ``None`` when nothing is selected."""
        start, end = self.selection
        if start == end:
            return None
        a = self.document.get_index_from_location(start)
        b = self.document.get_index_from_location(end)
        return min(a, b), max(a, b)

    def place(self, offset: int, *, center: bool = False) -> None:
        """Put the cursor at ``offset`` with nothing selected, scrolling only if needed (or to
        the middle of the view with ``center``)."""
        self.move_cursor(self.document.get_location_from_index(offset), center=center)

    def select_range(self, start: int, end: int) -> None:
        """Select ``[start, end)``, the cursor at its end."""
        loc = self.document.get_location_from_index
        self.selection = Selection(loc(start), loc(end))
        self.scroll_cursor_visible()

    def spans_at(self, offset: int) -> list[Span]:
        """Spans that hold the character at ``offset``, innermost first."""
        lo = bisect_left(self._span_starts, offset - self._longest)
        found = []
        for span in self._spans[lo:]:
            if span.start > offset:
                break
            if offset < span.end:
                found.append(span)
        found.sort(key=lambda s: s.end - s.start)
        return found

    # --- motions ------------------------------------------------------------------------------

    def _take_count(self) -> int:
        n = int(self.count) if self.count else 1
        self.count = ""
        self.counting = False
        return max(1, min(n, 10_000))

    def _target(self, motion: str, n: int, extending: bool) -> int | None:
        """The offset a word or sentence motion lands on (``None`` for the line motions,
        which the ``TextArea`` does itself)."""
        w, at = self.words, self.offset
        if motion == "word":
            return w.next_end(at, n) if extending else w.next_start(at, n)
        if motion == "back":
            return w.previous_start(at, n)
        if motion == "end":
            end = w.next_end(at + (0 if extending else 1), n)
            return end if extending else max(end - 1, 0)
        if motion == "sentence":
            return w.next_sentence(at, n)
        if motion == "sentence_back":
            return w.previous_sentence(at, n)
        if motion == "top":
            return 0
        if motion == "bottom":
            return len(self.text)
        return None

    def action_move(self, motion: str) -> None:
        self._motion(motion, self.extend)

    def action_extend(self, motion: str) -> None:
        self._motion(motion, True)

    def _motion(self, motion: str, select: bool) -> None:
        n = self._take_count()
        target = self._target(motion, n, select)
        if target is not None:
            loc = self.document.get_location_from_index(target)
            self.move_cursor(loc, select=select)
            self.scroll_cursor_visible()
            return
        get = {
            "left": self.get_cursor_left_location,
            "right": self.get_cursor_right_location,
            "up": self.get_cursor_up_location,
            "down": self.get_cursor_down_location,
            "line_start": self.get_cursor_line_start_location,
            "line_end": self.get_cursor_line_end_location,
        }[motion]
        for _ in range(n):
            self.move_cursor(get(), select=select)

    def action_toggle_extend(self) -> None:
        self.extend = not self.extend
        if not self.extend:
            self.move_cursor(self.cursor_location)

    def action_clear(self) -> None:
        self.extend = False
        self.count = ""
        self.counting = False
        self.move_cursor(self.cursor_location)

    def action_count(self) -> None:
        self.counting = True
        self.count = ""
        self.post_message(self.ModeChanged())

    def watch_extend(self) -> None:
        self.post_message(self.ModeChanged())

    def watch_count(self) -> None:
        self.post_message(self.ModeChanged())

    # --- jump hints -----------------------------------------------------------------------------

    def visible_range(self) -> tuple[int, int]:
        """The offsets of the text on screen."""
        doc = self.wrapped_document
        _, top = self.scroll_offset
        bottom = top + self.scrollable_content_region.height - 1
        first = doc.offset_to_location(Offset(0, top))
        last = doc.offset_to_location(Offset(self.scrollable_content_region.width, bottom))
        index = self.document.get_index_from_location
        return index(first), index(last) + 1

    def action_hints(self) -> None:
        """Draw a label of one or two letters over each word on screen; typing it jumps there."""
        start, end = self.visible_range()
        targets = [s for s, _ in self.words.words_in(start, end)]
        labels = hint_labels(len(targets))
        self.hints = dict(zip(labels, targets, strict=False))
        self.hint_typed = ""
        self._repaint()
        self.post_message(self.ModeChanged())

    def _end_hints(self) -> None:
        if self.hints:
            self.hints = {}
            self.hint_typed = ""
            self._repaint()
            self.post_message(self.ModeChanged())

    async def on_key(self, event: events.Key) -> None:
        if self.hints:
            event.stop()
            event.prevent_default()
            char = event.character or ""
            typed = self.hint_typed + char
            matches = [k for k in self.hints if k.startswith(typed)] if char.isalpha() else []
            if not matches:
                self._end_hints()
                return
            if typed in self.hints:
                target = self.hints[typed]
                self._end_hints()
                if self.extend and target >= self.offset:
                    target = self.words.next_end(target)  # extending forward takes the word in
                loc = self.document.get_location_from_index(target)
                self.move_cursor(loc, select=self.extend)
                return
            self.hint_typed = typed
            self._repaint()
        elif self.counting and event.character and event.character.isdigit():
            event.stop()
            event.prevent_default()
            self.count = (self.count + event.character)[-5:]
        else:
            await self._run_binding(event)

    async def _run_binding(self, event: events.Key) -> None:
        """Run the key's binding (this widget's or the screen's) here and now.

        Textual runs a binding when the key has bubbled up to the app, while this widget goes
        on with the next key: typed fast (``ctrl+u 3 w``, ``w 1``), a motion and a label key
        could then act out of order. Running the binding from this handler keeps every key in
        the order typed."""
        active = self.screen.active_bindings.get(event.key)
        if active is None or active.binding.priority or not active.enabled:
            return
        event.stop()
        event.prevent_default()
        await self.app.run_action(active.binding.action, active.node)

    def _repaint(self) -> None:
        self._forget_paint()
        self.notify_style_update()
        self.refresh()

    # --- the wrapped text ---------------------------------------------------------------------

    def render_lines(self, crop: Region) -> list[Strip]:
        # Textual draws a widget's first frame before the widget hears of its size (TextArea
        # wraps on Resize): wrap first, or the first frame shows each paragraph cut to one
        # row for the 40-100 ms until the Resize is handled.
        if self.soft_wrap and self.wrapped_document._width != self.wrap_width:
            self._rewrap_and_refresh_virtual_size()
        return super().render_lines(crop)

    def _set_document(self, text: str, language: str | None) -> None:
        super()._set_document(text, language)
        # TextArea asks for a line's wrapped rows on every cursor move (twice), and makes
        # them by dividing a rich Text of the whole line: on a 30,000-character paragraph,
        # 460 Text objects, about 10 ms per label key. The text never changes (reports are
        # read-only): the rows are cut once per wrap, as TextArea cuts them.
        self._row_texts: dict[int, tuple[list[int], list[str]]] = {}  # (TextArea's __init__
        # calls this before ours runs)
        self.wrapped_document.get_sections = self._wrapped_rows  # type: ignore[method-assign]

    def _wrapped_rows(self, line_index: int) -> list[str]:
        """What ``WrappedDocument.get_sections`` returns: the line (as rich keeps it, control
        codes stripped) cut at its wrap offsets; kept until the wrap changes."""
        offsets = self.wrapped_document.get_offsets(line_index)
        kept = self._row_texts.get(line_index)
        if kept is None or kept[0] != offsets:
            plain = Text(self.document[line_index], end="").plain
            cuts = [0, *offsets, len(plain)]
            kept = self._row_texts[line_index] = (
                list(offsets),
                [plain[a:b] for a, b in pairwise(cuts)],
            )
        return list(kept[1])

    # --- painting -----------------------------------------------------------------------------

    def _forget_paint(self) -> None:
        self._painted.clear()
        self._sections.clear()

    def _forget_columns(self, line_index: int, first: int, last: int | None) -> None:
        """Paint columns ``first`` to ``last`` (the end by default) of a line again: the
        rows of it they lie on, not the rest of a long paragraph."""
        self._painted.pop(line_index, None)
        cut = self._sections.get(line_index)
        if cut is None:
            return
        offsets, _, painted, drawn = cut
        starts = [0, *offsets]
        for row, start in enumerate(starts):
            end = starts[row + 1] if row + 1 < len(starts) else None
            if (last is None or start < last) and (end is None or first < end):
                painted.pop(row, None)
                for key in [k for k in drawn if k[0] == row]:
                    del drawn[key]

    def get_line(self, line_index: int) -> Text:
        # The TextArea asks for a line once per screen row it fills, so a long paragraph is
        # asked for many times per repaint; it also styles what it gets (cursor, selection),
        # so each caller gets a copy.
        painted = self._painted.get(line_index)
        if painted is None:
            painted = self._paint(line_index)
            self._painted[line_index] = painted
        return painted.copy()

    def _render_line(self, y: int) -> Strip:
        """One screen row, as ``TextArea`` draws it for a read-only, soft-wrapped area
        without line numbers or syntax highlighting, but cutting each paragraph into its
        wrapped rows once per paint rather than once per row: TextArea re-divides a whole
        paragraph for every row it draws, and a 30,000-character paragraph made a repaint
        cost hundreds of milliseconds. Anything else (tabs, line numbers, hard wrap) is
        drawn by TextArea itself. ``test_report_view_render`` holds the two to the same
        cells and styles."""
        wrapped = self.wrapped_document
        row = y + self.scroll_offset.y
        if (
            not self.soft_wrap
            or self.show_line_numbers
            or self.highlight_cursor_line
            or self.suggestion
            or not 0 <= row < wrapped.height
        ):
            return super()._render_line(y)
        line_index, section_index = wrapped._offset_to_line_info[row]
        cut = self._section(line_index, section_index)
        if cut is None:
            return super()._render_line(y)
        first, section, drawn = cut
        last = first + len(section)  # (the last row: and the cursor's space)
        theme = self._theme
        start, end = self.selection
        cursor_row, cursor_column = end
        (top_row, top_column), (bottom_row, bottom_column) = sorted(self.selection)
        bracket = self._matching_bracket_location
        brackets = (
            self._has_cursor and self.match_cursor_bracket and bracket is not None and start == end
        )
        width = self.scrollable_content_region.size.width - self.gutter_width
        plain = (  # nothing but spans on this row: drawn once per paint, not per cursor move
            cursor_row != line_index
            and not (start != end and top_row <= line_index <= bottom_row)
            and not (brackets and bracket is not None and bracket[0] == line_index)
        )
        base = theme.base_style if theme and theme.base_style is not None else self.rich_style
        key = (section_index, width, base)
        if plain and (strip := drawn.get(key)) is not None:
            return strip
        line = section.copy()

        def stylize(style: Style | None, start: int, end: int) -> None:
            a, b = max(start, first), min(end, last)
            if style is not None and a < b:
                line.stylize(style, a - first, b - first)

        if start != end and top_row <= line_index <= bottom_row and theme:
            style = theme.selection_style
            length = len(self.document[line_index])
            if style is not None and length == 0 and line_index != cursor_row:
                line.plain = "▌"  # an empty line in the selection, as TextArea marks it
                line.stylize(Style(color=style.bgcolor))
            else:
                stylize(
                    style,
                    top_column if line_index == top_row else 0,
                    bottom_column if line_index == bottom_row else length,
                )
        if cursor_row == line_index:
            if brackets and theme:
                stylize(theme.bracket_matching_style, cursor_column, cursor_column + 1)
            if self._draw_cursor and theme:
                stylize(theme.cursor_style, cursor_column, cursor_column + 1)
        if brackets and theme and bracket is not None and bracket[0] == line_index:
            stylize(theme.bracket_matching_style, bracket[1], bracket[1] + 1)
        strip = Strip(line.render(self.app.console), cell_length=line.cell_len)
        strip = strip.extend_cell_length(width, theme.base_style if theme else None)
        strip = strip.apply_style(base)
        if plain:
            drawn[key] = strip
        return strip

    def _section(
        self, line_index: int, section_index: int
    ) -> tuple[int, Text, dict[tuple, Strip]] | None:
        """The column row ``section_index`` of a line as wrapped starts at, the row painted
        (the last row one space longer, for the cursor past the end), and the line's rows
        drawn so far. A row is painted on its own, so a paragraph of 30,000 characters costs
        only its rows on screen. Kept until the wrap or the paint changes; ``None`` for a
        line with tabs (TextArea draws those)."""
        offsets = self.wrapped_document.get_offsets(line_index)
        cut = self._sections.get(line_index)
        if cut is None or cut[0] != offsets:  # (what was drawn from the old cut goes with it)
            text = self.document[line_index]
            cut = self._sections[line_index] = (list(offsets), "\t" in text, {}, {})
        offsets, tabs, painted, drawn = cut
        if tabs:
            return None
        first = offsets[section_index - 1] if section_index else 0
        section = painted.get(section_index)
        if section is None:
            length = len(self.document[line_index])
            last = offsets[section_index] if section_index < len(offsets) else length
            section = self._paint(line_index, first, last)
            if last >= length:
                section.set_length(len(section) + 1)
            painted[section_index] = section
        return first, section, drawn

    def _paint(self, line_index: int, first: int = 0, last: int | None = None) -> Text:
        """Columns ``first`` to ``last`` of a line (all of it by default) with its spans and
        jump hints."""
        text = self.document[line_index]
        last = len(text) if last is None else min(last, len(text))
        line = Text(text[first:last], end="", no_wrap=True)
        start = self.document.get_index_from_location((line_index, 0)) + first
        end = start + len(line.plain)
        covered: list[tuple[int, int]] = []
        lo = bisect_left(self._span_starts, start - self._longest)
        here = []
        for span in self._spans[lo:]:
            if span.start > end:
                break
            if span.end > start:
                here.append(span)
        # Others' spans first: an own span's fill then keeps its dark text readable.
        here.sort(key=lambda s: s.reviewer == self.reviewer)
        for span in here:
            own = span.reviewer == self.reviewer
            style = (self._styles if own else self._others).get(span.label, Style(reverse=True))
            for piece_start, piece_end in span.pieces:  # a discontinuous span: each fragment
                a, b = max(piece_start, start) - start, min(piece_end, end) - start
                if a >= b:
                    continue
                line.stylize(style, a, b)
                for c, d in covered:
                    lo_, hi = max(a, c), min(b, d)
                    if lo_ < hi:
                        line.stylize(_OVERLAP, lo_, hi)
                covered.append((a, b))
        if self.hints:
            line = self._draw_hints(line, start, end)
        return line

    def _draw_hints(self, line: Text, start: int, end: int) -> Text:
        """Letters drawn over the first characters of each target word on this line (the
        text keeps its length, so columns stay true)."""
        plain = list(line.plain)
        marks: list[tuple[int, int, Style]] = []
        for label, target in self.hints.items():
            # (a label begun on the row before may end on this one)
            if not (start - len(label) < target < end) or not label.startswith(self.hint_typed):
                continue
            col = target - start
            for i, ch in enumerate(label):
                if 0 <= col + i < len(plain) and plain[col + i] != "\t":
                    plain[col + i] = ch
                    done = i < len(self.hint_typed)
                    marks.append((col + i, col + i + 1, _HINT_DONE if done else _HINT))
        out = Text("".join(plain), style=line.style, end="", no_wrap=True)
        for span in line.spans:
            out.stylize(span.style, span.start, span.end)
        for a, b, style in marks:
            out.stylize(style, a, b)
        return out
