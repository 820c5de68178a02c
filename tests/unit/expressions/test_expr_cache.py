"""The compiled-condition cache replays exactly what an uncached compile (emit) gives."""

import datetime as dt
import functools
import operator
from typing import Any

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dynamorm_async import ConversionError, Mapper, ValidationError, attr
from dynamorm_async.expressions import (
    ATTRIBUTE_TYPES,
    And,
    Between,
    CacheInfo,
    Compare,
    In,
    Not,
    Or,
    Params,
    cache_info,
    size,
)


@attrs.define
class Address:
    city: str
    zip: str = ""


@attrs.define
class Doc:
    id: str
    price: int = 0
    qty: int = 0
    name: str = ""
    title: str = ""
    tags: frozenset[str] = frozenset()
    history: list[str] = attrs.field(factory=list)
    address: Address | None = None
    stock: dict[str, int] = attrs.field(factory=dict)
    created: dt.datetime | None = None


DOCS = Mapper(Doc, table="docs", partition_key="id", field_names={"price": "pr", "name": "nm"})


class Typed:
    """A fresh resolver (so a fresh cache) that encodes like the Doc mapper."""

    def __init__(self, mapper=DOCS):
        self.mapper = mapper

    def resolve_path(self, elements):
        return self.mapper.resolve_path(elements)

    def encode_value(self, value, tp):
        return self.mapper.encode_value(value, tp)

    def omits_none(self, elements):
        return self.mapper.omits_none(elements)


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
        if isinstance(value, list):
            return {"L": [self.encode_value(v, Any) for v in value]}
        return {"S": str(value)}

    def omits_none(self, elements):
        return True


class SlottedResolver:
    """Not weak-referenceable (slots, no __weakref__): nothing can be cached for it."""

    __slots__ = ()

    resolve_path = EchoResolver.resolve_path
    encode_value = EchoResolver.encode_value
    omits_none = EchoResolver.omits_none


class UnhashableResolver(EchoResolver):
    """Weak-referenceable but unhashable."""

    def __eq__(self, other):
        return self is other

    __hash__ = None


def emit_(condition, resolver, params=None):
    params = Params() if params is None else params
    text = condition.emit(resolver, params)
    return text, params.names, params.values


def cached_(condition, resolver, params=None):
    params = Params() if params is None else params
    text = condition.compile(resolver, params)
    return text, params.names, params.values


def assert_identical(got, expected):
    """Same text, and the same placeholder maps in the same order."""
    assert got[0] == expected[0]
    assert list(got[1].items()) == list(expected[1].items())
    assert list(got[2].items()) == list(expected[2].items())


def counts(resolver):
    info = cache_info(resolver)
    return info.misses, info.hits, len(info.templates)


def N(n):
    return {"N": str(n)}


def S(s):
    return {"S": s}


# --- random structurally identical pairs -------------------------------------------------
#
# Every strategy below draws a pair of conditions with the same structure (paths,
# operators, None positions, IN lengths) and independently drawn values.

ints = st.integers(min_value=-3, max_value=3)  # small ranges, so that values repeat
texts = st.text(alphabet="ab", max_size=2)
DATES = [dt.datetime(2024, 1, d, tzinfo=dt.timezone.utc) for d in (1, 2, 3)]
dates = st.sampled_from(DATES)
ALL_OPS = ["=", "<>", "<", "<=", ">", ">="]
ops = st.sampled_from(ALL_OPS)

number_paths = st.one_of(
    st.sampled_from([attr("price"), attr("qty")]),
    st.sampled_from(["a", "b"]).map(lambda key: attr("stock", key)),
)
text_paths = st.one_of(
    st.sampled_from([attr("name"), attr("title"), attr("address.city"), attr("address.zip")]),
    st.integers(min_value=0, max_value=3).map(lambda i: attr("history", i)),
)
sized_paths = st.sampled_from(
    [attr("name"), attr("tags"), attr("history"), attr("stock"), attr("address.city")]
)
any_paths = st.one_of(number_paths, text_paths, sized_paths, st.just(attr("created")))


