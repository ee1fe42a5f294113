"""Words and sentences of a report's text: word spans, motions, snapping and hint labels."""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from reviewer.core.words import EDGE_PUNCTUATION, HINT_KEYS, Words, hint_labels


def words_of(text: str) -> list[str]:
    return [text[s:e] for s, e in Words(text).spans]


def span_of(text: str, word: str, nth: int = 0) -> tuple[int, int]:
    """The ``nth`` occurrence of ``word`` in ``text`` as ``(start, end)``."""
    start = -1
    for _ in range(nth + 1):
        start = text.index(word, start + 1)
    return start, start + len(word)


# --- spans ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Treated with dupilumab.", ["Treated", "with", "dupilumab"]),
        ("antinuclear antibodies (ANA) were", ["antinuclear", "antibodies", "ANA", "were"]),
        ("positive, negative; unclear:", ["positive", "negative", "unclear"]),
        (
            "\"quoted\" and 'single' and [bracketed]",
            ["quoted", "and", "single", "and", "bracketed"],
        ),
        ("“curly” «guillemets» …ellipsis…", ["curly", "guillemets", "ellipsis"]),
        ("Really?! Yes!!", ["Really", "Yes"]),
        ("((nested))", ["nested"]),
    ],
)
def test_edge_punctuation_is_dropped(text: str, expected: list[str]) -> None:
    assert words_of(text) == expected


@pytest.mark.parametrize(
    "token",
    ["anti-dsDNA", "1:80", "mg/kg", "50%", "27-year-old", "37.5°C", "+++", "#3", "IL-4Rα", "1.5"],
)
def test_inner_punctuation_is_kept(token: str) -> None:
    text = f"A {token} here."
    assert words_of(text) == ["A", token, "here"]
    assert Words(text).spans[1] == (2, 2 + len(token))


def test_clinical_sentence_is_split_into_whole_tokens() -> None:
    text = "A 27-year-old woman (ANA 1:80, anti-dsDNA negative) got 2 mg/kg; 50% improved."
    assert words_of(text) == [
        "A",
        "27-year-old",
        "woman",
        "ANA",
        "1:80",
        "anti-dsDNA",
        "negative",
        "got",
        "2",
        "mg/kg",
        "50%",
        "improved",
    ]


@pytest.mark.parametrize("text", ["--", "(", "...", " -- ( ) ... — ", "", "   \n\t ", "“”"])
def test_punctuation_only_runs_are_no_word(text: str) -> None:
    assert Words(text).spans == []


def test_punctuation_only_run_between_words_is_skipped() -> None:
    text = "fever -- rash ( ) cough"
    assert words_of(text) == ["fever", "rash", "cough"]
    assert Words(text).spans == [(0, 5), (9, 13), (18, 23)]


def test_non_ascii_offsets_are_code_points() -> None:
    text = "Dose 5 µg ≥ 2 café 😀 x."
    words = Words(text)
    assert words_of(text) == ["Dose", "5", "µg", "≥", "2", "café", "😀", "x"]
    # The emoji is one code point (two in UTF-16, four in UTF-8): the word after it starts
    # two code points later, not three or five.
    assert words.spans[6] == (19, 20)
    assert words.spans[7] == (21, 22)
    assert words.spans[2] == (7, 9)
    assert words.spans[5] == (14, 18)


def test_decomposed_accent_stays_in_its_word() -> None:
    text = "cafe\u0301 (re\u0301sume\u0301)"
    assert words_of(text) == ["cafe\u0301", "re\u0301sume\u0301"]
    assert Words(text).spans == [(0, 5), (7, 15)]


def test_non_breaking_and_other_unicode_spaces_separate_words() -> None:
    text = "5\u00a0mg\u2003daily\u3000x"
    assert words_of(text) == ["5", "mg", "daily", "x"]


def test_starts_and_ends_follow_spans() -> None:
    words = Words("one (two) three.")
    assert words.starts == [0, 5, 10]
    assert words.ends == [3, 8, 15]


# --- word_at and words_in ---------------------------------------------------------------------


