"""Item encode/decode: dynamorm_async's generated codecs against boto3's TypeSerializer
and PynamoDB's models.

All sides do the same work: a 15-attribute item between a Python object (ours: an
attrs instance; boto3: a plain dict, which is all it produces; PynamoDB: a `Model`
instance) and DynamoDB's AttributeValue form. Two items: `Product`, flat (a UUID, a
datetime, a Decimal, a float, a string set...), and the nested document the calls
benchmark reads (`benchmarks.calls.Order`: a list of classes, a class, a number set,
binary, optionals), as the ``Order:`` cases. PynamoDB runs if installed (``bench``
extra). Rounds are interleaved and medians compared, so the machine's noise hits all
sides alike; only the ratios are meaningful.
"""

from __future__ import annotations

import datetime as dt
import platform
import sys
import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import attrs
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

import dynamorm_async
from benchmarks._harness import run
from benchmarks.calls import ORDER, WIRE_ITEM, orders, pynamodb_order_model
from dynamorm_async import Mapper


@attrs.define
class Product:
    """A typical item: strings, numbers, a set, a datetime, a UUID, an optional."""

    id: uuid.UUID
    sku: str
    category: str
    name: str
    description: str
    price: Decimal
    stock: int
    rating: float
    active: bool
    tags: frozenset[str]
    created_at: dt.datetime
    brand: str
    weight_g: int
    color: str | None = None
    version: int = 0


products = Mapper(Product, table="products", partition_key="id")

SAMPLE = Product(
    id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
    sku="SKU-000123",
    category="books",
    name="Designing Data-Intensive Applications",
    description="The big ideas behind reliable, scalable and maintainable systems.",
    price=Decimal("39.90"),
    stock=12,
    rating=4.7,
    active=True,
    tags=frozenset({"databases", "distributed"}),
    created_at=dt.datetime(2024, 5, 1, 12, 30, tzinfo=dt.timezone.utc),
    brand="O'Reilly",
    weight_g=900,
    color="red",
    version=3,
)


def _plain(p: Product) -> dict[str, Any]:
    """What a boto3 user holds: a dict of the values TypeSerializer accepts."""
    return {
        "id": str(p.id),
        "sku": p.sku,
        "category": p.category,
        "name": p.name,
        "description": p.description,
        "price": p.price,
        "stock": p.stock,
        "rating": Decimal(repr(p.rating)),
        "active": p.active,
        "tags": set(p.tags),
        "created_at": p.created_at.isoformat(),
        "brand": p.brand,
        "weight_g": p.weight_g,
        "color": p.color,
        "version": p.version,
    }


def _pynamodb() -> dict[str, Callable[[], Any]] | None:
    """PynamoDB's encode, decode and page decode of `SAMPLE`, or ``None`` without it.

    A `Model` with `Product`'s 15 attributes. What PynamoDB has no type for is
    converted: the UUID is a string, and the Decimal price a float (its numbers are
    ints and floats, through `json`); the datetime is its `UTCDateTimeAttribute`
    (a datetime both ways, in its own ``...%f+0000`` string form). The item it decodes
    is the one it encodes, as botocore hands it over.
    """
    try:
        from pynamodb.attributes import (
            BooleanAttribute,
            NumberAttribute,
            UnicodeAttribute,
            UnicodeSetAttribute,
            UTCDateTimeAttribute,
        )
        from pynamodb.models import Model
    except ImportError:  # the bench extra is not installed
        return None

    class PynamoProduct(Model):
        """`Product` as a PynamoDB model."""

        class Meta:
            table_name = "products"
            region = "us-east-1"

        id = UnicodeAttribute(hash_key=True)
        sku = UnicodeAttribute()
        category = UnicodeAttribute()
        name = UnicodeAttribute()
        description = UnicodeAttribute()
        price = NumberAttribute()
        stock = NumberAttribute()
        rating = NumberAttribute()
        active = BooleanAttribute()
        tags = UnicodeSetAttribute()
        created_at = UTCDateTimeAttribute()
        brand = UnicodeAttribute()
        weight_g = NumberAttribute()
        color = UnicodeAttribute(null=True)
        version = NumberAttribute()

    p = SAMPLE
    model = PynamoProduct(
        id=str(p.id),
        sku=p.sku,
        category=p.category,
        name=p.name,
        description=p.description,
        price=float(p.price),
        stock=p.stock,
        rating=p.rating,
        active=p.active,
        tags=set(p.tags),
        created_at=p.created_at,
        brand=p.brand,
        weight_g=p.weight_g,
        color=p.color,
        version=p.version,
    )
    item = model.serialize()
    assert len(item) == 15, item
    back = PynamoProduct.from_raw_data(item)
    assert back.attribute_values == model.attribute_values, back.attribute_values
    page = [item] * 100
    return {
        "encode 1 item": model.serialize,
        "decode 1 item": lambda: PynamoProduct.from_raw_data(item),
        "decode 100-item page": lambda: [PynamoProduct.from_raw_data(i) for i in page],
    }