def pairs(values):
    return st.tuples(values, values)


def _compare(path, op, pair):
    return Compare(path, op, pair[0]), Compare(path, op, pair[1])


def _between(path, low, high):
    return Between(path, low[0], high[0]), Between(path, low[1], high[1])


@st.composite
def _in(draw, paths, values, allow_none=True):
    path = draw(paths)
    count = draw(st.integers(min_value=1, max_value=250))
    first = draw(
        st.lists(
            st.one_of(st.none(), values) if allow_none else values,
            min_size=count,
            max_size=count,
        )
    )
    second = draw(st.lists(values, min_size=count, max_size=count))
    second = [None if a is None else b for a, b in zip(first, second, strict=True)]
    return In(path, tuple(first)), In(path, tuple(second))


def _same(condition):
    return condition, condition


_small_in_counts = st.integers(min_value=1, max_value=4)

value_leaves = [
    st.builds(_compare, number_paths, ops, pairs(ints)),
    st.builds(_compare, text_paths, ops, pairs(texts)),
    st.builds(_compare, st.just(attr("created")), ops, pairs(dates)),
    st.builds(lambda p, op: _same(Compare(p, op, None)), any_paths, st.sampled_from(["=", "<>"])),
    st.builds(_between, number_paths, pairs(ints), pairs(ints)),
    st.builds(_between, text_paths, pairs(texts), pairs(texts)),
    _in(number_paths, ints),
    _in(text_paths, texts),
    st.builds(
        lambda p, pair: (p.begins_with(pair[0]), p.begins_with(pair[1])),
        text_paths,
        pairs(texts.filter(bool)),
    ),
    st.builds(
        lambda p, pair: (p.contains(pair[0]), p.contains(pair[1])),
        st.one_of(text_paths, st.sampled_from([attr("tags"), attr("history")])),
        pairs(texts),
    ),
    # size(...) compared with numbers, ranges and lists of numbers
    st.builds(lambda p, op, pair: _compare(p.size(), op, pair), sized_paths, ops, pairs(ints)),
    st.builds(lambda p, lo, hi: _between(p.size(), lo, hi), sized_paths, pairs(ints), pairs(ints)),
    _in(sized_paths.map(lambda p: p.size()), ints, allow_none=False),
]
path_leaves = [
    st.builds(
        lambda p, present: _same(p.exists() if present else p.not_exists()),
        any_paths,
        st.booleans(),
    ),
    # path against path, size against path, path against size
    st.builds(lambda a, op, b: _same(Compare(a, op, b)), number_paths, ops, number_paths),
    st.builds(lambda a, op, b: _same(Compare(a.size(), op, b)), sized_paths, ops, number_paths),
    st.builds(lambda a, op, b: _same(Compare(a, op, b.size())), number_paths, ops, sized_paths),
    st.builds(
        lambda a, lo, hi: _same(Between(a, lo, hi)), number_paths, number_paths, number_paths
    ),
    # a path among the values of an IN
    st.builds(
        lambda p, other, pair: (In(p, (pair[0], other)), In(p, (pair[1], other))),
        number_paths,
        number_paths,
        pairs(ints),
    ),
]
type_leaves = [
    st.builds(
        lambda p, code: _same(p.attribute_type(code)), any_paths, st.sampled_from(ATTRIBUTE_TYPES)
    ),
]


def _both(combine):
    return lambda ps: (combine([a for a, _ in ps]), combine([b for _, b in ps]))


def _branches(children):
    some = st.lists(children, min_size=1, max_size=4)
    return st.one_of(
        some.map(_both(lambda cs: functools.reduce(operator.and_, cs))),
        some.map(_both(lambda cs: functools.reduce(operator.or_, cs))),
        some.map(_both(lambda cs: And(tuple(cs)))),
        some.map(_both(lambda cs: Or(tuple(cs)))),
        children.map(lambda p: (~p[0], ~p[1])),
        children.map(lambda p: (Not(p[0]), Not(p[1]))),
    )