def test_word_at() -> None:
    text = "Treated with dupilumab. (ANA) up"
    words = Words(text)
    dupilumab = span_of(text, "dupilumab")
    assert words.word_at(dupilumab[0]) == dupilumab
    assert words.word_at(dupilumab[0] + 3) == dupilumab
    assert words.word_at(dupilumab[1] - 1) == dupilumab  # its last character
    assert words.word_at(dupilumab[1]) is None  # the full stop after it
    assert words.word_at(span_of(text, "Treated")[1]) is None  # the space after "Treated"
    assert words.word_at(text.index("(")) is None
    assert words.word_at(text.index(")")) is None
    assert words.word_at(text.index("A")) == span_of(text, "ANA")
    assert words.word_at(len(text) - 1) == (len(text) - 2, len(text))  # "up"
    assert words.word_at(len(text)) is None
    assert words.word_at(-1) is None


def test_word_at_on_empty_text() -> None:
    assert Words("").word_at(0) is None


def test_words_in() -> None:
    text = "alpha beta gamma"
    words = Words(text)
    assert words.words_in(0, len(text)) == [(0, 5), (6, 10), (11, 16)]
    assert words.words_in(3, 8) == [(0, 5), (6, 10)]
    assert words.words_in(5, 6) == []  # only the space
    assert words.words_in(4, 5) == [(0, 5)]  # the last letter of "alpha"
    assert words.words_in(10, 11) == []


# --- motions ----------------------------------------------------------------------------------

MOTION_TEXT = "alpha beta, gamma (delta) epsilon."
#              0     6     12    19     26


def test_next_start() -> None:
    words = Words(MOTION_TEXT)
    assert words.starts == [0, 6, 12, 19, 26]
    assert words.next_start(0) == 6
    assert words.next_start(2) == 6
    assert words.next_start(5) == 6
    assert words.next_start(6) == 12
    assert words.next_start(0, 3) == 19
    assert words.next_start(0, 99) == 26  # past the last word: stops at the last
    assert words.next_start(26) == 26  # on the last word: stays put
    assert words.next_start(30) == 30
    assert words.next_start(len(MOTION_TEXT)) == len(MOTION_TEXT)


def test_previous_start() -> None:
    words = Words(MOTION_TEXT)
    assert words.previous_start(len(MOTION_TEXT)) == 26
    assert words.previous_start(26) == 19
    assert words.previous_start(28) == 26  # inside a word: its own start
    assert words.previous_start(18) == 12  # on "(": the start of "gamma"
    assert words.previous_start(26, 3) == 6
    assert words.previous_start(26, 99) == 0  # past the first word: stops at the first
    assert words.previous_start(0) == 0  # at the start of the text: stays put


def test_next_end() -> None:
    words = Words(MOTION_TEXT)
    assert words.ends == [5, 10, 17, 24, 33]
    assert words.next_end(0) == 5  # inside a word: its own end
    assert words.next_end(4) == 5  # on its last character
    assert words.next_end(5) == 10  # at its end: the next word's end
    assert words.next_end(0, 3) == 17
    assert words.next_end(0, 99) == 33
    assert words.next_end(33) == 33  # after the last word: stays put
    assert words.next_end(len(MOTION_TEXT)) == len(MOTION_TEXT)


def test_previous_end() -> None:
    words = Words(MOTION_TEXT)
    assert words.previous_end(len(MOTION_TEXT)) == 33
    assert words.previous_end(33) == 24
    assert words.previous_end(28) == 24
    assert words.previous_end(33, 3) == 10
    assert words.previous_end(33, 99) == 5
    assert words.previous_end(5) == 5  # at the first word's end: nothing ends before it
    assert words.previous_end(0) == 0


def test_motions_on_text_without_words_stay_put() -> None:
    for text in ["", "   ", "-- ( ) --"]:
        words = Words(text)
        for offset in range(len(text) + 1):
            assert words.next_start(offset) == offset
            assert words.previous_start(offset) == offset
            assert words.next_end(offset) == offset
            assert words.previous_end(offset) == offset


SENTENCES = "First one. Second one? Third! Fourth (no end"
#            0          11          23     30


