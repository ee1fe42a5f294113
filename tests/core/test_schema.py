"""The label schema: four defaults, extended or recoloured by ``labels.toml`` in the workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.core.model import ReviewerError
from reviewer.core.schema import SCHEMA_FILE, default_schema, load_schema

DEFAULTS = [("drug", "1"), ("event", "2"), ("test", "3"), ("diagnosis", "4")]


def write_schema(workspace: Path, content: str) -> Path:
    path = workspace / SCHEMA_FILE
    path.write_text(content, encoding="utf-8")
    return path


def test_schema_file_is_labels_toml() -> None:
    assert SCHEMA_FILE == "labels.toml"


def test_default_schema_has_four_labels_with_keys_1_to_4() -> None:
    schema = default_schema()
    assert [(label.name, label.key) for label in schema.labels] == DEFAULTS
    assert schema.names == ("drug", "event", "test", "diagnosis")


def test_default_labels_have_distinct_valid_colours_and_descriptions() -> None:
    labels = default_schema().labels
    colours = [label.color for label in labels]
    assert len(set(colours)) == 4
    for label in labels:
        assert label.color.startswith("#") and len(label.color) == 7
        int(label.color[1:], 16)  # hex digits
        assert label.description


def test_workspace_without_labels_toml_gets_the_defaults(tmp_path: Path) -> None:
    assert load_schema(tmp_path) == default_schema()


def test_missing_workspace_folder_gets_the_defaults(tmp_path: Path) -> None:
    assert load_schema(tmp_path / "not-made-yet") == default_schema()


def test_schema_lookup_helpers() -> None:
    schema = default_schema()
    assert "drug" in schema
    assert "dose" not in schema
    assert schema.get("event").key == "2"
    assert schema.get("dose") is None
    assert schema.resolve("DRUG") == "drug"
    assert schema.resolve("Diagnosis") == "diagnosis"
    assert schema.resolve("dose") is None


def test_labels_toml_adds_a_label(tmp_path: Path) -> None:
    write_schema(
        tmp_path,
        '[labels.dose]\nkey = "5"\ncolor = "#d08770"\n'
        'description = "Amount and frequency of a drug"\n',
    )
    schema = load_schema(tmp_path)
    assert [(label.name, label.key) for label in schema.labels] == [*DEFAULTS, ("dose", "5")]
    dose = schema.get("dose")
    assert dose.color == "#d08770"
    assert dose.description == "Amount and frequency of a drug"
    assert "dose" in schema


def test_labels_toml_adds_several_labels_in_file_order(tmp_path: Path) -> None:
    write_schema(
        tmp_path,
        '[labels.dose]\nkey = "5"\ncolor = "#d08770"\n\n'
        '[labels.route]\nkey = "6"\ncolor = "#a3be8c"\n',
    )
    schema = load_schema(tmp_path)
    assert schema.names == ("drug", "event", "test", "diagnosis", "dose", "route")
    assert schema.get("route").description == ""


def test_labels_toml_recolours_a_default_and_keeps_its_key(tmp_path: Path) -> None:
    write_schema(tmp_path, '[labels.drug]\ncolor = "#ffffff"\n')
    schema = load_schema(tmp_path)
    drug = schema.get("drug")
    assert drug.color == "#ffffff"
    assert drug.key == "1"
    assert drug.description == default_schema().get("drug").description
    # Still four labels, in the same order: a default is overridden, not added again.
    assert [(label.name, label.key) for label in schema.labels] == DEFAULTS


def test_labels_toml_can_move_a_default_to_a_free_key(tmp_path: Path) -> None:
    write_schema(tmp_path, '[labels.test]\nkey = "t"\n')
    assert load_schema(tmp_path).get("test").key == "t"


def test_empty_labels_toml_gives_the_defaults(tmp_path: Path) -> None:
    write_schema(tmp_path, "")
    assert load_schema(tmp_path) == default_schema()


# --- errors: each a ReviewerError naming the file ---------------------------------------------


@pytest.mark.parametrize(
    ("content", "words"),
    [
        pytest.param(
            '[labels.dose]\nkey = "1"\ncolor = "#d08770"\n',
            ["'drug'", "'dose'", "'1'"],
            id="duplicate-key-with-default",
        ),
        pytest.param(
            '[labels.dose]\nkey = "5"\ncolor = "#d08770"\n'
            '[labels.route]\nkey = "5"\ncolor = "#a3be8c"\n',
            ["'dose'", "'route'", "'5'"],
            id="duplicate-key-between-new-labels",
        ),
        pytest.param(
            '[labels.dose]\nkey = "5"\ncolor = "red"\n', ["dose", "colour"], id="bad-colour"
        ),
        pytest.param(
            '[labels.dose]\nkey = "5"\ncolor = "#12345"\n', ["dose", "colour"], id="short-colour"
        ),
        pytest.param('[labels.drug]\ncolor = "#gggggg"\n', ["drug", "colour"], id="non-hex-colour"),
        pytest.param('[labels.Dose]\nkey = "5"\ncolor = "#d08770"\n', ["'Dose'"], id="upper-case"),
        pytest.param(
            '[labels."1dose"]\nkey = "5"\ncolor = "#d08770"\n', ["'1dose'"], id="starts-with-digit"
        ),
        pytest.param(
            '[labels."dose route"]\nkey = "5"\ncolor = "#d08770"\n',
            ["'dose route'"],
            id="space-in-name",
        ),
        pytest.param("[labels.dose\nkey = 5\n", ["TOML"], id="invalid-toml"),
        pytest.param('labels = "dose"\n', ["[labels]"], id="labels-not-a-table"),
        pytest.param('[labels]\ndose = "5"\n', ["dose", "table"], id="label-not-a-table"),
        pytest.param(
            '[labels.dose]\nkey = "5"\ncolor = "#d08770"\ncolour = "#d08770"\n',
            ["dose", "colour"],
            id="unknown-field",
        ),
        pytest.param(
            '[labels.dose]\nkey = "55"\ncolor = "#d08770"\n', ["dose", "key"], id="long-key"
        ),
        pytest.param(
            '[labels.dose]\nkey = " "\ncolor = "#d08770"\n', ["dose", "key"], id="space-key"
        ),
        pytest.param('[labels.dose]\nkey = 5\ncolor = "#d08770"\n', ["dose", "key"], id="int-key"),
        pytest.param('[labels.dose]\ncolor = "#d08770"\n', ["dose", "key"], id="new-label-no-key"),
        pytest.param('[labels.dose]\nkey = "5"\n', ["dose", "colour"], id="new-label-no-colour"),
    ],
)
def test_bad_labels_toml_is_an_error_naming_the_file(
    tmp_path: Path, content: str, words: list[str]
) -> None:
    path = write_schema(tmp_path, content)
    with pytest.raises(ReviewerError) as info:
        load_schema(tmp_path)
    message = str(info.value)
    assert message.startswith(str(path))
    for word in words:
        assert word in message
    assert "\n" not in message.strip()  # one line for the CLI


def test_labels_toml_that_is_not_utf8_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / SCHEMA_FILE
    path.write_bytes(b'[labels.dose]\nkey = "5"\ncolor = "#d08770"\ndescription = "caf\xe9"\n')
    with pytest.raises(ReviewerError) as info:
        load_schema(tmp_path)
    assert str(path) in str(info.value)
