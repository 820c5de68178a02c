"""Conditions compiled to DynamoDB expression text, with placeholders and encoded values."""

import datetime as dt
import enum
from typing import Any

import attrs
import pytest

from dynamorm_async import ConversionError, Mapper, MappingError, ValidationError, attr
from dynamorm_async.expressions import (
    And,
    Between,
    Compare,
    Condition,
    Exists,
    Function,
    In,
    Not,
    Or,
    Params,
)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


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
    weight: float = 0.0
    tags: frozenset[str] = frozenset()
    sizes: set[int] = attrs.field(factory=set)
    address: Address | None = None
    history: list[Address] = attrs.field(factory=list)
    stock: dict[str, int] = attrs.field(factory=dict)
    places: dict[str, Address] = attrs.field(factory=dict)
    color: Color = Color.RED
    extra: Any = None
    blob: bytes = b""
    expires: dt.datetime | None = None


PRODUCTS = Mapper(
    Product,
    table="products",
    partition_key="id",
    field_names={"category": "cat", "name": "title"},
    ttl_attribute="expires",
)


def compile_(condition, resolver=PRODUCTS):
    params = Params()
    text = condition.compile(resolver, params)
    return text, params.names, params.values


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


# --- single conditions -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("condition", "text"),
    [
        (attr("price") == 5, "#n0 = :v0"),
        (attr("price") != 5, "#n0 <> :v0"),
        (attr("price") < 5, "#n0 < :v0"),
        (attr("price") <= 5, "#n0 <= :v0"),
        (attr("price") > 5, "#n0 > :v0"),
        (attr("price") >= 5, "#n0 >= :v0"),
    ],
)
def test_compare_operators(condition, text):
    assert compile_(condition) == (text, {"#n0": "price"}, {":v0": {"N": "5"}})


def test_compare_uses_the_stored_name():
    assert compile_(attr("category") == "books") == (
        "#n0 = :v0",
        {"#n0": "cat"},
        {":v0": {"S": "books"}},
    )


def test_compare_encodes_the_value_as_the_field_type():
    assert compile_(attr("weight") == 1.5)[2] == {":v0": {"N": "1.5"}}
    assert compile_(attr("color") == Color.BLUE)[2] == {":v0": {"S": "blue"}}
    assert compile_(attr("blob") == b"\x00\x01")[2] == {":v0": {"B": b"\x00\x01"}}
    assert compile_(attr("tags") == frozenset({"a"}))[2] == {":v0": {"SS": ["a"]}}
    assert compile_(attr("address") == Address("Paris", "75001"))[2] == {
        ":v0": {"M": {"city": {"S": "Paris"}, "zip": {"S": "75001"}}}
    }


def test_equal_to_none_matches_an_absent_or_null_attribute():
    # A None field is left out of the item when written, so "== None" means absent or NULL.
    condition = attr("address") == None  # noqa: E711 - builds a condition
    assert compile_(condition) == (
        "attribute_not_exists(#n0) OR #n0 = :v0",
        {"#n0": "address"},
        {":v0": {"NULL": True}},
    )
    assert condition.precedence() == 1  # an OR


def test_not_equal_to_none_matches_a_present_non_null_attribute():
    condition = attr("address") != None  # noqa: E711 - builds a condition
    assert compile_(condition) == (
        "attribute_exists(#n0) AND #n0 <> :v0",
        {"#n0": "address"},
        {":v0": {"NULL": True}},
    )
    assert condition.precedence() == 2  # an AND


@pytest.mark.parametrize("op", ["__lt__", "__le__", "__gt__", "__ge__"])
def test_ordering_against_none_fails(op):
    symbol = {"__lt__": "<", "__le__": "<=", "__gt__": ">", "__ge__": ">="}[op]
    with pytest.raises(
        ValidationError, match=f"^price {symbol} None: only == and != compare with None$"
    ):
        compile_(getattr(attr("price"), op)(None))