def test_next_sentence() -> None:
    words = Words(SENTENCES)
    assert words.sentence_starts == [0, 11, 23, 30]
    assert words.next_sentence(0) == 11
    assert words.next_sentence(5) == 11
    assert words.next_sentence(11) == 23
    assert words.next_sentence(0, 3) == 30
    assert words.next_sentence(0, 99) == 30
    assert words.next_sentence(30) == 30  # in the last sentence: stays put
    assert words.next_sentence(len(SENTENCES)) == len(SENTENCES)


def test_previous_sentence() -> None:
    words = Words(SENTENCES)
    assert words.previous_sentence(30) == 23
    assert words.previous_sentence(35) == 30  # inside a sentence: its own start
    assert words.previous_sentence(len(SENTENCES), 3) == 11
    assert words.previous_sentence(len(SENTENCES), 99) == 0
    assert words.previous_sentence(0) == 0  # at the start of the text: stays put
    assert words.previous_sentence(11) == 0


# --- sentence_starts ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "first_words"),
    [
        ("Fever. Rash. Cough.", ["Fever", "Rash", "Cough"]),
        ("Why? Because! Then.", ["Why", "Because", "Then"]),
        ('He said "stop." Then left.', ["He", "Then"]),
        ("It rose (to 40.) Then fell.", ["It", "Then"]),
        ("Seen [twice.] Later.", ["Seen", "Later"]),
        ("She said ‘no.’ After.", ["She", "After"]),
        ("Heading\n\nBody text here", ["Heading", "Body"]),
        ("Heading\n   \n  Body text", ["Heading", "Body"]),
        ("Ends.\n\nNext para.", ["Ends", "Next"]),
        ("Line one\nline two", ["Line"]),  # a single newline is no break
        ("Dose 1.5 mg. Then 2.5 mg.", ["Dose", "Then"]),  # a decimal point is no end
        ("Done.\tNext", ["Done", "Next"]),
    ],
)
def test_sentence_starts(text: str, first_words: list[str]) -> None:
    starts = Words(text).sentence_starts
    assert len(starts) == len(first_words)
    for start, word in zip(starts, first_words, strict=True):
        assert text.startswith(word, start)


def test_text_starting_with_spaces_starts_at_first_non_space() -> None:
    assert Words("   Hello there. World").sentence_starts == [3, 16]
    assert Words("\n\nHello").sentence_starts == [2]


def test_sentence_end_at_end_of_text_starts_nothing() -> None:
    assert Words("One. Two.").sentence_starts == [0, 5]
    assert Words("One. Two.  \n\n").sentence_starts == [0, 5]


def test_sentence_starts_of_blank_text() -> None:
    assert Words("").sentence_starts == []
    assert Words(" \n\n ").sentence_starts == []


# --- snap ---------------------------------------------------------------------------------------

SNAP_TEXT = "Treated with dupilumab (300 mg/kg), then stopped."


def test_snap_widens_partial_selection_to_whole_words() -> None:
    words = Words(SNAP_TEXT)
    dupi = span_of(SNAP_TEXT, "dupilumab")
    assert words.snap(dupi[0] + 2, dupi[0] + 5) == dupi
    # from the middle of "with" to the middle of "dupilumab"
    assert words.snap(SNAP_TEXT.index("ith"), dupi[0] + 3) == (SNAP_TEXT.index("with"), dupi[1])


def test_snap_drops_surrounding_space_and_punctuation() -> None:
    words = Words(SNAP_TEXT)
    # " (300 mg/kg), " selected: the parenthesis, comma and spaces go
    start = SNAP_TEXT.index(" (300")
    end = SNAP_TEXT.index("then")
    assert words.snap(start, end) == (SNAP_TEXT.index("300"), span_of(SNAP_TEXT, "mg/kg")[1])
    # "stopped." with its full stop and the space before it
    stopped = span_of(SNAP_TEXT, "stopped")
    assert words.snap(stopped[0] - 1, len(SNAP_TEXT)) == stopped


