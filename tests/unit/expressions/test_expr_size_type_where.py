"""size(), attribute_type() and the string form where(path, op, *values)."""

import datetime as dt
from typing import Any

import attrs
import pytest

from dynamorm_async import ConversionError, Mapper, ValidationError, attr
from dynamorm_async.expressions import (
    ATTRIBUTE_TYPES,
    AttributeType,
    Between,
    Compare,
    Exists,
    Function,
    In,
    Params,
    Size,
    cache_info,
    size,
    where,
)


@attrs.define
class Address:
    city: str
    zip: str = ""


@attrs.define
class Shelf:
    id: str
    name: str = ""
    price: int = 0
    tags: frozenset[str] = frozenset()
    history: list[str] = attrs.field(factory=list)
    address: Address | None = None
    stock: dict[str, int] = attrs.field(factory=dict)
    created: dt.datetime | None = None


SHELVES = Mapper(
    Shelf,
    table="shelves",
    partition_key="id",
    field_names={"name": "title", "price": "pr"},
)


class EchoResolver:
    """The smallest Resolver: names are stored as given, values by their Python type."""

    def resolve_path(self, elements):
        return elements, Any

    def encode_value(self, value, tp):
        if isinstance(value, bool):
            return {"BOOL": value}
        if isinstance(value, int):
            return {"N": str(value)}
        if isinstance(value, frozenset):
            return {"SS": sorted(value)} if value else None
        return {"S": str(value)}

    def omits_none(self, elements):
        return True


def emit_(condition, resolver):
    params = Params()
    text = condition.emit(resolver, params)
    return text, params.names, params.values


def compile_(condition, resolver=None):
    """Compile through the cache, checking it matches an uncached compile exactly."""
    resolver = EchoResolver() if resolver is None else resolver
    params = Params()
    text = condition.compile(resolver, params)
    out = (text, params.names, params.values)
    reference = emit_(condition, resolver)
    assert out == reference
    assert list(out[1].items()) == list(reference[1].items())
    assert list(out[2].items()) == list(reference[2].items())
    return out


def N(n):
    return {"N": str(n)}


def S(s):
    return {"S": s}


# --- size() ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "op"),
    [
        (size("tags") == 2, "="),
        (size("tags") != 2, "<>"),
        (size("tags") < 2, "<"),
        (size("tags") <= 2, "<="),
        (size("tags") > 2, ">"),
        (size("tags") >= 2, ">="),
    ],
)
def test_size_comparisons_compile_with_a_number(condition, op):
    assert isinstance(condition, Compare)
    assert isinstance(condition.path, Size)
    assert compile_(condition) == (f"size(#n0) {op} :v0", {"#n0": "tags"}, {":v0": N(2)})


def test_size_spellings_are_equivalent():
    expected = ("size(#n0) > :v0", {"#n0": "tags"}, {":v0": N(3)})
    assert compile_(size("tags") > 3) == expected
    assert compile_(size(attr("tags")) > 3) == expected
    assert compile_(attr("tags").size() > 3) == expected


def test_size_of_nested_and_indexed_paths():
    assert compile_(size("address.city") >= 1) == (
        "size(#n0.#n1) >= :v0",
        {"#n0": "address", "#n1": "city"},
        {":v0": N(1)},
    )
    assert compile_(size(attr("history", 3)) < 10) == (
        "size(#n0[3]) < :v0",
        {"#n0": "history"},
        {":v0": N(10)},
    )


def test_size_between_and_in():
    condition = size("tags").between(1, 5)
    assert isinstance(condition, Between)
    assert compile_(condition) == (
        "size(#n0) BETWEEN :v0 AND :v1",
        {"#n0": "tags"},
        {":v0": N(1), ":v1": N(5)},
    )
    # Equal bounds share one placeholder.
    assert compile_(size("tags").between(4, 4)) == (
        "size(#n0) BETWEEN :v0 AND :v0",
        {"#n0": "tags"},
        {":v0": N(4)},
    )
    condition = size("tags").is_in([0, 2, 0])
    assert isinstance(condition, In)
    assert compile_(condition) == (
        "size(#n0) IN (:v0, :v1, :v0)",
        {"#n0": "tags"},
        {":v0": N(0), ":v1": N(2)},
    )