def test_compare_a_path_with_another_path():
    assert compile_(attr("price") > attr("weight")) == (
        "#n0 > #n1",
        {"#n0": "price", "#n1": "weight"},
        {},
    )
    assert compile_(attr("address.city") == attr("history[0].city")) == (
        "#n0.#n1 = #n2[0].#n1",
        {"#n0": "address", "#n1": "city", "#n2": "history"},
        {},
    )


def test_compare_ttl_datetime_is_epoch_seconds():
    when = dt.datetime(2021, 1, 1, tzinfo=dt.timezone.utc)
    assert compile_(attr("expires") < when) == (
        "#n0 < :v0",
        {"#n0": "expires"},
        {":v0": {"N": "1609459200"}},
    )


def test_compare_with_a_value_of_the_wrong_type_fails():
    with pytest.raises(ConversionError):
        compile_(attr("price") == "cheap")
    with pytest.raises(ConversionError):
        compile_(attr("name") == 5)


def test_compare_with_an_empty_set_fails():
    with pytest.raises(ValidationError, match="cannot compare tags with an empty set"):
        compile_(attr("tags") == frozenset())


def test_nested_paths():
    assert compile_(attr("address.city") == "Paris") == (
        "#n0.#n1 = :v0",
        {"#n0": "address", "#n1": "city"},
        {":v0": {"S": "Paris"}},
    )
    assert compile_(attr("history[3].zip") == "75001") == (
        "#n0[3].#n1 = :v0",
        {"#n0": "history", "#n1": "zip"},
        {":v0": {"S": "75001"}},
    )
    assert compile_(attr("stock", "paris") > 0) == (
        "#n0.#n1 > :v0",
        {"#n0": "stock", "#n1": "paris"},
        {":v0": {"N": "0"}},
    )
    assert compile_(attr("places.home.city") == "Oslo") == (
        "#n0.#n1.#n2 = :v0",
        {"#n0": "places", "#n1": "home", "#n2": "city"},
        {":v0": {"S": "Oslo"}},
    )


def test_nested_path_value_type_is_checked():
    with pytest.raises(ConversionError):
        compile_(attr("stock.paris") == "many")


def test_unknown_field_suggests_close_matches():
    with pytest.raises(MappingError, match=r"'prise', which is not a field; did you mean 'price'"):
        compile_(attr("prise") > 1)


def test_unknown_nested_field_suggests_close_matches():
    with pytest.raises(MappingError, match=r"address \(Address\) has no field 'cty'.*'city'"):
        compile_(attr("address.cty") == "x")
    with pytest.raises(MappingError, match=r"has no field 'zp'.*'zip'"):
        compile_(attr("history[0].zp") == "x")


def test_stored_name_is_not_a_python_name():
    # "cat" is how category is stored; expressions take Python names only.
    with pytest.raises(MappingError, match="'cat', which is not a field"):
        compile_(attr("cat") == "x")


def test_exists_and_not_exists():
    assert compile_(attr("address.city").exists()) == (
        "attribute_exists(#n0.#n1)",
        {"#n0": "address", "#n1": "city"},
        {},
    )
    assert compile_(attr("id").not_exists()) == ("attribute_not_exists(#n0)", {"#n0": "id"}, {})
    assert isinstance(attr("id").exists(), Exists)


def test_begins_with():
    condition = attr("category").begins_with("bo")
    assert isinstance(condition, Function)
    assert compile_(condition) == ("begins_with(#n0, :v0)", {"#n0": "cat"}, {":v0": {"S": "bo"}})


def test_contains_encodes_an_element_of_a_set_or_list():
    assert compile_(attr("tags").contains("red")) == (
        "contains(#n0, :v0)",
        {"#n0": "tags"},
        {":v0": {"S": "red"}},
    )
    assert compile_(attr("sizes").contains(42)) == (
        "contains(#n0, :v0)",
        {"#n0": "sizes"},
        {":v0": {"N": "42"}},
    )
    assert compile_(attr("history").contains(Address("Rome")))[2] == {
        ":v0": {"M": {"city": {"S": "Rome"}, "zip": {"S": ""}}}
    }