def test_snap_accepts_reversed_selection() -> None:
    words = Words(SNAP_TEXT)
    dupi = span_of(SNAP_TEXT, "dupilumab")
    assert words.snap(dupi[0] + 5, dupi[0] + 2) == dupi
    assert words.snap(len(SNAP_TEXT), 0) == words.snap(0, len(SNAP_TEXT))
    assert words.snap(len(SNAP_TEXT), 0) == (0, len(SNAP_TEXT) - 1)


def test_snap_of_empty_selection() -> None:
    words = Words(SNAP_TEXT)
    dupi = span_of(SNAP_TEXT, "dupilumab")
    assert words.snap(dupi[0] + 4, dupi[0] + 4) == dupi
    assert words.snap(dupi[0], dupi[0]) == dupi
    assert words.snap(dupi[1], dupi[1]) is None  # the space after it
    assert words.snap(SNAP_TEXT.index("("), SNAP_TEXT.index("(")) is None


def test_snap_touching_no_word_is_none() -> None:
    words = Words(SNAP_TEXT)
    paren = SNAP_TEXT.index("(")
    assert words.snap(paren - 1, paren + 1) is None  # " ("
    comma = SNAP_TEXT.index(",")
    assert words.snap(comma - 1, comma + 2) is None  # "), "
    assert Words("  --  ").snap(0, 6) is None
    assert Words("").snap(0, 0) is None


# --- strip --------------------------------------------------------------------------------------


def test_strip_removes_only_edge_whitespace() -> None:
    text = "  (ANA) \n positive.  "
    words = Words(text)
    assert words.strip(0, len(text)) == (2, text.index(".") + 1)
    assert text[2 : text.index(".") + 1] == "(ANA) \n positive."
    # character precision: a partial word stays partial, punctuation stays
    assert words.strip(3, 5) == (3, 5)
    assert words.strip(1, 4) == (2, 4)


def test_strip_accepts_reversed_selection() -> None:
    text = "  word  "
    assert Words(text).strip(len(text), 0) == (2, 6)


def test_strip_of_whitespace_only_is_none() -> None:
    text = "a \n\t\u00a0 b"
    words = Words(text)
    assert words.strip(1, len(text) - 1) is None
    assert words.strip(3, 3) is None
    assert words.strip(0, 0) is None


# --- move_edge ----------------------------------------------------------------------------------

EDGE_TEXT = "alpha beta, gamma delta"
# spans: (0, 5) (6, 10) (12, 17) (18, 23)


def test_move_edge_grows_and_shrinks_the_start() -> None:
    words = Words(EDGE_TEXT)
    assert words.move_edge(12, 17, "start", grow=True) == (6, 17)
    assert words.move_edge(6, 17, "start", grow=True) == (0, 17)
    assert words.move_edge(0, 17, "start", grow=False) == (6, 17)
    assert words.move_edge(6, 17, "start", grow=False) == (12, 17)


def test_move_edge_grows_and_shrinks_the_end() -> None:
    words = Words(EDGE_TEXT)
    assert words.move_edge(6, 10, "end", grow=True) == (6, 17)
    assert words.move_edge(6, 17, "end", grow=True) == (6, 23)
    assert words.move_edge(0, 23, "end", grow=False) == (0, 17)
    assert words.move_edge(0, 17, "end", grow=False) == (0, 10)


def test_move_edge_from_partial_selection_goes_to_word_edges() -> None:
    words = Words(EDGE_TEXT)
    assert words.move_edge(8, 15, "start", grow=True) == (6, 15)  # "ta, ga" -> "beta, ga"
    assert words.move_edge(8, 15, "end", grow=True) == (8, 17)
    assert words.move_edge(2, 15, "start", grow=False) == (6, 15)
    assert words.move_edge(2, 15, "end", grow=False) == (2, 10)