def test_size_in_with_more_than_100_values_is_an_or_of_ins():
    values = list(range(150))
    text, names, params_values = compile_(size("tags").is_in(values))
    first = ", ".join(f":v{i}" for i in range(100))
    second = ", ".join(f":v{i}" for i in range(100, 150))
    assert text == f"size(#n0) IN ({first}) OR size(#n0) IN ({second})"
    assert names == {"#n0": "tags"}
    assert params_values == {f":v{i}": N(i) for i in range(150)}
    # Inside an AND the OR is parenthesized.
    text = compile_((attr("a") == "x") & size("tags").is_in(values))[0]
    assert text.startswith("#n0 = :v0 AND (size(#n1) IN (:v1, :v2, ")
    assert text.endswith(")")


def test_size_compared_with_paths_and_sizes():
    assert compile_(size("name") > attr("price")) == (
        "size(#n0) > #n1",
        {"#n0": "name", "#n1": "price"},
        {},
    )
    assert compile_(attr("price") < size("name")) == (
        "#n0 < size(#n1)",
        {"#n0": "price", "#n1": "name"},
        {},
    )
    assert compile_(size("a") == size("b")) == (
        "size(#n0) = size(#n1)",
        {"#n0": "a", "#n1": "b"},
        {},
    )
    assert compile_(size("a").between(attr("lo"), size("b"))) == (
        "size(#n0) BETWEEN #n1 AND size(#n2)",
        {"#n0": "a", "#n1": "lo", "#n2": "b"},
        {},
    )


def test_size_in_combined_conditions():
    condition = (size("tags") > 0) & ~(size("name") == 0) | attr("name").exists()
    assert compile_(condition) == (
        "size(#n0) > :v0 AND NOT (size(#n1) = :v0) OR attribute_exists(#n1)",
        {"#n0": "tags", "#n1": "name"},
        {":v0": N(0)},
    )


def test_size_with_a_mapper_is_a_number_and_uses_stored_names():
    # name is a str field: the size is still compared as a number.
    assert compile_(size("name") > 3, SHELVES) == (
        "size(#n0) > :v0",
        {"#n0": "title"},
        {":v0": N(3)},
    )
    assert compile_(size("tags").between(1, 2), SHELVES) == (
        "size(#n0) BETWEEN :v0 AND :v1",
        {"#n0": "tags"},
        {":v0": N(1), ":v1": N(2)},
    )
    assert compile_(size("history").is_in([1, 2]), SHELVES) == (
        "size(#n0) IN (:v0, :v1)",
        {"#n0": "history"},
        {":v0": N(1), ":v1": N(2)},
    )
    assert compile_(size("address.city") == 5, SHELVES) == (
        "size(#n0.#n1) = :v0",
        {"#n0": "address", "#n1": "city"},
        {":v0": N(5)},
    )
    assert compile_(size("stock") <= attr("price"), SHELVES) == (
        "size(#n0) <= #n1",
        {"#n0": "stock", "#n1": "pr"},
        {},
    )


def test_size_with_a_mapper_refuses_a_non_number():
    with pytest.raises(ConversionError):
        compile_(size("name") == "abc", SHELVES)


@pytest.mark.parametrize(
    "condition",
    [size("tags") == None, size("tags") != None, size("tags") < None, size("tags") >= None],  # noqa: E711
    ids=["eq", "ne", "lt", "ge"],
)
def test_size_compared_with_none_is_refused(condition):
    with pytest.raises(ValidationError, match="only == and != compare with None"):
        condition.compile(EchoResolver(), Params())
    with pytest.raises(ValidationError, match="only == and != compare with None"):
        condition.emit(EchoResolver(), Params())


def test_size_between_none_is_refused():
    with pytest.raises(ValidationError, match="needs two values"):
        size("tags").between(None, 3).compile(EchoResolver(), Params())


@pytest.mark.parametrize("bad", [5, None, "", "a..b", "[0]", "a[-1]", ("tags",)])
def test_size_of_a_bad_path_is_refused(bad):
    with pytest.raises(ValidationError):
        size(bad)