def test_contains_a_substring():
    assert compile_(attr("name").contains("DD")) == (
        "contains(#n0, :v0)",
        {"#n0": "title"},
        {":v0": {"S": "DD"}},
    )


def test_contains_element_of_the_wrong_type_fails():
    with pytest.raises(ConversionError):
        compile_(attr("sizes").contains("big"))


def test_between():
    condition = attr("price").between(1, 10)
    assert isinstance(condition, Between)
    assert compile_(condition) == (
        "#n0 BETWEEN :v0 AND :v1",
        {"#n0": "price"},
        {":v0": {"N": "1"}, ":v1": {"N": "10"}},
    )


def test_between_equal_bounds_share_one_value():
    assert compile_(attr("price").between(3, 3)) == (
        "#n0 BETWEEN :v0 AND :v0",
        {"#n0": "price"},
        {":v0": {"N": "3"}},
    )


def test_is_in():
    condition = attr("category").is_in(["a", "b", "c"])
    assert isinstance(condition, In)
    assert compile_(condition) == (
        "#n0 IN (:v0, :v1, :v2)",
        {"#n0": "cat"},
        {":v0": {"S": "a"}, ":v1": {"S": "b"}, ":v2": {"S": "c"}},
    )


def test_is_in_accepts_any_iterable():
    assert compile_(attr("price").is_in(x for x in (1, 2)))[0] == "#n0 IN (:v0, :v1)"
    assert compile_(attr("price").is_in(range(3)))[0] == "#n0 IN (:v0, :v1, :v2)"


def test_is_in_needs_a_value():
    with pytest.raises(ValidationError, match=r"price.is_in\(\) needs at least one value"):
        compile_(attr("price").is_in([]))


def test_is_in_of_exactly_100_values_is_one_in():
    text, names, values = compile_(attr("price").is_in(range(100)))
    assert text == "#n0 IN (" + ", ".join(f":v{i}" for i in range(100)) + ")"
    assert names == {"#n0": "price"}
    assert values == {f":v{i}": {"N": str(i)} for i in range(100)}


def test_is_in_past_100_values_is_an_or_of_ins():
    text, names, values = compile_(attr("price").is_in(range(250)))
    chunks = [range(100), range(100, 200), range(200, 250)]
    ins = ["#n0 IN (" + ", ".join(f":v{i}" for i in chunk) + ")" for chunk in chunks]
    assert text == " OR ".join(ins)
    assert names == {"#n0": "price"}
    assert values == {f":v{i}": {"N": str(i)} for i in range(250)}


def test_is_in_of_101_values():
    text, _, values = compile_(attr("price").is_in(range(101)))
    first = "#n0 IN (" + ", ".join(f":v{i}" for i in range(100)) + ")"
    assert text == f"{first} OR #n0 IN (:v100)"
    assert len(values) == 101


def test_is_in_precedence_depends_on_the_number_of_values():
    assert attr("price").is_in(range(100)).precedence() == 4  # one IN: a single test
    assert attr("price").is_in(range(101)).precedence() == 1  # an OR of INs


def test_is_in_past_100_values_is_parenthesized_inside_an_and():
    condition = attr("price").is_in(range(101)) & (attr("name") == "x")
    first = "#n0 IN (" + ", ".join(f":v{i}" for i in range(100)) + ")"
    assert compile_(condition)[0] == f"({first} OR #n0 IN (:v100)) AND #n1 = :v101"
    # A single IN binds tightly and needs no parentheses.
    condition = attr("price").is_in([1, 2]) & (attr("name") == "x")
    assert compile_(condition)[0] == "#n0 IN (:v0, :v1) AND #n1 = :v2"


# --- combining -----------------------------------------------------------------------------