condition_pairs = st.recursive(st.one_of(*value_leaves, *path_leaves), _branches, max_leaves=12)
condition_pairs_with_types = st.recursive(
    st.one_of(*value_leaves, *path_leaves, *type_leaves), _branches, max_leaves=12
)


def check_pair(pair):
    first, second = pair
    resolver = Typed()
    # The first compile of a shape is a miss and gives exactly what emit gives.
    assert_identical(cached_(first, resolver), emit_(first, resolver))
    assert counts(resolver) == (1, 0, 1)
    # A structurally identical condition with other values replays the template.
    assert_identical(cached_(second, resolver), emit_(second, resolver))
    assert counts(resolver) == (1, 1, 1)
    # Several expressions sharing one Params: repeated names and values are shared.
    shared_emit, shared_cached = Params(), Params()
    for condition in (first, second, first):
        assert_identical(
            cached_(condition, resolver, shared_cached), emit_(condition, resolver, shared_emit)
        )
    assert counts(resolver) == (1, 4, 1)


@settings(max_examples=120, deadline=None)
@given(condition_pairs)
def test_cache_replays_emit_exactly_for_random_condition_pairs(pair):
    check_pair(pair)


# attribute_type's code is a constant of the text; a template allocates it after the
# compared values, while emit allocates placeholders in text order.
_TYPE_THEN_VALUE = (
    attr("name").attribute_type("S") & (attr("price") == 1),
    attr("name").attribute_type("S") & (attr("price") == 2),
)


@settings(max_examples=60, deadline=None)
@given(condition_pairs_with_types)
@example(_TYPE_THEN_VALUE)
def test_cache_replays_emit_exactly_for_random_pairs_with_attribute_type(pair):
    check_pair(pair)


# --- values only: one miss, then hits ---------------------------------------------------------


def test_cache_same_shape_other_values_is_one_miss_then_hits():
    resolver = EchoResolver()
    assert counts(resolver) == (0, 0, 0)
    outputs = [
        cached_((attr("status") == value) & (attr("n") > n), resolver)
        for value, n in [("a", 1), ("b", 2), ("c", 3)]
    ]
    assert counts(resolver) == (1, 2, 1)
    assert outputs == [
        (
            "#n0 = :v0 AND #n1 > :v1",
            {"#n0": "status", "#n1": "n"},
            {":v0": S(value), ":v1": N(n)},
        )
        for value, n in [("a", 1), ("b", 2), ("c", 3)]
    ]


def test_cache_is_per_resolver():
    first, second = EchoResolver(), EchoResolver()
    condition = attr("a") == 1
    cached_(condition, first)
    cached_(condition, second)
    cached_(condition, second)
    assert counts(first) == (1, 0, 1)
    assert counts(second) == (1, 1, 1)
    assert isinstance(cache_info(first), CacheInfo)
    assert "hits=0" in repr(cache_info(first))
    assert "misses=1" in repr(cache_info(first))


def test_cache_with_a_mapper_encodes_each_value_by_the_field_type():
    resolver = Typed()
    for day in (1, 2):
        when = dt.datetime(2024, 5, day, 6, 7, 8, tzinfo=dt.timezone.utc)
        assert cached_((attr("created") < when) & (size("name") > 2), resolver) == (
            "#n0 < :v0 AND size(#n1) > :v1",
            {"#n0": "created", "#n1": "nm"},
            {":v0": S(f"2024-05-0{day}T06:07:08.000000Z"), ":v1": N(2)},
        )
    assert counts(resolver) == (1, 1, 1)


def test_cache_with_unhashable_values():
    resolver = EchoResolver()
    for values in (["a"], ["b", "c"]):
        condition = (attr("list") == values) | (attr("n") == 1)
        assert_identical(cached_(condition, resolver), emit_(condition, resolver))
    assert counts(resolver) == (1, 1, 1)


# --- de-duplicated values --------------------------------------------------------------------