def test_move_edge_impossible_moves_are_none() -> None:
    words = Words(EDGE_TEXT)
    assert words.move_edge(0, 5, "start", grow=True) is None  # no word before "alpha"
    assert words.move_edge(18, 23, "end", grow=True) is None  # no word after "delta"
    assert words.move_edge(6, 10, "start", grow=False) is None  # "beta" would vanish
    assert words.move_edge(6, 10, "end", grow=False) is None
    assert words.move_edge(0, 23, "start", grow=True) is None
    assert words.move_edge(0, 23, "end", grow=True) is None
    assert Words("--").move_edge(0, 2, "start", grow=True) is None
    # a selection ending where a word starts, or starting where one ends, would become empty
    assert words.move_edge(0, 6, "start", grow=False) is None
    assert words.move_edge(5, 10, "end", grow=False) is None
    assert Words("--").move_edge(0, 2, "end", grow=True) is None


def test_move_edge_shrinking_to_one_word_and_no_further() -> None:
    words = Words(EDGE_TEXT)
    selection: tuple[int, int] | None = (0, 23)
    seen = []
    while selection is not None:
        seen.append(selection)
        selection = words.move_edge(*selection, "start", grow=False)
    assert seen == [(0, 23), (6, 23), (12, 23), (18, 23)]


# --- hint_labels --------------------------------------------------------------------------------


def no_prefixes(labels: list[str]) -> bool:
    return not any(a != b and b.startswith(a) for a in labels for b in labels)


@pytest.mark.parametrize("count", [0, 1, 5, 26])
def test_hint_labels_single_keys_while_they_suffice(count: int) -> None:
    labels = hint_labels(count)
    assert len(labels) == count
    assert all(len(label) == 1 for label in labels)
    assert len(set(labels)) == count
    assert set(labels) <= set(HINT_KEYS)


def test_hint_labels_start_on_the_home_row() -> None:
    assert hint_labels(4) == ["a", "s", "d", "f"]


@pytest.mark.parametrize("count", [27, 100, 675, 676])
def test_hint_labels_two_keys_beyond_26(count: int) -> None:
    labels = hint_labels(count)
    assert len(labels) == count
    assert all(len(label) == 2 for label in labels)
    assert len(set(labels)) == count
    assert all(set(label) <= set(HINT_KEYS) for label in labels)
    assert no_prefixes(labels)


def test_hint_labels_at_most_676() -> None:
    assert len(hint_labels(677)) == 676
    assert len(hint_labels(10_000)) == 676
    assert len(set(hint_labels(10_000))) == 676


def test_hint_labels_with_other_keys() -> None:
    assert hint_labels(2, "jk") == ["j", "k"]
    assert hint_labels(3, "jk") == ["jj", "jk", "kj"]
    assert len(hint_labels(100, "jk")) == 4


def test_hint_key_set_is_the_26_letters() -> None:
    assert sorted(HINT_KEYS) == list("abcdefghijklmnopqrstuvwxyz")


@given(st.integers(min_value=0, max_value=700))
def test_hint_labels_unique_and_prefix_free(count: int) -> None:
    labels = hint_labels(count)
    assert len(labels) == min(count, 676)
    assert len(set(labels)) == len(labels)
    assert len({len(label) for label in labels}) <= 1  # one length per call: no prefixes


# --- properties -----------------------------------------------------------------------------------

INTERESTING = (
    " \t\n\r\u00a0\u2003\u3000"  # white space
    + "".join(sorted(EDGE_PUNCTUATION))
    + "%°µ+#=≥é😀\u0301"
    + "abcXYZ019"
)
texts = st.one_of(
    st.text(alphabet=st.sampled_from(INTERESTING), max_size=60),
    st.text(max_size=60),
    st.text(alphabet=st.one_of(st.sampled_from(INTERESTING), st.characters()), max_size=60),
)