def test_and_or_not_text():
    a = attr("price") > 5
    b = attr("category") == "books"
    c = attr("name").exists()
    assert compile_(a & b) == (
        "#n0 > :v0 AND #n1 = :v1",
        {"#n0": "price", "#n1": "cat"},
        {":v0": {"N": "5"}, ":v1": {"S": "books"}},
    )
    assert compile_(a | b)[0] == "#n0 > :v0 OR #n1 = :v1"
    assert compile_(~a)[0] == "NOT (#n0 > :v0)"
    assert compile_(a & (b | c))[0] == "#n0 > :v0 AND (#n1 = :v1 OR attribute_exists(#n2))"
    assert compile_((a | b) & ~c)[0] == "(#n0 > :v0 OR #n1 = :v1) AND NOT (attribute_exists(#n2))"
    assert compile_(~(a & b))[0] == "NOT (#n0 > :v0 AND #n1 = :v1)"
    assert compile_(~~a)[0] == "NOT (NOT (#n0 > :v0))"


def test_and_flattens():
    a, b, c, d = (attr("price") == i for i in range(4))
    combined = (a & b) & (c & d)
    assert isinstance(combined, And)
    assert combined.conditions == (a, b, c, d)
    assert (a & b & c).conditions == (a, b, c)
    assert compile_(combined)[0] == "#n0 = :v0 AND #n0 = :v1 AND #n0 = :v2 AND #n0 = :v3"


def test_or_flattens():
    a, b, c, d = (attr("price") == i for i in range(4))
    combined = (a | b) | (c | d)
    assert isinstance(combined, Or)
    assert combined.conditions == (a, b, c, d)


def test_and_does_not_flatten_or_and_vice_versa():
    a, b, c, d = (attr("price") == i for i in range(4))
    mixed = (a | b) & (c | d)
    assert isinstance(mixed, And)
    assert len(mixed.conditions) == 2
    assert all(isinstance(part, Or) for part in mixed.conditions)
    mixed = (a & b) | (c & d)
    assert isinstance(mixed, Or)
    assert len(mixed.conditions) == 2


def test_not_wraps():
    a = attr("price") == 1
    assert isinstance(~a, Not)
    assert (~a).condition is a


def test_conditions_built_directly_compile_like_operators():
    a = attr("price") == 1
    b = attr("price") == 2
    assert compile_(And((a, b)))[0] == compile_(a & b)[0]
    assert compile_(Or((a, b)))[0] == compile_(a | b)[0]
    assert compile_(Not(a))[0] == compile_(~a)[0]
    assert compile_(Compare(attr("price"), ">", 1))[0] == "#n0 > :v0"


def test_combining_with_a_non_condition_fails():
    a = attr("price") == 1
    with pytest.raises(ValidationError, match="cannot combine a condition with 5"):
        a & 5
    with pytest.raises(ValidationError, match="cannot combine"):
        a | "price > 1"
    with pytest.raises(ValidationError, match="cannot combine"):
        a & attr("price")  # a path is not a condition


def test_conditions_have_no_truth_value():
    a = attr("price") > 1
    b = attr("price") < 9
    with pytest.raises(TypeError, match="no truth value"):
        bool(a)
    with pytest.raises(TypeError, match="no truth value"):
        a and b  # noqa: B018 - the mistake this guards against
    with pytest.raises(TypeError, match="no truth value"):
        not a  # noqa: B018
    with pytest.raises(TypeError, match="no truth value"):
        _ = 1 < attr("price") < 9  # a chained comparison calls bool() on the first part


def test_every_kind_of_condition_is_a_condition():
    path = attr("price")
    for condition in (
        path == 1,
        path.exists(),
        path.between(1, 2),
        path.is_in([1]),
        attr("name").begins_with("a"),
        (path == 1) & (path == 2),
        (path == 1) | (path == 2),
        ~(path == 1),
    ):
        assert isinstance(condition, Condition)


# --- precedence and parentheses -------------------------------------------------------------


def test_precedence_of_each_kind_of_condition():
    a = attr("price") == 1
    b = attr("price") == 2
    assert (a | b).precedence() == 1
    assert (a & b).precedence() == 2
    assert (~a).precedence() == 3
    for single in (
        a,
        attr("price") < 1,
        attr("price").exists(),
        attr("price").not_exists(),
        attr("price").between(1, 2),
        attr("price").is_in([1, 2]),
        attr("name").begins_with("a"),
        attr("tags").contains("a"),
        attr("price") > attr("weight"),
    ):
        assert single.precedence() == 4, single