Cases = dict[str, dict[str, Callable[[], Any]]]


def _versus_boto3(prefix: str, mapper: Mapper[Any], obj: Any, plain: dict[str, Any]) -> Cases:
    """Encode `obj` (boto3: `plain`), decode its item and a page of 100 of them."""
    serializer, deserializer = TypeSerializer(), TypeDeserializer()
    item = mapper.encode(obj)
    boto_item = {k: serializer.serialize(v) for k, v in plain.items()}
    page, boto_page = [item] * 100, [boto_item] * 100
    return {
        f"{prefix}encode 1 item": {
            "dynamorm_async": lambda: mapper.encode(obj),
            "boto3 TypeSerializer": lambda: {k: serializer.serialize(v) for k, v in plain.items()},
        },
        f"{prefix}decode 1 item": {
            "dynamorm_async": lambda: mapper.decode(item),
            "boto3 TypeDeserializer": lambda: {
                k: deserializer.deserialize(v) for k, v in boto_item.items()
            },
        },
        f"{prefix}decode 100-item page": {
            "dynamorm_async": lambda: [mapper.decode(i) for i in page],
            "boto3 TypeDeserializer": lambda: [
                {k: deserializer.deserialize(v) for k, v in i.items()} for i in boto_page
            ],
        },
    }


def _cases() -> Cases:
    cases = _versus_boto3("", products, SAMPLE, _plain(SAMPLE))
    for case, fn in (_pynamodb() or {}).items():
        cases[case]["PynamoDB Model"] = fn
    # The item of the calls benchmark (`benchmarks.calls.Order`): a document with a
    # nested list of classes, a nested class, a number set, binary and optionals.
    plain = {k: TypeDeserializer().deserialize(v) for k, v in WIRE_ITEM.items()}
    cases.update(_versus_boto3("Order: ", orders, ORDER, plain))
    model = pynamodb_order_model("http://127.0.0.1:1")  # never called: no I/O here
    if model is not None:
        instance = model.from_raw_data(dict(WIRE_ITEM))
        assert instance.serialize()["lines"] == WIRE_ITEM["lines"]
        page = [WIRE_ITEM] * 100
        cases["Order: encode 1 item"]["PynamoDB Model"] = instance.serialize
        cases["Order: decode 1 item"]["PynamoDB Model"] = lambda: model.from_raw_data(WIRE_ITEM)
        cases["Order: decode 100-item page"]["PynamoDB Model"] = lambda: [
            model.from_raw_data(i) for i in page
        ]
    return cases


def main(rounds: int = 15) -> None:
    """Run every case, interleaved round by round, and print medians and ratios."""
    print(
        f"dynamorm_async {dynamorm_async.__version__}, Python {sys.version.split()[0]}, "
        f"{platform.machine()}, {rounds} interleaved rounds, medians"
    )
    run(_cases(), "dynamorm_async", rounds)


if __name__ == "__main__":
    main()