def test_cache_template_from_distinct_values_replays_repeated_ones():
    resolver = EchoResolver()
    assert cached_((attr("a") == 1) | (attr("b") == 2), resolver) == (
        "#n0 = :v0 OR #n1 = :v1",
        {"#n0": "a", "#n1": "b"},
        {":v0": N(1), ":v1": N(2)},
    )
    assert cached_((attr("a") == 7) | (attr("b") == 7), resolver) == (
        "#n0 = :v0 OR #n1 = :v0",
        {"#n0": "a", "#n1": "b"},
        {":v0": N(7)},
    )
    assert counts(resolver) == (1, 1, 1)


def test_cache_template_from_repeated_values_replays_distinct_ones():
    resolver = EchoResolver()
    assert cached_(attr("a").is_in([5, 5, 6]) & (attr("b") == 5), resolver) == (
        "#n0 IN (:v0, :v0, :v1) AND #n1 = :v0",
        {"#n0": "a", "#n1": "b"},
        {":v0": N(5), ":v1": N(6)},
    )
    assert cached_(attr("a").is_in([1, 2, 3]) & (attr("b") == 4), resolver) == (
        "#n0 IN (:v0, :v1, :v2) AND #n1 = :v3",
        {"#n0": "a", "#n1": "b"},
        {":v0": N(1), ":v1": N(2), ":v2": N(3), ":v3": N(4)},
    )
    assert counts(resolver) == (1, 1, 1)


def test_cache_none_and_a_null_value_share_a_placeholder():
    resolver = EchoResolver()
    condition = (attr("a") == None) & (attr("b") != None)  # noqa: E711
    expected = (
        "(attribute_not_exists(#n0) OR #n0 = :v0) AND attribute_exists(#n1) AND #n1 <> :v0",
        {"#n0": "a", "#n1": "b"},
        {":v0": {"NULL": True}},
    )
    assert cached_(condition, resolver) == expected
    assert cached_(condition, resolver) == expected
    assert counts(resolver) == (1, 1, 1)


def test_cache_with_shared_params_reuses_earlier_placeholders():
    resolver = EchoResolver()
    key = (attr("pk") == "x") & attr("sk").begins_with("a")
    filter_ = (attr("n") > 1) & (attr("pk") != "x") & (attr("m") == "a")
    for _ in range(2):  # the second round is all hits
        shared, reference = Params(), Params()
        got = [key.compile(resolver, shared), filter_.compile(resolver, shared)]
        expected = [key.emit(resolver, reference), filter_.emit(resolver, reference)]
        assert (
            got
            == expected
            == ["#n0 = :v0 AND begins_with(#n1, :v1)", "#n2 > :v2 AND #n0 <> :v0 AND #n3 = :v1"]
        )
        assert list(shared.names.items()) == list(reference.names.items())
        assert list(shared.values.items()) == list(reference.values.items())
        assert shared.values == {":v0": S("x"), ":v1": S("a"), ":v2": N(1)}
    assert counts(resolver) == (2, 2, 2)


def test_cache_after_a_params_that_already_holds_values():
    resolver = EchoResolver()
    for value in (3, 4):
        shared, reference = Params(), Params()
        for params in (shared, reference):
            params.value(N(value))
            params.name("b")
        condition = (attr("a") == value) & (attr("b") < 9)
        assert_identical(
            cached_(condition, resolver, shared), emit_(condition, resolver, reference)
        )
        assert shared.names == {"#n0": "b", "#n1": "a"}
        assert shared.values == {":v0": N(value), ":v1": N(9)}


# --- shapes ------------------------------------------------------------------------------------