def test_a_single_test_has_no_parentheses():
    assert compile_(attr("price") > 5)[0] == "#n0 > :v0"
    assert compile_(attr("price").between(1, 2))[0] == "#n0 BETWEEN :v0 AND :v1"
    assert compile_(attr("name").exists())[0] == "attribute_exists(#n0)"


def test_and_parenthesizes_only_children_that_bind_looser():
    a, b, c = (attr("price") == i for i in range(3))
    assert compile_((a | b) & c)[0] == "(#n0 = :v0 OR #n0 = :v1) AND #n0 = :v2"
    assert compile_(c & (a | b))[0] == "#n0 = :v0 AND (#n0 = :v1 OR #n0 = :v2)"
    assert compile_((a | b) & (b | c))[0] == "(#n0 = :v0 OR #n0 = :v1) AND (#n0 = :v1 OR #n0 = :v2)"
    # NOT and single tests bind tighter than AND.
    assert compile_(~a & attr("name").exists())[0] == "NOT (#n0 = :v0) AND attribute_exists(#n1)"


def test_or_never_parenthesizes_its_children():
    a, b, c, d = (attr("price") == i for i in range(4))
    assert compile_((a & b) | (c & d))[0] == "#n0 = :v0 AND #n0 = :v1 OR #n0 = :v2 AND #n0 = :v3"
    assert compile_(a | ~b)[0] == "#n0 = :v0 OR NOT (#n0 = :v1)"
    assert compile_(Or((a, Or((b, c)))))[0] == "#n0 = :v0 OR #n0 = :v1 OR #n0 = :v2"


def test_not_always_parenthesizes_its_child():
    a, b = (attr("price") == i for i in range(2))
    assert compile_(~attr("name").exists())[0] == "NOT (attribute_exists(#n0))"
    assert compile_(~(a | b))[0] == "NOT (#n0 = :v0 OR #n0 = :v1)"
    assert compile_(~(a & b))[0] == "NOT (#n0 = :v0 AND #n0 = :v1)"


def test_comparisons_with_none_are_parenthesized_by_precedence():
    is_none = attr("address") == None  # noqa: E711 - builds a condition
    not_none = attr("address") != None  # noqa: E711 - builds a condition
    price = attr("price") > 1
    # "== None" is an OR: wrapped inside an AND, not inside an OR.
    assert compile_(price & is_none)[0] == "#n0 > :v0 AND (attribute_not_exists(#n1) OR #n1 = :v1)"
    assert compile_(price | is_none)[0] == "#n0 > :v0 OR attribute_not_exists(#n1) OR #n1 = :v1"
    # "!= None" is an AND: never wrapped by AND or OR.
    assert compile_(price & not_none)[0] == "#n0 > :v0 AND attribute_exists(#n1) AND #n1 <> :v1"
    assert compile_(price | not_none)[0] == "#n0 > :v0 OR attribute_exists(#n1) AND #n1 <> :v1"
    assert compile_(~is_none)[0] == "NOT (attribute_not_exists(#n0) OR #n0 = :v0)"


@pytest.mark.parametrize(
    "condition",
    [
        (attr("price") > 1) & ((attr("name") == "a") | attr("tags").contains("x")),
        ((attr("price") > 1) | (attr("price") < 0)) & ~attr("name").exists(),
        ~((attr("price") > 1) & (attr("name") == "a")),
        ~~~(attr("price") > 1),
        ~((attr("price") > 1) | ~(attr("name") == "a")),
        ((attr("price") == 1) & (attr("name") == "a")) | ((attr("price") == 2) & ~(attr("x") == 1)),
        (attr("note") == None) & (attr("note") != None) & attr("price").is_in(range(150)),  # noqa: E711
        ~(((attr("price") > 1) & (attr("name") == "a")) | (attr("weight") < 2)),
    ],
)
def test_nested_trees_never_compile_to_double_parentheses(condition):
    text = compile_(condition, EchoResolver())[0]
    assert "((" not in text, text


# --- placeholders ------------------------------------------------------------------------


