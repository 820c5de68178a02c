"""`generate_model`: the source of an attrs class and a Mapper from a table description
and a sample of raw items.

What round-trips, precisely: for every sampled item, ``mapper.encode(mapper.decode(item))``
equals the item after `expected`: top-level NULL attributes are left out (a None field
is not stored) and the elements of SS/NS/BS sets are compared as sets (their order is
not kept, DynamoDB does not keep it either). Everything else, NULLs inside lists and
maps included, comes back as it was; numbers come back as the same text when they are
canonical (written as ``str(int)`` or ``str(Decimal)`` write them, not a zero with a
fraction), which is what DynamoDB returns. A TTL attribute comes back as the same
number of epoch seconds.
"""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import os
import shutil
import subprocess
import sys
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dynamorm_async
from dynamorm_async import GlobalIndex, LocalIndex, Mapper, Projection
from dynamorm_async.cli._generate import generate_model
from dynamorm_async.errors import ValidationError

# --- helpers ---------------------------------------------------------------------------


def describe(
    name: str = "things",
    keys: tuple[tuple[str, str], ...] = (("id", "S"),),
    *,
    definitions: tuple[tuple[str, str], ...] = (),
    gsis: list[dict[str, Any]] | None = None,
    lsis: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """A DescribeTable ``Table``: `keys` are (name, type), partition key first."""
    table: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": key, "KeyType": role}
            for (key, _), role in zip(keys, ("HASH", "RANGE"), strict=False)
        ],
        "AttributeDefinitions": [
            {"AttributeName": n, "AttributeType": t} for n, t in (*keys, *definitions)
        ],
        "TableStatus": "ACTIVE",
        "ItemCount": 0,
    }
    if gsis is not None:
        table["GlobalSecondaryIndexes"] = gsis
    if lsis is not None:
        table["LocalSecondaryIndexes"] = lsis
    return table


def index(name: str, *keys: str, projection: str = "ALL", include: tuple[str, ...] = ()):
    """An index description (GSI or LSI) with `keys` (partition[, sort])."""
    projected: dict[str, Any] = {"ProjectionType": projection}
    if include:
        projected["NonKeyAttributes"] = list(include)
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": k, "KeyType": role}
            for k, role in zip(keys, ("HASH", "RANGE"), strict=False)
        ],
        "Projection": projected,
        "IndexStatus": "ACTIVE",
    }


def load(source: str, directory: Path) -> Any:
    """Write `source` to a file in `directory` and import it as a fresh module."""
    name = f"generated_{uuid.uuid4().hex}"
    path = directory / f"{name}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # annotations are resolved through sys.modules
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def mapper_of(module: Any) -> Mapper[Any]:
    (found,) = [v for v in vars(module).values() if isinstance(v, Mapper)]
    return found


def _sets_as_sets(av: dict[str, Any]) -> Any:
    ((tag, value),) = av.items()
    if tag in ("SS", "NS", "BS"):
        return (tag, frozenset(value))
    if tag == "L":
        return ("L", [_sets_as_sets(v) for v in value])
    if tag == "M":
        return ("M", {k: _sets_as_sets(v) for k, v in value.items()})
    return (tag, value)


def comparable(item: dict[str, Any]) -> dict[str, Any]:
    """`item` with set elements unordered, for comparison."""
    return {k: _sets_as_sets(v) for k, v in item.items()}


def expected(item: dict[str, Any]) -> dict[str, Any]:
    """What `item` writes back as: without its top-level NULL attributes."""
    return comparable({k: v for k, v in item.items() if "NULL" not in v})


def assert_round_trips(mapper: Mapper[Any], items: list[dict[str, Any]]) -> list[Any]:
    """Every item decodes, and encodes back to itself (see the module docstring)."""
    objects = []
    for item in items:
        obj = mapper.decode(copy.deepcopy(item))
        assert comparable(mapper.encode(obj)) == expected(item), item
        objects.append(obj)
    return objects


def class_lines(source: str) -> dict[str, str]:
    """The field lines of the generated class, by field name: ``"str | None = None"``."""
    body = source.split("\nclass ", 1)[1].split("\n\n\n", 1)[0]
    fields = {}
    for line in body.splitlines()[3:]:
        name, _, rest = line.strip().partition(": ")
        fields[name] = rest
    return fields


def field_of(values: list[dict[str, Any] | None]) -> str:
    """The generated field line of attribute ``x`` sampled as `values` (None: absent)."""
    items = [
        {"id": {"S": f"i{n}"}, **({} if v is None else {"x": v})} for n, v in enumerate(values)
    ]
    return class_lines(generate_model(describe(), items))["x"]


