"""None and empty sets in ``update(set=...)``, and ``remove=``: stored as a put would.

A put leaves a None (or an empty set) out of the item when its absence reads back as
the same value (no default, a None default, an empty-set default), and stores NULL
otherwise. An update does the same: REMOVE, or ``SET #n = :v`` with ``{"NULL": True}``.
Updates that would leave an item the class cannot read back are refused.
"""

from typing import Any

import attrs
import pytest

from dynamorm_async import Mapper, Update, ValidationError, query
from dynamorm_async.expressions import Params


@attrs.define
class Dims:
    width: int
    unit: str | None = "mm"
    note: str | None = None


@attrs.define
class Thing:
    id: str
    price: int  # no default, not Optional: must always be there
    maybe: int | None  # no default, Optional: absent reads None
    codes: frozenset[str]  # no default, a set: absent reads an empty set
    blob: Any  # no default, Any: absent reads None
    name: str = ""
    n: int | None = 5
    note: str | None = None
    tags: frozenset[str] = frozenset({"default"})
    labels: frozenset[str] = frozenset()
    sizes: set[int] = attrs.Factory(set)
    xs: list[int] | None = attrs.Factory(list)
    meta: dict[str, int] | None = attrs.Factory(dict)
    extra: Any = None
    anything: Any = "x"
    dims: Dims | None = None
    stock: int = 0


THINGS = Mapper(Thing, table="things", partition_key="id", field_names={"n": "num"})
KEY = {"id": {"S": "t1"}}
NULL = {"NULL": True}


def compile_(changes):
    params = Params()
    text = changes.compile(THINGS, params)
    return text, params.names, params.values


# --- what a None or an empty set compiles to -------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("n", None),  # absent would read back 5
        ("tags", frozenset()),  # absent would read back {"default"}
        ("tags", None),
        ("xs", None),  # absent would read back [] (a list factory is not safe to omit)
        ("meta", None),  # likewise {}
        ("anything", None),  # absent would read back "x"
    ],
)
def test_set_none_is_stored_as_null_where_absence_reads_back_another_value(field, value):
    stored = THINGS.stored_name(field)
    assert compile_(Update.of(set={field: value})) == (
        "SET #n0 = :v0",
        {"#n0": stored},
        {":v0": NULL},
    )


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("note", None),  # default None
        ("maybe", None),  # no default: absent reads None
        ("blob", None),  # Any without a default
        ("extra", None),  # Any with a None default
        ("codes", frozenset()),  # a set without a default: absent reads empty
        ("codes", None),
        ("labels", frozenset()),  # an empty-set default
        ("labels", None),
        ("sizes", set()),  # a set factory
        ("dims", None),
    ],
)
def test_set_none_is_a_remove_where_absence_reads_back_the_same(field, value):
    assert compile_(Update.of(set={field: value})) == ("REMOVE #n0", {"#n0": field}, {})


def test_an_empty_list_is_a_value_not_a_none():
    assert compile_(Update.of(set={"xs": []})) == (
        "SET #n0 = :v0",
        {"#n0": "xs"},
        {":v0": {"L": []}},
    )


def test_nested_fields_follow_their_own_defaults():
    assert compile_(Update.of(set={"dims.unit": None, "dims.note": None})) == (
        "SET #n0.#n1 = :v0 REMOVE #n0.#n2",
        {"#n0": "dims", "#n1": "unit", "#n2": "note"},
        {":v0": NULL},
    )


def test_nulls_removes_and_values_in_one_update():
    assert compile_(
        Update.of(set={"n": None, "note": None, "price": 3, "tags": frozenset(), "labels": set()})
    ) == (
        "SET #n0 = :v0, #n2 = :v1, #n3 = :v0 REMOVE #n1, #n4",
        {"#n0": "num", "#n1": "note", "#n2": "price", "#n3": "tags", "#n4": "labels"},
        {":v0": NULL, ":v1": {"N": "3"}},
    )