def test_size_repr_and_str():
    assert repr(size("tags")) == "size('tags')"
    assert str(size(attr("history", 0, "city"))) == "history[0].city"
    assert repr(size("tags") > 2) == "Compare(path=size('tags'), op='>', value=2)"
    assert size("a.b").elements == ("a", "b")


def test_size_operands_must_be_parenthesized_before_combining():
    with pytest.raises(TypeError, match="parentheses"):
        size("a") & (attr("b") == 1)


def test_size_is_not_a_path_for_path_only_tests():
    # exists / begins_with / contains / attribute_type take a path, not size(path).
    for method in ("exists", "not_exists", "begins_with", "contains", "attribute_type"):
        assert not hasattr(size("a"), method)


# --- attribute_type() ---------------------------------------------------------------------


@pytest.mark.parametrize("code", ATTRIBUTE_TYPES)
def test_attribute_type_codes(code):
    condition = attr("x").attribute_type(code)
    assert isinstance(condition, AttributeType)
    assert compile_(condition) == ("attribute_type(#n0, :v0)", {"#n0": "x"}, {":v0": S(code)})


def test_attribute_types_are_the_dynamodb_codes():
    assert set(ATTRIBUTE_TYPES) == {"S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"}


def test_attribute_type_with_a_mapper_uses_the_stored_name():
    assert compile_(attr("name").attribute_type("S"), SHELVES) == (
        "attribute_type(#n0, :v0)",
        {"#n0": "title"},
        {":v0": S("S")},
    )
    # The code is a constant: it is not encoded as the field's type.
    assert compile_(attr("price").attribute_type("N"), SHELVES) == (
        "attribute_type(#n0, :v0)",
        {"#n0": "pr"},
        {":v0": S("N")},
    )
    assert compile_(attr("address.city").attribute_type("NULL"), SHELVES) == (
        "attribute_type(#n0.#n1, :v0)",
        {"#n0": "address", "#n1": "city"},
        {":v0": S("NULL")},
    )


@pytest.mark.parametrize("code", ["X", "s", "n", "string", "", " S", "S ", "bool", None, 1])
def test_attribute_type_refuses_unknown_codes(code):
    with pytest.raises(ValidationError, match="unknown attribute type"):
        attr("x").attribute_type(code)


def test_attribute_type_unknown_code_message_lists_codes():
    with pytest.raises(ValidationError) as caught:
        attr("x").attribute_type("STRING")
    for code in ATTRIBUTE_TYPES:
        assert code in str(caught.value)


def test_attribute_type_in_combinations():
    # A value compared before the type test: separate placeholders, allocated in order.
    assert compile_((attr("a") == 1) & attr("b").attribute_type("N")) == (
        "#n0 = :v0 AND attribute_type(#n1, :v1)",
        {"#n0": "a", "#n1": "b"},
        {":v0": N(1), ":v1": S("N")},
    )
    # The same code twice is one placeholder.
    assert compile_(attr("a").attribute_type("S") | attr("b").attribute_type("S")) == (
        "attribute_type(#n0, :v0) OR attribute_type(#n1, :v0)",
        {"#n0": "a", "#n1": "b"},
        {":v0": S("S")},
    )
    # A compared value equal to the code's AttributeValue shares its placeholder.
    assert compile_(attr("a").attribute_type("S") & (attr("b") == "S")) == (
        "attribute_type(#n0, :v0) AND #n1 = :v0",
        {"#n0": "a", "#n1": "b"},
        {":v0": S("S")},
    )
    assert compile_(~attr("a").attribute_type("NULL")) == (
        "NOT (attribute_type(#n0, :v0))",
        {"#n0": "a"},
        {":v0": S("NULL")},
    )


def test_attribute_type_repr():
    assert repr(attr("a").attribute_type("M")) == "AttributeType(path=attr('a'), type_code='M')"


# --- where(): the string form --------------------------------------------------------------