# --- types ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ([{"S": "a"}], "str | None = None"),
        ([{"S": ""}], "str | None = None"),
        ([{"N": "1"}, {"N": "-20"}, {"N": "0"}], "int | None = None"),
        ([{"N": "1"}, {"N": "1.5"}], "Decimal | None = None"),
        ([{"N": "007"}], "Decimal | None = None"),  # int would write it back as "7"
        ([{"N": "1E+3"}], "Decimal | None = None"),
        ([{"N": "-0"}], "Decimal | None = None"),
        ([{"B": b"\x00"}], "bytes | None = None"),
        ([{"BOOL": True}, {"BOOL": False}], "bool | None = None"),
        ([{"SS": ["a", "b"]}], "frozenset[str] = frozenset()"),
        ([{"NS": ["1", "2"]}], "frozenset[int] = frozenset()"),
        ([{"NS": ["1", "2.5"]}, {"NS": ["3"]}], "frozenset[Decimal] = frozenset()"),
        ([{"BS": [b"a"]}], "frozenset[bytes] = frozenset()"),
        ([{"L": [{"S": "a"}, {"N": "1"}]}], "list[Any] | None = None"),
        ([{"M": {"k": {"S": "v"}}}], "dict[str, Any] | None = None"),
        ([{"NULL": True}], "Any | None = None"),
        ([{"S": "a"}, {"N": "1"}], "Any | None = None"),
        ([{"SS": ["a"]}, {"NS": ["1"]}], "Any | None = None"),
        ([{"L": []}, {"M": {}}], "Any | None = None"),
    ],
)
def test_type_of_each_wire_type(values, line):
    assert field_of(values) == line


@pytest.mark.parametrize(
    ("values", "line"),
    [
        ([{"S": "a"}, {"NULL": True}], "str | None = None"),
        ([{"N": "2"}, None], "int | None = None"),
        ([{"SS": ["a"]}, {"NULL": True}, None], "frozenset[str] = frozenset()"),
        ([{"BOOL": True}, {"BOOL": True}], "bool | None = None"),  # present in every item
    ],
)
def test_non_key_attributes_are_always_optional(values, line):
    assert field_of(values) == line


def test_numbers_of_lists_and_maps_do_not_decide_the_number_type():
    assert field_of([{"N": "1"}, {"L": [{"N": "1.5"}]}]) == "Any | None = None"
    assert field_of([{"N": "1"}, {"N": "2"}]) == "int | None = None"


@pytest.mark.parametrize(
    ("kind", "values", "annotation"),
    [
        ("S", ["a"], "str"),
        ("N", ["1", "2"], "int"),
        ("N", [], "int"),
        ("N", ["1", "2.5"], "Decimal"),
        ("B", [b"k"], "bytes"),
    ],
)
def test_key_types_come_from_attribute_definitions(kind, values, annotation):
    items = [{"pk": {kind: v}} for v in values]
    source = generate_model(describe(keys=(("pk", kind),)), items)
    assert class_lines(source)["pk"] == annotation  # required: no default


def test_keys_come_first_then_the_rest_by_name():
    items = [
        {"b": {"S": "x"}, "z": {"N": "1"}, "a": {"S": "p"}, "m": {"S": "y"}, "c": {"S": "k"}},
    ]
    source = generate_model(describe(keys=(("z", "N"), ("m", "S"))), items)
    assert list(class_lines(source)) == ["z", "m", "a", "b", "c"]
    assert 'partition_key="z",\n    sort_key="m",' in source


def test_output_does_not_depend_on_the_order_of_items_attributes_or_indexes():
    gsis = [index("g-one", "a"), index("g-two", "b")]
    table = describe(definitions=(("a", "S"), ("b", "S")), gsis=gsis)
    items = [
        {"id": {"S": "1"}, "a": {"S": "x"}, "n": {"N": "1"}},
        {"b": {"S": "y"}, "n": {"N": "1.5"}, "id": {"S": "2"}},
    ]
    first = generate_model(table, items)
    again = generate_model(
        {**table, "GlobalSecondaryIndexes": gsis[::-1]},
        [dict(reversed(list(item.items()))) for item in reversed(items)],
    )
    assert first == again
    assert first.index('"g-one"') < first.index('"g-two"')


# --- names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stored", "name"),
    [
        ("my-attr", "my_attr"),
        ("class", "class_"),
        ("None", "none"),
        ("_x", "x"),
        ("__typename", "typename"),
        ("1abc", "attr_1abc"),
        ("a b.c", "a_b_c"),
        ("userId-2", "user_id_2"),
        ("str", "str_"),
        ("Any", "any"),
        ("self", "self_"),
        ("datetime", "datetime_"),
        ("_class", "class_"),
        ("héllo", "h_llo"),
        ("\ufb01eld", "eld"),  # "ﬁeld" is an identifier, but Python reads it as "field"
        ("---", "attr"),
        ("日本", "attr"),
    ],
)
def test_unusable_stored_names_get_a_snake_case_field_name(stored, name, tmp_path):
    item = {"id": {"S": "a"}, stored: {"S": "v"}}
    source = generate_model(describe(), [item])
    assert name in class_lines(source)
    assert f'field_names={{"{name}": ' in source
    mapper = mapper_of(load(source, tmp_path))
    assert mapper.stored_name(name) == stored
    assert_round_trips(mapper, [item])