DIFFERENT_SHAPES = {
    "operator": (attr("a") == 1, attr("a") < 1),
    "path": (attr("a") == 1, attr("b") == 1),
    "nested path": (attr("a.b") == 1, attr("a", 0) == 1),
    "None vs value": (attr("a") == None, attr("a") == 1),  # noqa: E711
    "None vs value (<>)": (attr("a") != None, attr("a") != 1),  # noqa: E711
    "value vs path": (attr("a") > 1, attr("a") > attr("b")),
    "path vs other path": (attr("a") > attr("b"), attr("a") > attr("c")),
    "size vs path": (size("a") > 1, attr("a") > 1),
    "size value vs path value": (attr("a") > size("b"), attr("a") > attr("b")),
    "in length": (attr("a").is_in([1, 2]), attr("a").is_in([1, 2, 3])),
    "in length past 100": (attr("a").is_in(range(100)), attr("a").is_in(range(101))),
    "in None position": (attr("a").is_in([1, None]), attr("a").is_in([None, 1])),
    "between bound": (attr("a").between(1, 2), attr("a").between(1, attr("b"))),
    "function": (attr("a").begins_with("x"), attr("a").contains("x")),
    "exists": (attr("a").exists(), attr("a").not_exists()),
    "attribute type": (attr("a").attribute_type("S"), attr("a").attribute_type("N")),
    "and vs or": ((attr("a") == 1) & (attr("b") == 2), (attr("a") == 1) | (attr("b") == 2)),
    "grouping": (
        ((attr("a") == 1) & (attr("b") == 2)) | (attr("c") == 3),
        (attr("a") == 1) & ((attr("b") == 2) | (attr("c") == 3)),
    ),
    "not": (attr("a") == 1, ~(attr("a") == 1)),
    "child order": (
        (attr("a") == 1) & attr("b").exists(),
        attr("b").exists() & (attr("a") == 1),
    ),
    "compare vs between": (attr("a") == 1, attr("a").between(1, 1)),
}


@pytest.mark.parametrize(
    ("first", "second"), list(DIFFERENT_SHAPES.values()), ids=list(DIFFERENT_SHAPES)
)
def test_cache_different_shapes_are_different_templates(first, second):
    resolver = EchoResolver()
    assert first.shape() != second.shape()
    for condition in (first, second):
        assert_identical(cached_(condition, resolver), emit_(condition, resolver))
    assert counts(resolver) == (2, 0, 2)
    for condition in (first, second):
        assert_identical(cached_(condition, resolver), emit_(condition, resolver))
    assert counts(resolver) == (2, 2, 2)


def test_cache_shape_leaves_values_out():
    first = (attr("a") == 1) & size("b").between(2, 3) & attr("c").is_in(["x", None])
    second = (attr("a") == 9) & size("b").between(8, 7) & attr("c").is_in(["y", None])
    assert first.shape() == second.shape()
    assert hash(first.shape()) == hash(second.shape())
    assert list(first.slot_values()) == [1, 2, 3, "x", None]
    assert list(second.slot_values()) == [9, 8, 7, "y", None]
    # Paths and constants are part of the shape, not values.
    assert list((attr("a") > attr("b")).slot_values()) == []
    assert list(attr("a").attribute_type("S").slot_values()) == []
    assert list(attr("a").exists().slot_values()) == []
    assert list(attr("a").begins_with("p").slot_values()) == ["p"]


def test_cache_paths_lists_every_path_read():
    condition = (
        (size("a") > attr("b"))
        & attr("c").attribute_type("S")
        & ~attr("d").exists()
        & attr("e").is_in([attr("f"), 1])
        & attr("g.h", 0).between(attr("i"), 2)
        & attr("j").contains("x")
        & (attr("k") == size("l"))
    )
    assert list(condition.paths()) == [
        ("a",),
        ("b",),
        ("c",),
        ("d",),
        ("e",),
        ("f",),
        ("g", "h", 0),
        ("i",),
        ("j",),
        ("k",),
        ("l",),
    ]


def test_cache_starts_over_past_its_size_limit(monkeypatch):
    from dynamorm_async.expressions import _cache

    monkeypatch.setattr(_cache, "MAX_SHAPES", 2)
    resolver = EchoResolver()
    conditions = [attr(name) == 1 for name in "abcde"]
    for condition in conditions * 2:
        assert_identical(cached_(condition, resolver), emit_(condition, resolver))
        assert len(cache_info(resolver).templates) <= 2


