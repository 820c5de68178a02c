"""Computed SET values: arithmetic, if_not_exists, list_append and other paths."""

import datetime as dt
from decimal import Decimal
from typing import Any

import attrs
import pytest

from dynamorm_async import ConversionError, Mapper, ValidationError, attr
from dynamorm_async.expressions import (
    Arithmetic,
    IfNotExists,
    ListAppend,
    Params,
    Update,
    if_not_exists,
    list_append,
)


@attrs.define
class Address:
    city: str
    zip: str = ""


@attrs.define
class Counter:
    id: str
    n: int = 0
    m: int = 0
    ratio: Decimal = Decimal(0)
    name: str = ""
    note: str | None = None
    tags: list[str] = attrs.field(factory=list)
    scores: list[int] = attrs.field(factory=list)
    labels: frozenset[str] = frozenset()
    sizes: set[int] = attrs.field(factory=set)
    created: dt.datetime | None = None
    updated: dt.datetime | None = None
    expires: dt.datetime | None = None
    address: Address | None = None
    counts: dict[str, int] = attrs.field(factory=dict)


COUNTERS = Mapper(
    Counter,
    table="counters",
    partition_key="id",
    field_names={"n": "num"},
    ttl_attribute="expires",
)

WHEN = dt.datetime(2024, 1, 2, 3, 4, 5, tzinfo=dt.timezone.utc)


class EchoResolver:
    """The smallest Resolver: names are stored as given, values by their Python type."""

    def resolve_path(self, elements):
        return elements, Any

    def encode_value(self, value, tp):
        if isinstance(value, bool):
            return {"BOOL": value}
        if isinstance(value, (int, Decimal)):
            return {"N": str(value)}
        if isinstance(value, (list, tuple)):
            return {"L": [self.encode_value(v, Any) for v in value]}
        if isinstance(value, frozenset):
            return {"SS": sorted(value)} if value else None
        return {"S": str(value)}

    def omits_none(self, elements):
        return True


def compile_update(resolver=None, **actions):
    resolver = EchoResolver() if resolver is None else resolver
    params = Params()
    text = Update.of(**actions).compile(resolver, params)
    return text, params.names, params.values


def N(n):
    return {"N": str(n)}


def S(s):
    return {"S": s}


def L(*items):
    return {"L": list(items)}


# --- exact text, untyped -------------------------------------------------------------------


COMPUTED = [
    (attr("n") + 1, "SET #n0 = #n0 + :v0", {"#n0": "n"}, {":v0": N(1)}),
    (attr("n") - 1, "SET #n0 = #n0 - :v0", {"#n0": "n"}, {":v0": N(1)}),
    (1 + attr("n"), "SET #n0 = :v0 + #n0", {"#n0": "n"}, {":v0": N(1)}),
    (10 - attr("n"), "SET #n0 = :v0 - #n0", {"#n0": "n"}, {":v0": N(10)}),
    (attr("n") - attr("m"), "SET #n0 = #n0 - #n1", {"#n0": "n", "#n1": "m"}, {}),
    (attr("m") + attr("n"), "SET #n0 = #n1 + #n0", {"#n0": "n", "#n1": "m"}, {}),
    (if_not_exists("n", 0), "SET #n0 = if_not_exists(#n0, :v0)", {"#n0": "n"}, {":v0": N(0)}),
    (
        if_not_exists("m", 5),
        "SET #n0 = if_not_exists(#n1, :v0)",
        {"#n0": "n", "#n1": "m"},
        {":v0": N(5)},
    ),
    (
        if_not_exists(attr("m"), attr("n")),
        "SET #n0 = if_not_exists(#n1, #n0)",
        {"#n0": "n", "#n1": "m"},
        {},
    ),
    (
        if_not_exists("n", 0) + 1,
        "SET #n0 = if_not_exists(#n0, :v0) + :v1",
        {"#n0": "n"},
        {":v0": N(0), ":v1": N(1)},
    ),
    (
        if_not_exists("n", 1) + 1,  # one value: one placeholder
        "SET #n0 = if_not_exists(#n0, :v0) + :v0",
        {"#n0": "n"},
        {":v0": N(1)},
    ),
    (
        if_not_exists("n", 0) - attr("m"),
        "SET #n0 = if_not_exists(#n0, :v0) - #n1",
        {"#n0": "n", "#n1": "m"},
        {":v0": N(0)},
    ),
    (
        attr("m") - if_not_exists("n", 0),
        "SET #n0 = #n1 - if_not_exists(#n0, :v0)",
        {"#n0": "n", "#n1": "m"},
        {":v0": N(0)},
    ),
    (attr("m"), "SET #n0 = #n1", {"#n0": "n", "#n1": "m"}, {}),
    (attr("a.b[2]"), "SET #n0 = #n1.#n2[2]", {"#n0": "n", "#n1": "a", "#n2": "b"}, {}),
]