@pytest.mark.parametrize("stored", ["userId", "name", "match", "type", "x1"])
def test_usable_names_are_kept_without_field_names(stored):
    source = generate_model(describe(), [{"id": {"S": "a"}, stored: {"S": "v"}}])
    assert stored in class_lines(source)
    assert "field_names" not in source


def test_collisions_get_a_numeric_suffix(tmp_path):
    item = {
        "id": {"S": "a"},
        "my_attr": {"S": "1"},
        "my-attr": {"S": "2"},
        "my.attr": {"S": "3"},
        "_my_attr": {"S": "4"},
        "x": {"S": "5"},
        "_x": {"S": "6"},
        "class": {"S": "7"},
        "class_": {"S": "8"},
    }
    source = generate_model(describe(), [item])
    mapper = mapper_of(load(source, tmp_path))
    stored = {name: info.stored for name, info in mapper.fields.items()}
    assert stored == {
        "id": "id",
        "class_": "class_",
        "class_2": "class",
        "my_attr": "my_attr",
        "my_attr_2": "_my_attr",
        "my_attr_3": "my-attr",
        "my_attr_4": "my.attr",
        "x": "x",
        "x_2": "_x",
    }
    assert_round_trips(mapper, [item])


def test_renamed_keys_are_named_by_their_field_names(tmp_path):
    table = describe(keys=(("order-id", "S"), ("line#", "N")))
    item = {"order-id": {"S": "o1"}, "line#": {"N": "3"}}
    source = generate_model(table, [item])
    assert 'partition_key="order_id",\n    sort_key="line",' in source
    assert 'field_names={"order_id": "order-id", "line": "line#"},' in source
    mapper = mapper_of(load(source, tmp_path))
    assert mapper.key(("o1", 3)) == item


@pytest.mark.parametrize(
    ("table", "cls", "variable"),
    [
        ("order-items", "OrderItems", "order_items"),
        ("OrderItems", "OrderItems", "order_items"),
        ("prod.orders_v2", "ProdOrdersV2", "prod_orders_v2"),
        ("HTTPLogs", "HTTPLogs", "http_logs"),
        ("2024-orders", "Table2024Orders", "table_2024_orders"),
        ("any", "AnyModel", "any"),
        ("str", "Str", "str_mapper"),
        ("___", "Table", "table"),
    ],
)
def test_default_class_and_mapper_names(table, cls, variable, tmp_path):
    source = generate_model(describe(table), [])
    assert f"\nclass {cls}:\n" in source
    assert f"\n{variable} = Mapper(\n    {cls},\n    table={table!r},".replace("'", '"') in source
    module = load(source, tmp_path)
    assert getattr(module, variable).cls is getattr(module, cls)


def test_given_class_and_mapper_names(tmp_path):
    source = generate_model(describe(), [], class_name="Thing", mapper_name="things_v1")
    module = load(source, tmp_path)
    assert module.things_v1.cls is module.Thing


@pytest.mark.parametrize(
    "kwargs",
    [
        {"class_name": "not valid"},
        {"class_name": "class"},
        {"class_name": "Any"},
        {"class_name": "_Private"},
        {"mapper_name": "1x"},
        {"mapper_name": "attrs"},
        {"mapper_name": "Things", "class_name": "Things"},
    ],
)
def test_unusable_given_names_are_refused(kwargs):
    with pytest.raises(ValidationError) as info:
        generate_model(describe(), [], **kwargs)
    assert info.value.table == "things"
    assert info.value.operation == "generate model"


# --- indexes ---------------------------------------------------------------------------------


def orders_table() -> dict[str, Any]:
    return describe(
        "orders",
        (("customer", "S"), ("number", "N")),
        definitions=(("status", "S"), ("placed-at", "S"), ("total", "N"), ("ref", "B")),
        gsis=[
            index("by-status", "status", "placed-at"),
            index("by-total", "status", "total", projection="INCLUDE", include=("note", "_x")),
            index("by-ref", "ref", projection="KEYS_ONLY"),
            index("by-number", "number"),
        ],
        lsis=[index("by-placed", "customer", "placed-at", projection="KEYS_ONLY")],
    )


ORDER_ITEMS = [
    {
        "customer": {"S": "c1"},
        "number": {"N": "1"},
        "status": {"S": "open"},
        "placed-at": {"S": "2024-05-01T09:30:15.000000Z"},
        "total": {"N": "19.90"},
        "ref": {"B": b"\x01\x02"},
        "note": {"S": "hello"},
        "_x": {"N": "3"},
    },
    {"customer": {"S": "c1"}, "number": {"N": "2"}, "note": {"NULL": True}},
    {"customer": {"S": "c2"}, "number": {"N": "1"}, "status": {"S": "done"}},
]