def test_names_and_values_are_deduplicated():
    condition = (
        (attr("price") > 5)
        & (attr("price") < 50)
        & (attr("stock.price") == 5)
        & (attr("category") == "5")
        & (attr("name") == "5")
    )
    assert compile_(condition) == (
        "#n0 > :v0 AND #n0 < :v1 AND #n1.#n0 = :v0 AND #n2 = :v2 AND #n3 = :v2",
        {"#n0": "price", "#n1": "stock", "#n2": "cat", "#n3": "title"},
        {":v0": {"N": "5"}, ":v1": {"N": "50"}, ":v2": {"S": "5"}},
    )


def test_same_text_of_different_types_gets_different_values():
    text, _, values = compile_((attr("price") == 1) | (attr("name") == "1"))
    assert text == "#n0 = :v0 OR #n1 = :v1"
    assert values == {":v0": {"N": "1"}, ":v1": {"S": "1"}}


def test_is_in_repeated_value_shares_a_placeholder():
    text, _, values = compile_(attr("price").is_in([1, 2, 1]))
    assert text == "#n0 IN (:v0, :v1, :v0)"
    assert values == {":v0": {"N": "1"}, ":v1": {"N": "2"}}


def test_one_params_is_shared_by_expressions_of_a_request():
    params = Params()
    first = (attr("price") > 5).compile(PRODUCTS, params)
    second = (attr("price") == 5).compile(PRODUCTS, params)
    assert (first, second) == ("#n0 > :v0", "#n0 = :v0")
    assert params.request_fields() == {
        "ExpressionAttributeNames": {"#n0": "price"},
        "ExpressionAttributeValues": {":v0": {"N": "5"}},
    }


def test_params_path_and_value():
    params = Params()
    assert params.path(("a", 0, "b", 1, 2)) == "#n0[0].#n1[1][2]"
    assert params.name("a") == "#n0"
    assert params.name("select") == "#n2"  # reserved words are safe behind placeholders
    assert params.names == {"#n0": "a", "#n1": "b", "#n2": "select"}
    assert params.value({"S": "x"}) == ":v0"
    assert params.value({"S": "x"}) == ":v0"
    assert params.value({"B": b"x"}) == ":v1"
    assert params.value({"B": b"x"}) == ":v1"
    assert params.value({"BOOL": True}) == ":v2"
    assert params.value({"N": "1"}) == ":v3"
    assert params.value({"NULL": True}) == ":v4"
    assert params.value({"NULL": True}) == ":v4"
    assert params.value({"L": []}) == ":v5"
    assert params.values == {
        ":v0": {"S": "x"},
        ":v1": {"B": b"x"},
        ":v2": {"BOOL": True},
        ":v3": {"N": "1"},
        ":v4": {"NULL": True},
        ":v5": {"L": []},
    }


def test_params_request_fields_leave_out_empty_parts():
    params = Params()
    assert params.request_fields() == {}
    params.name("a")
    assert params.request_fields() == {"ExpressionAttributeNames": {"#n0": "a"}}
    params = Params()
    params.value({"S": "v"})
    assert params.request_fields() == {"ExpressionAttributeValues": {":v0": {"S": "v"}}}


def test_any_resolver_works():
    condition = (attr("a.b") == 1) & attr("c").begins_with("x") & ~attr("d").exists()
    assert compile_(condition, EchoResolver()) == (
        "#n0.#n1 = :v0 AND begins_with(#n2, :v1) AND NOT (attribute_exists(#n3))",
        {"#n0": "a", "#n1": "b", "#n2": "c", "#n3": "d"},
        {":v0": {"N": "1"}, ":v1": {"S": "x"}},
    )


def test_a_function_needs_a_value():
    with pytest.raises(ValidationError, match="empty set"):
        compile_(attr("a").contains(frozenset()), EchoResolver())
    with pytest.raises(ValidationError, match="needs a value"):
        compile_(attr("a").contains(None), EchoResolver())


def test_conditions_are_reusable():
    condition = (attr("price") > 5) & (attr("category") == "books")
    assert compile_(condition) == compile_(condition)