@pytest.mark.parametrize(
    ("value", "text", "names", "values"), COMPUTED, ids=[repr(c[0]) for c in COMPUTED]
)
def test_computed_set_values_compile_exactly(value, text, names, values):
    assert compile_update(set={"n": value}) == (text, names, values)


LISTS = [
    (
        attr("tags").append(["a"]),
        "SET #n0 = list_append(#n0, :v0)",
        {"#n0": "tags"},
        {":v0": L(S("a"))},
    ),
    (
        attr("tags").prepend(["a", "b"]),
        "SET #n0 = list_append(:v0, #n0)",
        {"#n0": "tags"},
        {":v0": L(S("a"), S("b"))},
    ),
    (
        attr("tags").append(("a",)),
        "SET #n0 = list_append(#n0, :v0)",
        {"#n0": "tags"},
        {":v0": L(S("a"))},
    ),
    (
        list_append(attr("tags"), ["a"]),
        "SET #n0 = list_append(#n0, :v0)",
        {"#n0": "tags"},
        {":v0": L(S("a"))},
    ),
    (
        list_append(["a"], attr("tags")),
        "SET #n0 = list_append(:v0, #n0)",
        {"#n0": "tags"},
        {":v0": L(S("a"))},
    ),
    (
        list_append(attr("old"), attr("tags")),
        "SET #n0 = list_append(#n1, #n0)",
        {"#n0": "tags", "#n1": "old"},
        {},
    ),
    (
        list_append(["a"], ["b"]),
        "SET #n0 = list_append(:v0, :v1)",
        {"#n0": "tags"},
        {":v0": L(S("a")), ":v1": L(S("b"))},
    ),
    (
        # Lists are not de-duplicated: two equal lists, two placeholders.
        list_append(["a"], ["a"]),
        "SET #n0 = list_append(:v0, :v1)",
        {"#n0": "tags"},
        {":v0": L(S("a")), ":v1": L(S("a"))},
    ),
    (
        list_append(if_not_exists("tags", []), ["x"]),
        "SET #n0 = list_append(if_not_exists(#n0, :v0), :v1)",
        {"#n0": "tags"},
        {":v0": L(), ":v1": L(S("x"))},
    ),
    (
        attr("other").append([]),
        "SET #n0 = list_append(#n1, :v0)",
        {"#n0": "tags", "#n1": "other"},
        {":v0": L()},
    ),
]


@pytest.mark.parametrize(
    ("value", "text", "names", "values"), LISTS, ids=[repr(c[0]) for c in LISTS]
)
def test_list_append_set_values_compile_exactly(value, text, names, values):
    assert isinstance(value, ListAppend)
    assert compile_update(set={"tags": value}) == (text, names, values)