def test_indexes_with_their_keys_and_projections(tmp_path):
    source = generate_model(orders_table(), ORDER_ITEMS)
    assert class_lines(source) == {
        "customer": "str",
        "number": "int",
        "note": "str | None = None",
        "placed_at": "str | None = None",
        "ref": "bytes | None = None",
        "status": "str | None = None",
        "total": "Decimal | None = None",
        "x": "int | None = None",
    }
    assert (
        "    indexes=[\n"
        '        GlobalIndex("by-number", partition_key="number", projection="ALL"),\n'
        '        GlobalIndex("by-ref", partition_key="ref", projection="KEYS_ONLY"),\n'
        "        GlobalIndex(\n"
        '            "by-status", partition_key="status", sort_key="placed_at", projection="ALL"\n'
        "        ),\n"
        "        GlobalIndex(\n"
        '            "by-total",\n'
        '            partition_key="status",\n'
        '            sort_key="total",\n'
        '            projection=["note", "x"],\n'
        "        ),\n"
        '        LocalIndex("by-placed", sort_key="placed_at", projection="KEYS_ONLY"),\n'
        "    ],\n"
    ) in source
    mapper = mapper_of(load(source, tmp_path))
    assert mapper.indexes == {
        "by-number": GlobalIndex("by-number", "number"),
        "by-ref": GlobalIndex("by-ref", "ref", projection="KEYS_ONLY"),
        "by-status": GlobalIndex("by-status", "status", "placed_at"),
        "by-total": GlobalIndex("by-total", "status", "total", Projection.include("note", "x")),
        "by-placed": LocalIndex("by-placed", "placed_at", projection="KEYS_ONLY"),
    }
    assert mapper.key_attributes == {
        "customer": "S",
        "number": "N",
        "status": "S",
        "placed-at": "S",
        "total": "N",
        "ref": "B",
    }
    objects = assert_round_trips(mapper, ORDER_ITEMS)
    assert objects[2].status == "done"
    assert objects[2].total is None


def test_included_attributes_missing_from_the_sample_become_any_fields():
    table = describe(
        definitions=(("g", "S"),),
        gsis=[index("by-g", "g", projection="INCLUDE", include=("never-seen",))],
    )
    source = generate_model(table, [])
    assert class_lines(source)["never_seen"] == "Any | None = None"
    assert 'projection=["never_seen"]' in source


def test_index_key_types_come_from_definitions_not_the_sample():
    table = describe(definitions=(("g", "N"),), gsis=[index("by-g", "g")])
    source = generate_model(table, [{"id": {"S": "a"}, "g": {"N": "2.5"}}])
    assert class_lines(source)["g"] == "Decimal | None = None"
    assert class_lines(generate_model(table, []))["g"] == "int | None = None"


def test_imports_only_what_is_used():
    source = generate_model(describe(), [{"id": {"S": "a"}, "n": {"N": "1"}}])
    assert "from __future__ import annotations\n\nimport attrs\n" in source
    assert "from dynamorm_async import Mapper\n" in source
    for unused in ("Decimal", "Any", "datetime", "GlobalIndex", "LocalIndex"):
        assert unused not in source.split("@attrs.define")[0]
    source = generate_model(
        describe(keys=(("id", "S"), ("n", "N")), lsis=[index("lsi", "id", "n")]), []
    )
    assert "from dynamorm_async import LocalIndex, Mapper\n" in source


def test_module_docstring_names_the_table_and_the_sample():
    source = generate_model(describe("order-items"), [{"id": {"S": "a"}}])
    assert source.startswith(
        '"""Generated by `dynamorm generate model` from table \'order-items\'.\n'
    )
    assert "a sample of 1 item." in source
    assert "a sample of 0 items." in generate_model(describe(), [])


# --- TTL ----------------------------------------------------------------------------------------


def test_ttl_attribute_is_an_optional_datetime(tmp_path):
    items = [
        {"id": {"S": "a"}, "expires-at": {"N": "1700000000"}},
        {"id": {"S": "b"}, "expires-at": {"N": "1700000000.25"}},
        {"id": {"S": "c"}, "expires-at": {"NULL": True}},
        {"id": {"S": "d"}},
    ]
    source = generate_model(describe(), items, ttl_attribute="expires-at")
    assert "\nimport datetime\n" in source
    assert class_lines(source)["expires_at"] == "datetime.datetime | None = None"
    assert '    ttl_attribute="expires_at",\n)\n' in source
    mapper = mapper_of(load(source, tmp_path))
    assert mapper.ttl_attribute == "expires_at"
    a, b, c, d = (mapper.decode(copy.deepcopy(item)) for item in items)
    assert a.expires_at == dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=dt.timezone.utc)
    assert b.expires_at == a.expires_at + dt.timedelta(seconds=0.25)
    assert c.expires_at is None
    assert d.expires_at is None
    assert mapper.encode(a) == items[0]
    # The same number, written with the microseconds' six digits.
    assert mapper.encode(b)["expires-at"] == {"N": "1700000000.250000"}
    assert mapper.encode(c) == {"id": {"S": "c"}}
    assert mapper.encode(d) == items[3]


