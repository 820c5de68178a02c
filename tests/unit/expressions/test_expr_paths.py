"""Attribute paths: `attr(...)`, `parse_path`, and how a path prints."""

import pytest

from dynamorm_async import DynamORMError, Path, ValidationError, attr
from dynamorm_async.expressions import Compare, parse_path


@pytest.mark.parametrize(
    ("text", "elements"),
    [
        ("a", ("a",)),
        ("price", ("price",)),
        ("a.b", ("a", "b")),
        ("a.b[2].c", ("a", "b", 2, "c")),
        ("tags[0]", ("tags", 0)),
        ("m[0][1]", ("m", 0, 1)),
        ("grid[10][20].x", ("grid", 10, 20, "x")),
        ("a b", ("a b",)),  # DynamoDB names may hold spaces; placeholders make that safe
        ("a-b.c_d", ("a-b", "c_d")),
        ("ünï.cödé", ("ünï", "cödé")),
    ],
)
def test_parse_path_splits_names_and_indexes(text, elements):
    assert parse_path(text) == elements
    assert attr(text).elements == elements


@pytest.mark.parametrize(
    "text",
    ["", ".", ".a", "a.", "a..b", "[0]", "[0].a", "a[", "a]", "a[x]", "a[-1]", "a[]", "a[1"],
)
def test_parse_path_rejects_malformed_text(text):
    with pytest.raises(ValidationError, match="invalid attribute path"):
        parse_path(text)


@pytest.mark.parametrize("text", ["a[0]b", "a.[0]", "a[0]b.c"])
def test_parse_path_rejects_missing_or_misplaced_dots(text):
    # In a DynamoDB document path a name after an index needs a dot ("a[0].b"), and an
    # index follows its name directly ("a[0]"); anything else is a typo, not a path.
    with pytest.raises(ValidationError, match="invalid attribute path"):
        parse_path(text)


def test_attr_joins_parts_of_text_and_indexes():
    assert attr("a", "b", 2).elements == ("a", "b", 2)
    assert attr("a.b", 2, "c").elements == ("a", "b", 2, "c")
    assert attr("a", "b.c[1]", 0).elements == ("a", "b", "c", 1, 0)


def test_attr_needs_at_least_one_part():
    with pytest.raises(ValidationError, match="at least one path element"):
        attr()


def test_attr_must_start_with_a_name():
    with pytest.raises(ValidationError, match="must start with a name"):
        attr(0)
    with pytest.raises(ValidationError, match="must start with a name"):
        attr("[1]")


@pytest.mark.parametrize("part", [True, False, 1.5, None, b"a", ("a",)])
def test_attr_rejects_parts_that_are_not_names_or_indexes(part):
    with pytest.raises(ValidationError, match="names or list indexes"):
        attr("a", part)


def test_attr_rejects_a_negative_list_index():
    # "a[-1]" is refused as text; the same index given as an int must be refused too,
    # or attr("a", -1) compiles to the invalid document path "#n0[-1]".
    with pytest.raises(ValidationError):
        attr("a", -1)


def test_path_str_and_repr():
    assert str(attr("a.b[2].c")) == "a.b[2].c"
    assert str(attr("tags", 0)) == "tags[0]"
    assert str(attr("m", 0, 1)) == "m[0][1]"
    assert repr(attr("a", "b", 0)) == "attr('a.b[0]')"


def test_path_hash_follows_elements():
    assert hash(attr("a.b[1]")) == hash(attr("a", "b", 1))
    assert isinstance(attr("a"), Path)


@pytest.mark.parametrize(
    ("build", "op"),
    [
        (lambda p: p == 1, "="),
        (lambda p: p != 1, "<>"),
        (lambda p: p < 1, "<"),
        (lambda p: p <= 1, "<="),
        (lambda p: p > 1, ">"),
        (lambda p: p >= 1, ">="),
    ],
)
def test_comparisons_build_compare_conditions(build, op):
    condition = build(attr("price"))
    assert isinstance(condition, Compare)
    assert condition.op == op
    assert condition.value == 1
    assert condition.path.elements == ("price",)


def test_reflected_comparisons_keep_the_path_on_the_left():
    # 3 < attr("x") is evaluated as attr("x") > 3.
    condition = 3 < attr("x")  # noqa: SIM300 - the reflected form is the test
    assert isinstance(condition, Compare)
    assert (condition.op, condition.value) == (">", 3)
    condition = "v" == attr("x")  # noqa: SIM300
    assert isinstance(condition, Compare)
    assert (condition.op, condition.value) == ("=", "v")


def test_validation_errors_are_value_errors_in_the_tree():
    with pytest.raises(ValueError) as info:
        parse_path("a..b")
    assert isinstance(info.value, DynamORMError)