def test_builders_return_frozen_data():
    assert isinstance(attr("n") + 1, Arithmetic)
    assert isinstance(1 + attr("n"), Arithmetic)
    assert isinstance(if_not_exists("n", 0), IfNotExists)
    assert isinstance(if_not_exists("n", 0) + 1, Arithmetic)
    assert isinstance(if_not_exists("n", 0) - 1, Arithmetic)
    assert repr(attr("n") + 1) == "Arithmetic(left=attr('n'), op='+', right=1)"
    assert repr(1 + attr("n")) == "Arithmetic(left=1, op='+', right=attr('n'))"
    assert repr(attr("n") - attr("m")) == "Arithmetic(left=attr('n'), op='-', right=attr('m'))"
    assert repr(attr("t").append([1])) == "ListAppend(first=attr('t'), second=[1])"
    assert repr(attr("t").prepend([1])) == "ListAppend(first=[1], second=attr('t'))"
    assert if_not_exists("a.b", 0).path.elements == ("a", "b")
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        (attr("n") + 1).op = "-"


def test_several_computed_values_share_placeholders():
    assert compile_update(
        set={"n": attr("n") + 1, "m": if_not_exists("m", 1) - attr("n"), "name": attr("m")}
    ) == (
        "SET #n0 = #n0 + :v0, #n1 = if_not_exists(#n1, :v0) - #n0, #n2 = #n1",
        {"#n0": "n", "#n1": "m", "#n2": "name"},
        {":v0": N(1)},
    )


def test_computed_values_combine_with_remove_add_and_delete():
    assert compile_update(
        set={
            "n": attr("n") + 1,
            "tags": attr("tags").append(["x"]),
            "name": attr("note"),
            "plain": "v",
        },
        remove=["updated"],
        add={"m": 1},
        delete={"labels": frozenset({"a"})},
    ) == (
        "SET #n0 = #n0 + :v0, #n1 = list_append(#n1, :v1), #n2 = #n3, #n4 = :v2 "
        "REMOVE #n5 ADD #n6 :v0 DELETE #n7 :v3",
        {
            "#n0": "n",
            "#n1": "tags",
            "#n2": "name",
            "#n3": "note",
            "#n4": "plain",
            "#n5": "updated",
            "#n6": "m",
            "#n7": "labels",
        },
        {":v0": N(1), ":v1": L(S("x")), ":v2": S("v"), ":v3": {"SS": ["a"]}},
    )


def test_computed_values_beside_a_none_that_becomes_remove():
    assert compile_update(set={"note": None, "n": if_not_exists("n", 0) + 1}) == (
        "SET #n1 = if_not_exists(#n1, :v0) + :v1 REMOVE #n0",
        {"#n0": "note", "#n1": "n"},
        {":v0": N(0), ":v1": N(1)},
    )


def test_computed_values_share_params_with_a_condition():
    resolver = EchoResolver()
    params = Params()
    update = Update.of(set={"n": attr("n") + 1, "tags": attr("tags").prepend(["a"])})
    assert update.compile(resolver, params) == "SET #n0 = #n0 + :v0, #n1 = list_append(:v1, #n1)"
    assert ((attr("n") < 1) & attr("tags").exists()).compile(
        resolver, params
    ) == "#n0 < :v0 AND attribute_exists(#n1)"
    assert params.names == {"#n0": "n", "#n1": "tags"}
    assert params.values == {":v0": N(1), ":v1": L(S("a"))}


def test_reading_the_target_does_not_count_as_an_overlap():
    # `n = n + 1` reads and writes n: not an overlap; writing n twice still is.
    assert compile_update(set={"n": attr("n") + 1})[0] == "SET #n0 = #n0 + :v0"
    with pytest.raises(ValidationError, match="overlapping"):
        compile_update(set={"n": attr("n") + 1}, add={"n": 1})
    with pytest.raises(ValidationError, match="overlapping"):
        compile_update(set={"tags": attr("tags").append(["a"])}, remove=["tags"])


# --- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: attr("n") + 1 + 2,
        lambda: attr("n") - 1 + 2,
        lambda: attr("n") + 1 - 2,
        lambda: attr("n") + attr("m") + 1,
        lambda: 1 + attr("n") + 2,
        lambda: 1 + (attr("n") + 2),
        lambda: 1 - (attr("n") - 2),
        lambda: if_not_exists("n", 0) + 1 + 2,
        lambda: if_not_exists("n", 0) - 1 - 2,
    ],
)
def test_chained_arithmetic_is_refused(build):
    with pytest.raises(ValidationError, match=r"one \+ or -"):
        build()


