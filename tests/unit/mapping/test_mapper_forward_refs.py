"""Nested paths through classes declared with ``from __future__ import annotations``.

Field types there are strings until resolved; a mapper resolves its own class, and
must resolve the nested classes a path walks through too, or the first update of a
nested field fails ("no converter for 'int'").
"""

import importlib.util
import itertools
import sys
from pathlib import Path

import attrs
import pytest

from dynamorm_async import ConversionError, Mapper, Update, ValidationError, attr, query

MODELS = Path(__file__).with_name("_forward_refs_models.py")
_fresh = itertools.count()


@pytest.fixture
def models(monkeypatch):
    """A fresh copy of the models module: no annotation of it resolved yet."""
    name = f"_forward_refs_models_{next(_fresh)}"
    spec = importlib.util.spec_from_file_location(name, MODELS)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, name, module)  # get_type_hints looks names up there
    spec.loader.exec_module(module)
    # The precondition the tests rely on: the annotations really are strings.
    assert attrs.fields(module.Dims).width.type == "int"
    assert attrs.fields(module.Point).x.type == "int"
    assert attrs.fields(module.Part).qty.type == "int"
    return module


@pytest.fixture
def boxes(models):
    return Mapper(models.Box, table="boxes", partition_key="id")


def test_first_update_of_a_nested_field_through_a_fresh_mapper(boxes):
    op = query.update(boxes, "b1", Update.of(set={"dims.width": 3}))
    assert op.request("boxes") == {
        "TableName": "boxes",
        "Key": {"id": {"S": "b1"}},
        "UpdateExpression": "SET #n0.#n1 = :v0",
        "ConditionExpression": "attribute_exists(#n2)",
        "ExpressionAttributeNames": {"#n0": "dims", "#n1": "width", "#n2": "id"},
        "ExpressionAttributeValues": {":v0": {"N": "3"}},
        "ReturnValues": "ALL_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }


def test_nested_value_of_the_wrong_type_is_refused_not_missing_a_converter(boxes):
    # With the annotation still a string, any value failed alike; resolved, the type
    # itself is what the value is checked against.
    with pytest.raises(ConversionError) as info:
        query.update(boxes, "b1", Update.of(set={"dims.width": "three"})).request("boxes")
    assert str(info.value) == "dims.width: expected an int, got str 'three'"


def test_deeper_optional_list_and_map_paths(models, boxes):
    update = Update.of(
        set={
            "dims.origin.x": 4,
            "spare.height": 2,
            "parts[0].qty": 5,
            "by_name.bolt.qty": 6,
            "dims.origin": models.Point(1, 2),
        }
    )
    # "dims.origin" and "dims.origin.x" overlap; check them in two updates.
    with pytest.raises(ValidationError, match="overlapping paths"):
        query.update(boxes, "b1", update).request("boxes")
    request = query.update(
        boxes,
        "b1",
        Update.of(
            set={"dims.origin.x": 4, "spare.height": 2, "parts[0].qty": 5, "by_name.bolt.qty": 6}
        ),
        upsert=True,
    ).request("boxes")
    assert request["UpdateExpression"] == (
        "SET #n0.#n1.#n2 = :v0, #n3.#n4 = :v1, #n5[0].#n6 = :v2, #n7.#n8.#n6 = :v3"
    )
    assert request["ExpressionAttributeNames"] == {
        "#n0": "dims",
        "#n1": "origin",
        "#n2": "x",
        "#n3": "spare",
        "#n4": "height",
        "#n5": "parts",
        "#n6": "qty",
        "#n7": "by_name",
        "#n8": "bolt",
    }
    assert request["ExpressionAttributeValues"] == {
        ":v0": {"N": "4"},
        ":v1": {"N": "2"},
        ":v2": {"N": "5"},
        ":v3": {"N": "6"},
    }
    whole = query.update(boxes, "b1", Update.of(set={"dims.origin": models.Point(1, 2)}))
    assert whole.request("boxes")["ExpressionAttributeValues"] == {
        ":v0": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}
    }


def test_nested_condition_through_a_fresh_mapper(boxes):
    op = query.update(
        boxes, "b1", Update.of(set={"dims.height": 7}), condition=attr("dims.width") > 2
    )
    request = op.request("boxes")
    assert request["ConditionExpression"] == "#n0.#n2 > :v1 AND attribute_exists(#n3)"
    assert request["ExpressionAttributeNames"] == {
        "#n0": "dims",
        "#n1": "height",
        "#n2": "width",
        "#n3": "id",
    }
    assert request["ExpressionAttributeValues"] == {":v0": {"N": "7"}, ":v1": {"N": "2"}}


def test_resolve_path_gives_resolved_types(models, boxes):
    assert boxes.resolve_path(("dims", "width")) == (("dims", "width"), int)
    assert boxes.resolve_path(("dims", "origin", "y")) == (("dims", "origin", "y"), int)
    assert boxes.resolve_path(("parts", 0)) == (("parts", 0), models.Part)
    assert boxes.resolve_path(("by_name", "a", "name")) == (("by_name", "a", "name"), str)


def test_none_and_removal_of_nested_fields_use_their_resolved_types(boxes):
    # dims.unit (str | None = "mm"): absent reads back "mm", so None is stored as NULL;
    # dims.note (str | None = None): absent reads back None, so it is removed.
    request = query.update(
        boxes, "b1", Update.of(set={"dims.unit": None, "dims.note": None})
    ).request("boxes")
    assert request["UpdateExpression"] == "SET #n0.#n1 = :v0 REMOVE #n0.#n2"
    assert request["ExpressionAttributeNames"] == {
        "#n0": "dims",
        "#n1": "unit",
        "#n2": "note",
        "#n3": "id",
    }
    assert request["ExpressionAttributeValues"] == {":v0": {"NULL": True}}
    with pytest.raises(ValidationError, match=r"^cannot set dims\.width to None: its type is int"):
        query.update(boxes, "b1", Update.of(set={"dims.width": None}))
    with pytest.raises(ValidationError, match=r"^cannot remove dims\.height: it has no default"):
        query.update(boxes, "b1", Update.of(remove=["dims.height"]))
    removed = query.update(boxes, "b1", Update.of(remove=["dims.unit", "spare.origin"]))
    assert removed.request("boxes")["UpdateExpression"] == "REMOVE #n0.#n1, #n2.#n3"


def test_items_of_a_fresh_mapper_round_trip(models, boxes):
    box = models.Box(
        "b1",
        models.Dims(1, 2, None, "n", models.Point(3)),
        parts=[models.Part("bolt", 4)],
        by_name={"nut": models.Part("nut")},
    )
    item = boxes.encode(box)
    assert item == {
        "id": {"S": "b1"},
        "dims": {
            "M": {
                "width": {"N": "1"},
                "height": {"N": "2"},
                "unit": {"NULL": True},
                "note": {"S": "n"},
                "origin": {"M": {"x": {"N": "3"}, "y": {"N": "0"}}},
            }
        },
        "parts": {"L": [{"M": {"name": {"S": "bolt"}, "qty": {"N": "4"}}}]},
        "by_name": {"M": {"nut": {"M": {"name": {"S": "nut"}, "qty": {"N": "1"}}}}},
    }
    assert boxes.decode(item) == box