WHERE_PAIRS = [
    (("price", "=", 5), attr("price") == 5),
    (("price", "==", 5), attr("price") == 5),
    (("price", "!=", 5), attr("price") != 5),
    (("price", "<>", 5), attr("price") != 5),
    (("price", "<", 5), attr("price") < 5),
    (("price", "<=", 5), attr("price") <= 5),
    (("price", ">", 5), attr("price") > 5),
    (("price", ">=", 5), attr("price") >= 5),
    (("price", " >= ", 5), attr("price") >= 5),
    (("note", "=", None), attr("note") == None),  # noqa: E711
    (("note", "==", None), attr("note") == None),  # noqa: E711
    (("note", "!=", None), attr("note") != None),  # noqa: E711
    (("note", "<>", None), attr("note") != None),  # noqa: E711
    (("price", ">", attr("cost")), attr("price") > attr("cost")),
    (("price", "between", 1, 9), attr("price").between(1, 9)),
    (("price", "BETWEEN", (1, 9)), attr("price").between(1, 9)),
    (("price", "Between", [1, 9]), attr("price").between(1, 9)),
    (("price", "between", attr("lo"), attr("hi")), attr("price").between(attr("lo"), attr("hi"))),
    (("price", "in", [1, 2, 3]), attr("price").is_in([1, 2, 3])),
    (("price", "IN", (1, 2, 3)), attr("price").is_in([1, 2, 3])),
    (("price", "in", 1, 2, 3), attr("price").is_in([1, 2, 3])),
    (("price", "in", 7), attr("price").is_in([7])),
    (("price", "in", frozenset({4})), attr("price").is_in([4])),
    (("price", "in", range(120)), attr("price").is_in(range(120))),
    (("name", "in", "ab"), attr("name").is_in(["ab"])),
    (("name", "in", "ab", "cd"), attr("name").is_in(["ab", "cd"])),
    (("name", "begins_with", "ab"), attr("name").begins_with("ab")),
    (("name", "Begins_With", "ab"), attr("name").begins_with("ab")),
    (("tags", "contains", "x"), attr("tags").contains("x")),
    (("tags", "CONTAINS", "x"), attr("tags").contains("x")),
    (("name", "exists"), attr("name").exists()),
    (("name", "EXISTS"), attr("name").exists()),
    (("name", "not_exists"), attr("name").not_exists()),
    (("name", "Not_Exists"), attr("name").not_exists()),
    (("name", "attribute_type", "S"), attr("name").attribute_type("S")),
    (("name", "ATTRIBUTE_TYPE", "NULL"), attr("name").attribute_type("NULL")),
    (("address.city", "=", "Oslo"), attr("address", "city") == "Oslo"),
    ((attr("address.city"), "=", "Oslo"), attr("address", "city") == "Oslo"),
    (("history[2]", "begins_with", "x"), attr("history", 2).begins_with("x")),
]


@pytest.mark.parametrize(("args", "expected"), WHERE_PAIRS, ids=[repr(a) for a, _ in WHERE_PAIRS])
def test_where_matches_the_operator_form(args, expected):
    condition = where(*args)
    assert type(condition) is type(expected)
    assert repr(condition) == repr(expected)
    assert list(condition.paths()) == list(expected.paths())
    resolver = EchoResolver()
    assert compile_(expected, resolver) == compile_(condition, resolver)
    # Same structure: the second compile replays the first one's template.
    info = cache_info(resolver)
    assert (info.misses, info.hits) == (1, 1)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("price", "<", 20), attr("price") < 20),
        (("name", "between", "a", "m"), attr("name").between("a", "m")),
        (("price", "in", [1, 2]), attr("price").is_in([1, 2])),
        (("name", "begins_with", "ab"), attr("name").begins_with("ab")),
        (("tags", "contains", "x"), attr("tags").contains("x")),
        (
            ("created", ">", dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)),
            attr("created") > dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc),
        ),
        (("name", "not_exists"), attr("name").not_exists()),
        (("name", "attribute_type", "S"), attr("name").attribute_type("S")),
    ],
)
def test_where_matches_the_operator_form_with_a_mapper(args, expected):
    assert compile_(where(*args), SHELVES) == compile_(expected, SHELVES)