@pytest.mark.parametrize(
    "value",
    [
        attr("n") + (attr("m") + 1),
        attr("n") - (attr("m") - 1),
        if_not_exists("n", attr("m") + 1),
        if_not_exists("n", 0) + (attr("m") + 1),
    ],
    ids=["path+(path+1)", "path-(path-1)", "if_not_exists(n, m+1)", "ine+(path+1)"],
)
def test_nested_arithmetic_is_refused_at_compile(value):
    with pytest.raises(ValidationError, match=r"one \+ or -"):
        compile_update(set={"n": value})


@pytest.mark.parametrize(
    "value",
    [
        attr("tags").append("a"),
        attr("tags").append(b"a"),
        attr("tags").append({"a"}),
        attr("tags").append(frozenset({"a"})),
        attr("tags").append({"a": 1}),
        attr("tags").append(5),
        attr("tags").append(None),
        attr("tags").prepend("abc"),
        list_append(attr("tags"), 5),
        list_append(5, attr("tags")),
        list_append("tags", ["a"]),  # a str is a value here, not a path
        list_append(["a"], attr("tags") + 1),
    ],
    ids=lambda v: repr(v),
)
def test_list_append_of_a_non_list_is_refused(value):
    with pytest.raises(ValidationError, match="joins lists"):
        compile_update(set={"tags": value})


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (attr("n") + None, "cannot be None"),
        (None + attr("n"), "cannot be None"),
        (if_not_exists("n", None), "cannot be None"),
        (if_not_exists("n", None) + 1, "cannot be None"),
        (attr("labels") + frozenset(), "empty set"),
        (if_not_exists("labels", frozenset()), "empty set"),
    ],
    ids=["path+None", "None+path", "ine(None)", "ine(None)+1", "path+emptyset", "ine(emptyset)"],
)
def test_none_and_empty_set_operands_are_refused(value, match):
    with pytest.raises(ValidationError, match=match):
        compile_update(set={"n": value})


def test_unknown_arithmetic_operator_is_refused():
    with pytest.raises(ValidationError, match="unknown arithmetic operator"):
        Arithmetic(attr("n"), "*", 2)


@pytest.mark.parametrize("path", [5, None, ("n",), "", "a..b", "[0]"])
def test_if_not_exists_refuses_a_bad_path(path):
    with pytest.raises(ValidationError):
        if_not_exists(path, 0)


# --- typed by the field, with a Mapper ----------------------------------------------------


def test_mapper_if_not_exists_encodes_a_datetime_as_stored():
    assert compile_update(COUNTERS, set={"created": if_not_exists("created", WHEN)}) == (
        "SET #n0 = if_not_exists(#n0, :v0)",
        {"#n0": "created"},
        {":v0": S("2024-01-02T03:04:05.000000Z")},
    )


def test_mapper_if_not_exists_on_the_ttl_attribute_is_epoch_seconds():
    assert compile_update(COUNTERS, set={"expires": if_not_exists("expires", WHEN)}) == (
        "SET #n0 = if_not_exists(#n0, :v0)",
        {"#n0": "expires"},
        {":v0": N(int(WHEN.timestamp()))},
    )


def test_mapper_if_not_exists_default_is_typed_by_its_own_path():
    # The default stands for the value at if_not_exists' path, not at the target.
    assert compile_update(COUNTERS, set={"updated": if_not_exists("created", WHEN)}) == (
        "SET #n0 = if_not_exists(#n1, :v0)",
        {"#n0": "updated", "#n1": "created"},
        {":v0": S("2024-01-02T03:04:05.000000Z")},
    )
    assert compile_update(COUNTERS, set={"m": if_not_exists("n", 0) + 1}) == (
        "SET #n0 = if_not_exists(#n1, :v0) + :v1",
        {"#n0": "m", "#n1": "num"},
        {":v0": N(0), ":v1": N(1)},
    )
    # A path of another type than the target's is refused before its default is read.
    with pytest.raises(ValidationError, match="types differ"):
        compile_update(COUNTERS, set={"n": if_not_exists("created", 5)})
    with pytest.raises(ConversionError):
        compile_update(COUNTERS, set={"updated": if_not_exists("created", 5)})