def test_ttl_attribute_used_as_the_sort_key(tmp_path):
    table = describe(keys=(("id", "S"), ("exp", "N")))
    item = {"id": {"S": "a"}, "exp": {"N": "1700000000"}}
    source = generate_model(table, [item], ttl_attribute="exp")
    assert class_lines(source)["exp"] == "datetime.datetime"
    mapper = mapper_of(load(source, tmp_path))
    assert mapper.key_attributes == {"id": "S", "exp": "N"}
    assert_round_trips(mapper, [item])


def test_items_may_be_any_iterable():
    items = ({"id": {"S": str(n)}, "n": {"N": "1"}} for n in range(3))
    source = generate_model(describe(), items)  # type: ignore[arg-type]
    assert "a sample of 3 items." in source
    with pytest.raises(ValidationError, match="items must be a list of items"):
        generate_model(describe(), {"id": {"S": "a"}})  # type: ignore[arg-type]


def test_ttl_attribute_missing_from_the_sample_is_still_a_field():
    source = generate_model(describe(), [], ttl_attribute="ttl")
    assert class_lines(source)["ttl"] == "datetime.datetime | None = None"


def test_ttl_attribute_used_as_an_index_key(tmp_path):
    table = describe(definitions=(("exp", "N"),), gsis=[index("by-exp", "exp")])
    source = generate_model(table, [{"id": {"S": "a"}, "exp": {"N": "5"}}], ttl_attribute="exp")
    assert class_lines(source)["exp"] == "datetime.datetime | None = None"
    assert mapper_of(load(source, tmp_path)).key_attributes["exp"] == "N"


@pytest.mark.parametrize(
    ("table", "items", "match"),
    [
        (describe(), [{"id": {"S": "a"}, "ttl": {"S": "soon"}}], "holds S values"),
        (describe(definitions=(("ttl", "S"),), gsis=[index("by-ttl", "ttl")]), [], "type S"),
        (describe(), [], "ttl_attribute must be an attribute name"),
    ],
)
def test_ttl_attribute_must_be_a_number(table, items, match):
    ttl = "" if "name" in match else "ttl"
    with pytest.raises(ValidationError, match=match):
        generate_model(table, items, ttl_attribute=ttl)


# --- errors ----------------------------------------------------------------------------------


def _without(key: str) -> dict[str, Any]:
    table = describe()
    del table[key]
    return table


@pytest.mark.parametrize(
    ("table", "items", "match"),
    [
        (_without("KeySchema"), [], "the table has no KeySchema"),
        ({**describe(), "KeySchema": []}, [], "the table has no KeySchema"),
        (_without("TableName"), [], "no valid TableName"),
        ({**describe(), "TableName": "x"}, [], "no valid TableName"),
        (_without("AttributeDefinitions"), [], "no AttributeDefinitions"),
        (describe(definitions=(("x", "BOOL"),)), [], "invalid attribute definition"),
        ({**describe(), "AttributeDefinitions": []}, [], "'id' has no AttributeDefinitions"),
        (
            {**describe(), "KeySchema": [{"AttributeName": "id", "KeyType": "RANGE"}]},
            [],
            "no partition \\(HASH\\) key",
        ),
        (
            {
                **describe(),
                "KeySchema": [
                    {"AttributeName": "id", "KeyType": "HASH"},
                    {"AttributeName": "id", "KeyType": "HASH"},
                ],
            },
            [],
            "two HASH keys",
        ),
        (describe(lsis=[index("lsi", "id", "x")]), [], "needs the table to have a sort key"),
        (
            describe(
                "things",
                (("a", "S"), ("b", "S")),
                definitions=(("x", "S"),),
                lsis=[index("lsi1", "x")],
            ),
            [],
            "must have the table's partition key",
        ),
        (describe(gsis=[index("gsi1", "nope")]), [], "'nope' has no AttributeDefinitions"),
        (describe(gsis=[{"IndexName": "gsi1"}]), [], "index 'gsi1' has no KeySchema"),
        (describe(gsis=[index("g", "id")]), [], "without a valid IndexName"),
        (
            describe(gsis=[index("gsi1", "id", projection="INCLUDE")]),
            [],
            "invalid Projection",
        ),
        (describe(), [{"id": "a"}], "not in DynamoDB's wire format"),
        (describe(), [{"id": {"S": "a", "N": "1"}}], "not in DynamoDB's wire format"),
        (describe(), [{"id": {"X": "a"}}], "not in DynamoDB's wire format"),
        (describe(), [{"n": {"N": 1}}], "not in DynamoDB's wire format"),
        (describe(), [{"": {"S": "a"}}], "not in DynamoDB's wire format"),
        (describe(), ["not an item"], "item 0 is not a dict"),
    ],
)
def test_bad_descriptions_and_items_are_refused(table, items, match):
    with pytest.raises(ValidationError, match=match) as info:
        generate_model(table, items)
    assert info.value.operation == "generate model"
    assert info.value.table == (None if "TableName" in match else "things")