def test_update_request_with_a_null():
    op = query.update(THINGS, "t1", Update.of(set={"n": None, "note": None}))
    assert op.request("things") == {
        "TableName": "things",
        "Key": KEY,
        "UpdateExpression": "SET #n0 = :v0 REMOVE #n1",
        "ConditionExpression": "attribute_exists(#n2)",
        "ExpressionAttributeNames": {"#n0": "num", "#n1": "note", "#n2": "id"},
        "ExpressionAttributeValues": {":v0": NULL},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


# --- what is refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "type_name"),
    [
        ("price", "int"),  # no default
        ("name", "str"),  # a default, but a str cannot hold None
        ("stock", "int"),
        ("dims.width", "int"),
    ],
)
def test_set_none_on_a_field_that_cannot_hold_none_is_refused(field, type_name):
    with pytest.raises(ValidationError) as info:
        query.update(THINGS, "t1", Update.of(set={field: None}))
    assert info.value.message == f"cannot set {field} to None: its type is {type_name}"


@pytest.mark.parametrize("field", ["price", "dims.width"])
def test_remove_of_a_field_without_default_that_must_be_there_is_refused(field):
    with pytest.raises(ValidationError) as info:
        query.update(THINGS, "t1", Update.of(remove=[field]))
    assert info.value.message == (
        f"cannot remove {field}: it has no default and is not Optional, so the item could "
        "no longer be read"
    )


@pytest.mark.parametrize(
    "field",
    [
        "maybe",  # Optional, no default
        "codes",  # a set, no default
        "blob",  # Any, no default
        "name",  # a default: removing resets it
        "n",
        "stock",
        "tags",
        "xs",
        "dims.unit",
        "dims.note",
    ],
)
def test_remove_of_a_field_that_may_be_absent_is_allowed(field):
    op = query.update(THINGS, "t1", Update.of(remove=[field]))
    request = op.request("things")
    path = ".".join(f"#n{i}" for i in range(field.count(".") + 1))
    assert request["UpdateExpression"] == f"REMOVE {path}"
    stored = [
        THINGS.stored_name(part) if i == 0 else part for i, part in enumerate(field.split("."))
    ]
    assert list(request["ExpressionAttributeNames"].values()) == [*stored, "id"]


# --- what the removed attribute reads back as --------------------------------------------------


def full_item():
    return THINGS.encode(
        Thing(
            "t1",
            price=1,
            maybe=2,
            codes=frozenset({"c"}),
            blob="b",
            name="nm",
            n=7,
            note="x",
            tags=frozenset({"t"}),
            labels=frozenset({"l"}),
            sizes={1},
            xs=[1],
            meta={"a": 1},
            extra="e",
            anything="y",
            dims=Dims(1, "cm", "d"),
            stock=3,
        )
    )


def test_removed_fields_read_back_as_their_default_or_none():
    item = full_item()
    for name in ("maybe", "codes", "blob", "name", "num", "tags", "xs", "anything", "stock"):
        del item[name]
    assert THINGS.decode(item) == Thing(
        "t1",
        price=1,
        maybe=None,
        codes=frozenset(),
        blob=None,
        labels=frozenset({"l"}),
        sizes={1},
        meta={"a": 1},
        note="x",
        extra="e",
        dims=Dims(1, "cm", "d"),
    )


def test_nulls_written_for_none_read_back_none():
    item = full_item()
    for name in ("num", "xs", "meta", "anything"):
        item[name] = NULL
    item["tags"] = NULL  # a set read from NULL is empty
    back = THINGS.decode(item)
    assert (back.n, back.xs, back.meta, back.anything, back.tags) == (
        None,
        None,
        None,
        None,
        frozenset(),
    )
    item["dims"]["M"]["unit"] = NULL
    assert THINGS.decode(item).dims == Dims(1, None, "d")