def test_mapper_arithmetic_is_typed_by_the_target():
    assert compile_update(COUNTERS, set={"n": attr("n") + 1}) == (
        "SET #n0 = #n0 + :v0",
        {"#n0": "num"},
        {":v0": N(1)},
    )
    assert compile_update(COUNTERS, set={"n": 2 - attr("m")}) == (
        "SET #n0 = :v0 - #n1",
        {"#n0": "num", "#n1": "m"},
        {":v0": N(2)},
    )
    assert compile_update(COUNTERS, set={"ratio": attr("ratio") + Decimal("1.5")}) == (
        "SET #n0 = #n0 + :v0",
        {"#n0": "ratio"},
        {":v0": N("1.5")},
    )
    assert compile_update(COUNTERS, set={"counts.a": attr("counts.a") - 3}) == (
        "SET #n0.#n1 = #n0.#n1 - :v0",
        {"#n0": "counts", "#n1": "a"},
        {":v0": N(3)},
    )
    with pytest.raises(ConversionError):
        compile_update(COUNTERS, set={"n": attr("n") + "x"})


def test_mapper_list_append_is_typed_by_the_target():
    assert compile_update(COUNTERS, set={"tags": attr("tags").append(["a", "b"])}) == (
        "SET #n0 = list_append(#n0, :v0)",
        {"#n0": "tags"},
        {":v0": L(S("a"), S("b"))},
    )
    assert compile_update(COUNTERS, set={"scores": attr("scores").prepend([1, 2])}) == (
        "SET #n0 = list_append(:v0, #n0)",
        {"#n0": "scores"},
        {":v0": L(N(1), N(2))},
    )
    assert compile_update(
        COUNTERS, set={"scores": list_append(if_not_exists("scores", []), [3])}
    ) == (
        "SET #n0 = list_append(if_not_exists(#n0, :v0), :v1)",
        {"#n0": "scores"},
        {":v0": L(), ":v1": L(N(3))},
    )
    with pytest.raises(ConversionError):
        compile_update(COUNTERS, set={"scores": attr("scores").append(["x"])})


def test_mapper_path_values_use_stored_names():
    assert compile_update(COUNTERS, set={"m": attr("n"), "name": attr("note")}) == (
        "SET #n0 = #n1, #n2 = #n3",
        {"#n0": "m", "#n1": "num", "#n2": "name", "#n3": "note"},
        {},
    )


def test_mapper_computed_values_with_remove_add_delete():
    assert compile_update(
        COUNTERS,
        set={"n": if_not_exists("n", 0) + 1, "updated": WHEN},
        remove=["note"],
        add={"sizes": {1}},
        delete={"labels": {"x"}},
    ) == (
        "SET #n0 = if_not_exists(#n0, :v0) + :v1, #n1 = :v2 REMOVE #n2 ADD #n3 :v3 DELETE #n4 :v4",
        {"#n0": "num", "#n1": "updated", "#n2": "note", "#n3": "sizes", "#n4": "labels"},
        {
            ":v0": N(0),
            ":v1": N(1),
            ":v2": S("2024-01-02T03:04:05.000000Z"),
            ":v3": {"NS": ["1"]},
            ":v4": {"SS": ["x"]},
        },
    )


def test_mapper_unknown_path_in_a_computed_value_is_refused():
    from dynamorm_async import MappingError

    with pytest.raises(MappingError):
        compile_update(COUNTERS, set={"n": attr("nope") + 1})
    with pytest.raises(MappingError):
        compile_update(COUNTERS, set={"n": if_not_exists("nope", 0)})


# --- Update equality ------------------------------------------------------------------------


def test_update_with_a_path_value_compares_without_raising():
    assert Update.of(set={"a": attr("b")}) != Update.of(set={"a": 1})