def test_a_description_that_is_not_a_dict_is_refused():
    with pytest.raises(ValidationError, match="no valid TableName") as info:
        generate_model([], [])  # type: ignore[arg-type]
    assert info.value.table is None
    assert info.value.operation == "generate model"


# --- whole modules: import, construct, round-trip -------------------------------------------


def _everything_table() -> tuple[dict[str, Any], list[dict[str, Any]]]:
    items = [
        {
            "pk": {"S": "p1"},
            "sk": {"N": "1"},
            "text": {"S": ""},
            "count": {"N": "-42"},
            "price": {"N": "19.90"},
            "big": {"N": "12345678901234567890123456789012345678"},
            "tiny": {"N": "1E-130"},
            "blob": {"B": b"\x00\xff"},
            "flag": {"BOOL": False},
            "tags": {"SS": ["b", "a", "c"]},
            "scores": {"NS": ["3", "1", "2"]},
            "ratios": {"NS": ["0.5", "1"]},
            "blobs": {"BS": [b"x", b"y"]},
            "items": {
                "L": [
                    {"S": "a"},
                    {"N": "1"},
                    {"N": "1.5"},
                    {"NULL": True},
                    {"BOOL": True},
                    {"B": b"z"},
                    {"SS": ["q", "r"]},
                    {"NS": ["1", "2.5"]},
                    {"BS": [b"1"]},
                    {"L": []},
                    {"M": {"deep": {"L": [{"NULL": True}]}}},
                ]
            },
            "attrs": {"M": {"a": {"N": "1"}, "b": {"M": {}}, "c": {"NULL": True}}},
            "maybe": {"NULL": True},
            "mixed": {"S": "x"},
            "my-attr": {"S": "dash"},
            "class": {"N": "1"},
        },
        {
            "pk": {"S": "p1"},
            "sk": {"N": "2.5"},
            "mixed": {"N": "1"},
            "maybe": {"NULL": True},
            "tags": {"NULL": True},
        },
        {"pk": {"S": "p2"}, "sk": {"N": "0"}, "mixed": {"L": [{"NULL": True}]}},
    ]
    return describe("everything", (("pk", "S"), ("sk", "N"))), items


def test_every_type_round_trips(tmp_path):
    table, items = _everything_table()
    source = generate_model(table, items)
    lines = class_lines(source)
    assert lines["sk"] == "Decimal"
    assert lines["attrs_"] == "dict[str, Any] | None = None"
    assert lines["maybe"] == "Any | None = None"
    mapper = mapper_of(load(source, tmp_path))
    first, second, third = assert_round_trips(mapper, items)
    assert first.tags == frozenset({"a", "b", "c"})
    assert second.tags == frozenset()
    assert first.scores == frozenset({1, 2, 3})
    assert first.ratios == {Decimal("0.5"), 1}
    assert first.count == -42
    assert first.price == Decimal("19.90")
    assert first.flag is False
    assert first.items[3] is None
    assert first.items[6] == {"q", "r"}
    assert (first.mixed, second.mixed, third.mixed) == ("x", 1, [None])
    assert second.maybe is None
    assert second.text is None
    assert second.sk == Decimal("2.5")


def test_non_canonical_numbers_round_trip_by_value(tmp_path):
    items = [{"id": {"S": "a"}, "n": {"N": "007"}, "z": {"N": "0.00"}, "e": {"N": "1e3"}}]
    source = generate_model(describe(), items)
    mapper = mapper_of(load(source, tmp_path))
    encoded = mapper.encode(mapper.decode(copy.deepcopy(items[0])))
    for name in ("n", "z", "e"):
        assert Decimal(encoded[name]["N"]) == Decimal(items[0][name]["N"])


@pytest.mark.parametrize("kind", ["S", "N", "B"])
def test_key_only_tables_of_each_key_type(kind, tmp_path):
    value = {"S": "k", "N": "12", "B": b"k"}[kind]
    table = describe("keys", (("k", kind), ("s", kind)))
    items = [{"k": {kind: value}, "s": {kind: value}}]
    mapper = mapper_of(load(generate_model(table, items), tmp_path))
    assert mapper.key_fields == ("k", "s")
    assert_round_trips(mapper, items)