@given(texts)
@example("")
@example("(ANA) dupilumab. 50% -- ( )")
@example("“”«»…·–—")
@settings(max_examples=300)
def test_spans_are_well_formed(text: str) -> None:
    spans = Words(text).spans
    for start, end in spans:
        assert 0 <= start < end <= len(text)
        word = text[start:end]
        assert not any(c.isspace() for c in word)
        minus = word[0] == "-" and word[1:2].isdigit()  # "-1.2" keeps its sign
        assert word[0] not in EDGE_PUNCTUATION or minus
        assert word[-1] not in EDGE_PUNCTUATION
        # a word is the trimmed middle of a white-space-delimited run
        assert start == 0 or text[start - 1].isspace() or text[start - 1] in EDGE_PUNCTUATION
        assert end == len(text) or text[end].isspace() or text[end] in EDGE_PUNCTUATION
    for (_, end), (start, _) in zip(spans, spans[1:], strict=False):
        assert end < start  # sorted, and apart: at least a space between two words
    # every character that is neither space nor edge punctuation is in some word
    covered = {i for s, e in spans for i in range(s, e)}
    for i, c in enumerate(text):
        if not c.isspace() and c not in EDGE_PUNCTUATION:
            assert i in covered


@given(texts, st.data())
@settings(max_examples=300)
def test_snap_covers_every_touched_word(text: str, data: st.DataObject) -> None:
    words = Words(text)
    a = data.draw(st.integers(min_value=0, max_value=len(text)))
    b = data.draw(st.integers(min_value=0, max_value=len(text)))
    snapped = words.snap(a, b)
    assert snapped == words.snap(b, a)
    lo, hi = min(a, b), max(a, b)
    overlapping = [(s, e) for s, e in words.spans if s < hi and e > lo]
    if snapped is None:
        assert overlapping == []
        if lo == hi:
            assert words.word_at(lo) is None
        return
    start, end = snapped
    assert start in words.starts
    assert end in words.ends
    assert start < end
    if lo == hi:
        assert words.word_at(lo) == snapped
        assert start <= lo < end
    else:
        assert overlapping
        assert start == overlapping[0][0]
        assert end == overlapping[-1][1]
        for s, e in overlapping:
            assert start <= s and e <= end


@given(texts, st.data())
@settings(max_examples=300)
def test_word_motions_move_or_stay_put_only_at_the_ends(text: str, data: st.DataObject) -> None:
    words = Words(text)
    offset = data.draw(st.integers(min_value=0, max_value=len(text)))
    count = data.draw(st.integers(min_value=1, max_value=5))
    starts, ends = words.starts, words.ends

    nxt = words.next_start(offset, count)
    if any(s > offset for s in starts):
        assert nxt > offset and nxt in starts
        assert nxt == [s for s in starts if s > offset][:count][-1]
    else:
        assert nxt == offset

    prev = words.previous_start(offset, count)
    if any(s < offset for s in starts):
        assert prev < offset and prev in starts
        assert prev == [s for s in starts if s < offset][-count:][0]
    else:
        assert prev == offset

    nxt_end = words.next_end(offset, count)
    if any(e > offset for e in ends):
        assert nxt_end > offset and nxt_end in ends
    else:
        assert nxt_end == offset

    prev_end = words.previous_end(offset, count)
    if any(e < offset for e in ends):
        assert prev_end < offset and prev_end in ends
    else:
        assert prev_end == offset


@given(texts)
@settings(max_examples=300)
def test_sentence_starts_are_sorted_non_space_positions(text: str) -> None:
    starts = Words(text).sentence_starts
    assert starts == sorted(set(starts))
    for s in starts:
        assert 0 <= s < len(text)
        assert not text[s].isspace()
    if text.strip():
        assert starts[0] == len(text) - len(text.lstrip())
    else:
        assert starts == []


@given(texts, st.data())
@settings(max_examples=200)
def test_strip_never_leaves_edge_whitespace(text: str, data: st.DataObject) -> None:
    a = data.draw(st.integers(min_value=0, max_value=len(text)))
    b = data.draw(st.integers(min_value=0, max_value=len(text)))
    lo, hi = min(a, b), max(a, b)
    stripped = Words(text).strip(a, b)
    if stripped is None:
        assert text[lo:hi].strip() == ""
    else:
        start, end = stripped
        assert lo <= start < end <= hi
        assert text[start:end] == text[lo:hi].strip()


def test_a_minus_sign_stays_with_its_number() -> None:
    w = Words("SD -1.2 and -- dash -word")
    assert [w.text[a:b] for a, b in w.spans] == ["SD", "-1.2", "and", "dash", "word"]
