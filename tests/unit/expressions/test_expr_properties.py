"""Properties of compiled expressions, over random condition trees and updates.

DynamoDB rejects a request whose ExpressionAttributeNames/Values hold a placeholder the
expressions do not use, and of course one that uses a placeholder it does not define.
It also rejects redundant parentheses, so conditions are parenthesized only where needed.
"""

import functools
import operator
import re

import attrs
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamorm_async import Mapper, attr
from dynamorm_async.expressions import And, Not, Or, Params, Update


@attrs.define
class Address:
    city: str
    zip: str = ""


@attrs.define
class Product:
    id: str
    category: str
    price: int
    name: str = ""
    tags: frozenset[str] = frozenset()
    address: Address | None = None
    history: list[Address] = attrs.field(factory=list)
    stock: dict[str, int] = attrs.field(factory=dict)


PRODUCTS = Mapper(
    Product,
    table="products",
    partition_key="id",
    field_names={"category": "cat", "name": "select"},
)
STORED_NAMES = {
    "id",
    "cat",
    "price",
    "select",
    "tags",
    "address",
    "city",
    "zip",
    "history",
    "stock",
}
MAP_KEYS = {"a", "b", "price"}  # keys of the stock map

NAME = re.compile(r"#n\d+")
VALUE = re.compile(r":v\d+")