def test_long_names_are_laid_out_across_lines(tmp_path):
    long = "attribute-with-a-rather-long-name-" * 2
    table = describe(
        "a-table-whose-name-is-quite-long-indeed",
        definitions=((long, "S"),),
        gsis=[
            index("an-index-whose-name-is-also-long", long, projection="INCLUDE", include=(long,))
        ],
    )
    source = generate_model(table, [{"id": {"S": "a"}, long: {"S": "v"}}])
    name = long.replace("-", "_").rstrip("_")
    lines = source.splitlines()[1:]  # the docstring's first line names the table
    assert max(len(line) for line in lines if long not in line and name not in line) <= 88
    assert (
        "        GlobalIndex(\n"
        '            "an-index-whose-name-is-also-long",\n'
        f'            partition_key="{name}",\n'
        "            projection=[\n"
        f'                "{name}",\n'
        "            ],\n"
        "        ),\n"
    ) in source
    assert mapper_of(load(source, tmp_path)).stored_name(name) == long


# --- library behaviour the generator works around ---------------------------------------------


def test_library_any_field_with_none_is_left_out():
    @attrs.define
    class Thing:
        id: str
        x: Any = None

    mapper = Mapper(Thing, table="things", partition_key="id")
    assert mapper.encode(mapper.decode({"id": {"S": "a"}})) == {"id": {"S": "a"}}


def test_library_none_typed_field():
    @attrs.define
    class Thing:
        id: str
        x: None = None

    mapper = Mapper(Thing, table="things", partition_key="id")
    assert mapper.encode(mapper.decode({"id": {"S": "a"}, "x": {"NULL": True}})) == {
        "id": {"S": "a"}
    }


# --- tools: mypy --strict, ruff check, ruff format ------------------------------------------------