def test_where_examples_from_the_docstring():
    assert repr(where("price", "<", 20)) == "Compare(path=attr('price'), op='<', value=20)"
    assert repr(where("price", "between", 5, 10)) == "Between(path=attr('price'), low=5, high=10)"
    assert isinstance(where("a", "in", [1]), In)
    assert isinstance(where("a", "exists"), Exists)
    assert isinstance(where("a", "contains", 1), Function)


def test_where_compiles_exactly():
    resolver = EchoResolver()
    assert compile_(where("price", "between", (1, 9)), resolver) == (
        "#n0 BETWEEN :v0 AND :v1",
        {"#n0": "price"},
        {":v0": N(1), ":v1": N(9)},
    )
    assert compile_(where("note", "=", None), resolver) == (
        "attribute_not_exists(#n0) OR #n0 = :v0",
        {"#n0": "note"},
        {":v0": {"NULL": True}},
    )
    assert compile_(where("price", "in", 1, 2, 1), resolver) == (
        "#n0 IN (:v0, :v1, :v0)",
        {"#n0": "price"},
        {":v0": N(1), ":v1": N(2)},
    )


def test_where_refuses_an_unknown_operator_and_lists_the_known_ones():
    with pytest.raises(ValidationError, match="unknown operator 'like'") as caught:
        where("name", "like", "a%")
    message = str(caught.value)
    for op in (
        "=",
        "==",
        "!=",
        "<>",
        "<",
        "<=",
        ">",
        ">=",
        "between",
        "in",
        "begins_with",
        "contains",
        "exists",
        "not_exists",
        "attribute_type",
    ):
        assert op in message


@pytest.mark.parametrize("op", ["", " ", "=>", "=<", "!", "not exists", "is", "size", "and", "eq"])
def test_where_refuses_other_unknown_operators(op):
    with pytest.raises(ValidationError, match="unknown operator"):
        where("price", op, 1)


@pytest.mark.parametrize(
    ("op", "values"),
    [
        ("=", ()),
        ("=", (1, 2)),
        ("!=", ()),
        ("<", (1, 2)),
        (">=", ()),
        ("begins_with", ()),
        ("begins_with", ("a", "b")),
        ("contains", ()),
        ("contains", ("a", "b")),
        ("attribute_type", ()),
        ("attribute_type", ("S", "N")),
        ("exists", (1,)),
        ("exists", (None,)),
        ("not_exists", (1,)),
        ("between", ()),
        ("between", (1,)),
        ("between", ((1,),)),
        ("between", ((1, 2, 3),)),
        ("between", ([1, 2, 3],)),
        ("between", (1, 2, 3)),
    ],
)
def test_where_refuses_the_wrong_number_of_values(op, values):
    with pytest.raises(ValidationError, match="takes"):
        where("price", op, *values)


def test_where_in_with_no_values_is_refused_by_compile_time():
    for args in (("price", "in"), ("price", "in", []), ("price", "in", ())):
        with pytest.raises(ValidationError, match="at least one value"):
            where(*args).compile(EchoResolver(), Params())


@pytest.mark.parametrize("op", [None, 5, b"=", ("=",), attr("x")])
def test_where_refuses_an_operator_that_is_not_a_string(op):
    with pytest.raises(ValidationError, match="operator string"):
        where("price", op, 1)


@pytest.mark.parametrize(
    "path", [5, None, b"price", "", "a..b", ".a", "a.", "[0]", "a[-1]", "a[x]"]
)
def test_where_refuses_a_bad_path(path):
    with pytest.raises(ValidationError):
        where(path, "=", 1)


def test_where_refuses_bad_operands_like_the_operator_form():
    with pytest.raises(ValidationError, match="unknown attribute type"):
        where("name", "attribute_type", "STRING")
    with pytest.raises(ValidationError, match="str or bytes prefix"):
        where("name", "begins_with", 5).compile(EchoResolver(), Params())
    with pytest.raises(ValidationError, match="only == and != compare with None"):
        where("name", "<", None).compile(EchoResolver(), Params())
    with pytest.raises(ValidationError, match="needs two values"):
        where("price", "between", None, 5).compile(EchoResolver(), Params())