ints = st.integers(min_value=-3, max_value=3)  # small ranges, so that values repeat
texts = st.text(alphabet="ab", max_size=2)
number_paths = st.one_of(
    st.just(attr("price")),
    st.sampled_from(["a", "b", "price"]).map(lambda key: attr("stock", key)),
)
text_paths = st.one_of(
    st.sampled_from([attr("category"), attr("name"), attr("address.city"), attr("address.zip")]),
    st.integers(min_value=0, max_value=12).map(lambda i: attr("history", i, "city")),
)
any_paths = st.one_of(number_paths, text_paths, st.just(attr("tags")), st.just(attr("address")))
ops = st.sampled_from(["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])


def _compare(path, op, value):
    return getattr(path, op)(value)


leaves = st.one_of(
    st.builds(_compare, number_paths, ops, ints),
    st.builds(_compare, text_paths, ops, texts),
    st.builds(lambda p: p == None, any_paths),  # noqa: E711 - builds a condition
    st.builds(lambda p, lo, hi: p.between(lo, hi), number_paths, ints, ints),
    st.builds(lambda p, lo, hi: p.between(lo, hi), text_paths, texts, texts),
    st.builds(
        lambda p, values: p.is_in(values),
        number_paths,
        st.lists(st.integers(min_value=-150, max_value=150), min_size=1, max_size=230),
    ),
    st.builds(
        lambda p, values: p.is_in(values), text_paths, st.lists(texts, min_size=1, max_size=5)
    ),
    st.builds(lambda p: p.exists(), any_paths),
    st.builds(lambda p: p.not_exists(), any_paths),
    st.builds(lambda p, prefix: p.begins_with(prefix), text_paths, texts.filter(bool)),
    st.builds(lambda v: attr("tags").contains(v), texts),
    st.builds(lambda p, v: p.contains(v), text_paths, texts),
)


def _branches(children):
    some = st.lists(children, min_size=1, max_size=4)
    return st.one_of(
        some.map(lambda cs: functools.reduce(operator.and_, cs)),
        some.map(lambda cs: functools.reduce(operator.or_, cs)),
        children.map(operator.invert),
        some.map(lambda cs: And(tuple(cs))),
        some.map(lambda cs: Or(tuple(cs))),
        children.map(Not),
    )


conditions = st.recursive(leaves, _branches, max_leaves=30)


def _operator_branches(children):
    some = st.lists(children, min_size=2, max_size=4)
    return st.one_of(
        some.map(lambda cs: functools.reduce(operator.and_, cs)),
        some.map(lambda cs: functools.reduce(operator.or_, cs)),
        children.map(operator.invert),
    )


# Trees built the way users build them: with & | ~ (so every And and Or has 2+ children).
operator_conditions = st.recursive(leaves, _operator_branches, max_leaves=30)


def assert_balanced(text):
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            assert depth >= 0, text
    assert depth == 0, text


def _groups(text):
    """(start, end) of every parenthesized group: text[start] == "(", text[end] == ")"."""
    opened, groups = [], []
    for i, char in enumerate(text):
        if char == "(":
            opened.append(i)
        elif char == ")":
            groups.append((opened.pop(), i))
    return groups


def _top_level(text):
    """`text` with every parenthesized group taken out."""
    out, depth = "", 0
    for char in text:
        depth += char == "("
        if depth == 0:
            out += char
        depth -= char == ")"
    return out


def assert_minimal_parentheses(text):
    """Only parentheses DynamoDB needs: calls, IN lists, NOT operands, ORs inside ANDs."""
    for start, end in _groups(text):
        inside = text[start + 1 : end]
        before = text[:start]
        if re.search(r"[a-z_]$", before) or before.endswith(("IN ", "NOT ")):
            # A function call, an IN list or a NOT operand: never wrapped twice.
            assert not (inside.startswith("(") and (0, len(inside) - 1) in _groups(inside)), text
            continue
        # A bare group is an OR made an operand of an AND.
        assert " OR " in _top_level(inside), text
        assert before.endswith("AND ") or text[end + 1 :].startswith(" AND "), text


def assert_placeholders_match(texts, params):
    used_names = {m for text in texts for m in NAME.findall(text)}
    used_values = {m for text in texts for m in VALUE.findall(text)}
    assert used_names == set(params.names)
    assert used_values == set(params.values)
    # Allocated in order, without gaps.
    assert set(params.names) == {f"#n{i}" for i in range(len(params.names))}
    assert set(params.values) == {f":v{i}" for i in range(len(params.values))}
    # One placeholder per name; names are stored names, never raw text in the expression.
    assert len(set(params.names.values())) == len(params.names)
    assert set(params.names.values()) <= STORED_NAMES | MAP_KEYS
    # One placeholder per scalar value.
    scalars = [
        next(iter(av.items()))
        for av in params.values.values()
        if not ({"L", "M", "SS"} & av.keys())
    ]
    assert len(set(scalars)) == len(scalars)


@settings(max_examples=150, deadline=None)
@given(conditions)
def test_condition_trees_compile_to_consistent_text(condition):
    params = Params()
    text = condition.compile(PRODUCTS, params)
    assert_balanced(text)
    assert_placeholders_match([text], params)
    # No Python name or value leaks into the text: only placeholders, keywords, syntax.
    leftover = VALUE.sub("", NAME.sub("", text))
    assert re.fullmatch(r"[A-Za-z_ ()\[\]0-9.,=<>]*", leftover), text
    words = set(re.findall(r"[A-Za-z_]+", leftover))
    assert words <= {
        "AND",
        "OR",
        "NOT",
        "BETWEEN",
        "IN",
        "attribute_exists",
        "attribute_not_exists",
        "begins_with",
        "contains",
    }, text
    # Compiling again gives the same request.
    again = Params()
    assert condition.compile(PRODUCTS, again) == text
    assert (again.names, again.values) == (params.names, params.values)


@settings(max_examples=150, deadline=None)
@given(operator_conditions)
def test_operator_built_trees_have_only_the_parentheses_they_need(condition):
    text = condition.compile(PRODUCTS, Params())
    assert_balanced(text)
    assert_minimal_parentheses(text)


@settings(max_examples=60, deadline=None)
@given(conditions, conditions)
def test_expressions_sharing_params_use_every_placeholder(first, second):
    params = Params()
    texts = [first.compile(PRODUCTS, params), second.compile(PRODUCTS, params)]
    assert_placeholders_match(texts, params)


update_paths = st.sampled_from(
    ["price", "name", "category", "address.city", "address.zip", "stock.a", "stock.b", "tags"]
)


@st.composite
def updates(draw):
    paths = draw(st.lists(update_paths, min_size=1, max_size=6, unique=True))
    set_, remove, add = {}, [], {}
    for path in paths:
        action = draw(st.sampled_from(["set", "set-none", "remove", "add"]))
        if action == "remove":
            remove.append(path)
        elif action == "set-none":
            set_[path] = None
        elif path == "tags":
            value = draw(st.frozensets(texts, max_size=2))
            (add if action == "add" and value else set_)[path] = value
        elif path in ("price", "stock.a", "stock.b"):
            (add if action == "add" else set_)[path] = draw(ints)
        else:
            set_[path] = draw(texts)
    return Update.of(set=set_, remove=remove, add=add)


@settings(max_examples=100, deadline=None)
@given(updates(), conditions)
def test_updates_with_conditions_use_every_placeholder(update, condition):
    params = Params()
    texts = [update.compile(PRODUCTS, params), condition.compile(PRODUCTS, params)]
    assert_placeholders_match(texts, params)
    assert re.fullmatch(r"(SET [^A-Z]+)?( ?REMOVE [^A-Z]+)?( ?ADD [^A-Z]+)?", texts[0]), texts[0]