def test_generated_modules_pass_mypy_strict_and_ruff(tmp_path):
    pytest.importorskip("mypy")
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")
    if ruff is None:
        pytest.skip("ruff is not installed")
    sources = {
        "orders_model.py": generate_model(orders_table(), ORDER_ITEMS, ttl_attribute="_x"),
        "everything_model.py": generate_model(*_everything_table()),
        "keys_model.py": generate_model(describe("keys", (("k", "B"),)), []),
        "names_model.py": generate_model(
            describe("names", (("order-id", "S"), ("class", "N"))),
            [{"order-id": {"S": "a"}, "class": {"N": "1"}, "str": {"SS": ["a"]}, "_x": {"L": []}}],
        ),
        "ttl_model.py": generate_model(
            describe(), [{"id": {"S": "a"}, "exp": {"N": "1"}}], ttl_attribute="exp"
        ),
        "long_model.py": generate_model(
            describe(
                "a-table-with-a-long-name",
                (("partition-key-of-the-table-with-a-long-name", "S"),),
                definitions=(("gsi-partition-key-named-at-some-length", "N"),),
                gsis=[
                    index(
                        "index-with-a-long-name",
                        "gsi-partition-key-named-at-some-length",
                        projection="INCLUDE",
                        include=("a-long-included-attribute", "another-included-attribute"),
                    )
                ],
            ),
            [],
        ),
    }
    for name, source in sources.items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    files = sorted(sources)
    # One mypy run over every file, outside the repository (its own config and cache).
    # mypy cannot see setuptools' editable installs (an import hook): it is shown where
    # the package is, and, as for an installed package, its own modules are not judged.
    package_root = Path(dynamorm_async.__file__).parent.parent
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--follow-imports=silent",
            "--cache-dir",
            str(tmp_path / ".cache"),
            *files,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "MYPYPATH": str(package_root)},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # As in a project that uses the library: dynamorm_async is a third-party import there.
    # Long attribute names make long lines that no layout can shorten: E501 is left out.
    rules = "E,F,W,I,B,UP,SIM,RUF,C4,PIE,RET,N,TID"
    check = [
        ruff,
        "check",
        "--isolated",
        "--no-cache",
        "--select",
        rules,
        "--ignore",
        "E501",
        *files,
    ]
    result = subprocess.run(check, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    fmt = [ruff, "format", "--isolated", "--no-cache", "--check", "--diff", *files]
    result = subprocess.run(fmt, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


# --- property: random samples -----------------------------------------------------------------

ODD_NAMES = [
    "my-attr",
    "my_attr",
    "class",
    "_x",
    "x",
    "1abc",
    "str",
    "Any",
    "self",
    "None",
    "a b",
    "__init__",
    "\ufb01",
    "é",
    "attr",
    "attrs",
    "pk",
]
attribute_names = st.one_of(st.sampled_from(ODD_NAMES), st.text(min_size=1, max_size=6))

canonical_ints = st.integers(-(10**38) + 1, 10**38 - 1).map(str)
canonical_decimals = (
    st.decimals(min_value=-(10**9), max_value=10**9, places=3)
    .filter(lambda d: d != 0 and d != d.to_integral_value())
    .map(str)
)
numbers = st.one_of(canonical_ints, canonical_decimals)


def sets_of(elements: st.SearchStrategy[Any], **kwargs: Any) -> st.SearchStrategy[list[Any]]:
    return st.lists(elements, min_size=1, max_size=3, **kwargs)


BY_KIND: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "S": st.text(max_size=5).map(lambda s: {"S": s}),
    "N": numbers.map(lambda n: {"N": n}),
    "B": st.binary(max_size=4).map(lambda b: {"B": b}),
    "BOOL": st.booleans().map(lambda b: {"BOOL": b}),
    "NULL": st.just({"NULL": True}),
    "SS": sets_of(st.text(max_size=3), unique=True).map(lambda s: {"SS": s}),
    # Unique by value: "1" and "1.000" are the same number, which a set holds once.
    "NS": sets_of(numbers, unique_by=Decimal).map(lambda s: {"NS": s}),
    "BS": sets_of(st.binary(max_size=3), unique=True).map(lambda s: {"BS": s}),
}


def values(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    """Random AttributeValues, with sets of unique elements and canonical numbers."""
    scalars = st.one_of(*BY_KIND.values())
    if depth == 0:
        return scalars
    return st.one_of(scalars, lists(depth), maps(depth))


def lists(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    return st.lists(values(depth - 1), max_size=3).map(lambda v: {"L": v})


def maps(depth: int = 2) -> st.SearchStrategy[dict[str, Any]]:
    keys = st.text(min_size=1, max_size=3)
    return st.dictionaries(keys, values(depth - 1), max_size=3).map(lambda v: {"M": v})


KINDS = [*BY_KIND, "L", "M", "any"]


def of_kind(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    if kind in BY_KIND:
        return BY_KIND[kind]
    return {"L": lists(), "M": maps(), "any": values()}[kind]


def key_values(kind: str) -> st.SearchStrategy[dict[str, Any]]:
    return {
        "S": st.text(min_size=1, max_size=5).map(lambda s: {"S": s}),
        "N": numbers.map(lambda n: {"N": n}),
        "B": st.binary(min_size=1, max_size=4).map(lambda b: {"B": b}),
    }[kind]


@st.composite
def tables(draw: st.DrawFn) -> tuple[dict[str, Any], list[dict[str, Any]], str | None]:
    names = draw(st.lists(attribute_names, min_size=1, max_size=8, unique=True))
    key_names = names[: draw(st.integers(1, min(2, len(names))))]
    key_kinds = [draw(st.sampled_from(["S", "N", "B"])) for _ in key_names]
    kinds = {n: draw(st.sampled_from(KINDS)) for n in names[len(key_names) :]}
    ttl = draw(st.sampled_from([None, *kinds])) if kinds else None
    gsi = None
    if len(kinds) > (ttl is not None) and draw(st.booleans()):
        gsi = draw(st.sampled_from([n for n in kinds if n != ttl]))
    items = []
    for _ in range(draw(st.integers(0, 5))):
        item = {n: draw(key_values(k)) for n, k in zip(key_names, key_kinds, strict=True)}
        for name, kind in kinds.items():
            if not draw(st.booleans()):
                continue
            if name == ttl:
                item[name] = {"N": str(draw(st.integers(0, 4_000_000_000)))}
            elif name == gsi:
                item[name] = draw(key_values("S"))
            else:
                item[name] = draw(of_kind(kind))
        items.append(item)
    table = describe(
        "random-table",
        tuple(zip(key_names, key_kinds, strict=True)),
        definitions=((gsi, "S"),) if gsi else (),
        gsis=[index("by-gsi", gsi)] if gsi else None,
    )
    return table, items, ttl


@settings(
    max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(tables())
def test_random_samples_generate_a_working_model(tmp_path, sample):
    table, items, ttl = sample
    source = generate_model(table, items, ttl_attribute=ttl)
    compile(source, "generated.py", "exec")
    mapper = mapper_of(load(source, tmp_path))
    assert [mapper.stored_name(name) for name in mapper.key_fields] == [
        k["AttributeName"] for k in table["KeySchema"]
    ]
    stored = {info.stored for info in mapper.fields.values()}
    assert stored >= {name for item in items for name in item}
    if ttl is None:
        assert_round_trips(mapper, items)
        return
    # The TTL attribute is written back as the same number of epoch seconds.
    for item in items:
        encoded = mapper.encode(mapper.decode(copy.deepcopy(item)))
        if ttl in item:
            assert Decimal(encoded.pop(ttl)["N"]) == Decimal(item[ttl]["N"])
        assert comparable(encoded) == expected({k: v for k, v in item.items() if k != ttl})