# --- errors ---------------------------------------------------------------------------------


def test_cache_errors_still_raise_on_a_hit():
    resolver = EchoResolver()
    cached_(attr("tags") == frozenset({"a"}), resolver)
    with pytest.raises(ValidationError, match="empty set"):
        cached_(attr("tags") == frozenset(), resolver)
    assert counts(resolver) == (1, 1, 1)
    # The template still works afterwards.
    assert cached_(attr("tags") == frozenset({"b"}), resolver) == (
        "#n0 = :v0",
        {"#n0": "tags"},
        {":v0": {"SS": ["b"]}},
    )


def test_cache_conversion_errors_still_raise_on_a_hit():
    resolver = Typed()
    cached_(size("name") > 1, resolver)
    with pytest.raises(ConversionError):
        cached_(size("name") > "long", resolver)
    cached_(attr("created") == DATES[0], resolver)
    with pytest.raises(ConversionError):
        cached_(attr("created") == "yesterday", resolver)
    assert counts(resolver) == (2, 2, 2)


@pytest.mark.parametrize(
    ("condition", "match"),
    [
        (size("a") == None, "only == and != compare with None"),  # noqa: E711
        (attr("a") < None, "only == and != compare with None"),
        (attr("a").between(None, 1), "needs two values"),
        (attr("a").is_in([]), "at least one value"),
        (attr("a").begins_with(5), "str or bytes prefix"),
        (attr("a").contains(None), "needs a value"),
        ((attr("b") == 1) & (size("a") != None), "only == and != compare with None"),  # noqa: E711
    ],
    ids=[
        "size==None",
        "<None",
        "between None",
        "empty in",
        "begins_with int",
        "contains None",
        "nested",
    ],
)
def test_cache_errors_of_a_shape_raise_every_time(condition, match):
    resolver = EchoResolver()
    for _ in range(3):
        with pytest.raises(ValidationError, match=match):
            cached_(condition, resolver)
    assert len(cache_info(resolver).templates) == 0


# --- resolvers the cache cannot key on ---------------------------------------------------------


@pytest.mark.parametrize("resolver_class", [SlottedResolver, UnhashableResolver])
def test_cache_uncacheable_resolver_still_compiles(resolver_class):
    resolver = resolver_class()
    for value in (1, 2, 2):
        condition = (attr("a") == value) & attr("b").attribute_type("S") | (size("c") > value)
        assert_identical(cached_(condition, resolver), emit_(condition, resolver))
    info = cache_info(resolver)
    assert isinstance(info, CacheInfo)
    assert (info.hits, info.misses, len(info.templates)) == (0, 0, 0)


def test_cache_slotted_resolver_is_really_not_weakrefable():
    import weakref

    with pytest.raises(TypeError):
        weakref.ref(SlottedResolver())


# --- attribute_type constants -------------------------------------------------------------------


def test_cache_attribute_type_alone_or_after_values_is_exact():
    resolver = EchoResolver()
    for condition in (
        attr("a").attribute_type("S"),
        attr("a").attribute_type("S"),
        (attr("b") == 1) & attr("a").attribute_type("N"),
        (attr("b") == 2) & attr("a").attribute_type("N"),
        (attr("b") == "S") & attr("a").attribute_type("S"),
        attr("a").attribute_type("S") & (attr("b") == "S"),
        attr("a").attribute_type("S") & attr("c").exists(),
    ):
        assert_identical(cached_(condition, resolver), emit_(condition, resolver))


def test_cache_attribute_type_before_a_value_is_exact():
    resolver = EchoResolver()
    condition = attr("a").attribute_type("S") & (attr("b") == 1)
    expected = (
        "attribute_type(#n0, :v0) AND #n1 = :v1",
        {"#n0": "a", "#n1": "b"},
        {":v0": S("S"), ":v1": N(1)},
    )
    assert emit_(condition, resolver) == expected
    assert_identical(cached_(condition, resolver), expected)
