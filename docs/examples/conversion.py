"""Types and conversion: how each Python type is stored, and custom converters."""

import asyncio
import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

import attrs

from dynamorm_async import (
    ConversionError,
    Database,
    EpochSeconds,
    Mapper,
    TypeRegistry,
    register_converter,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


@attrs.define
class Address:  # a nested attrs class: stored as a map
    city: str
    zip_code: str | None = None


@attrs.define
class Everything:
    id: uuid.UUID
    name: str
    count: int
    ratio: float
    price: Decimal
    active: bool
    blob: bytes
    born: dt.date
    seen_at: dt.datetime
    expires: Annotated[dt.datetime, EpochSeconds]
    color: Color
    priority: Priority
    size: Literal["S", "M", "L"]
    tags: frozenset[str]
    scores: set[int]
    history: list[int]
    pair: tuple[str, int]
    labels: dict[str, str]
    address: Address
    extra: Any
    note: str | None = None


everything = Mapper(Everything, table="everything", partition_key="id")


# --- a custom type, stored as a string ---------------------------------------------


@attrs.frozen
class Money:
    amount: Decimal
    currency: str

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    @classmethod
    def parse(cls, text: str) -> "Money":
        amount, currency = text.split(" ")
        return cls(Decimal(amount), currency)


# Registered on the process-wide registry: every mapper can now hold Money fields.
register_converter(Money, encode=str, decode=Money.parse, stored_as=str)


@attrs.frozen
class Sku:  # a custom type used as a key: stored as a string, so the key type is S
    code: str


# Registered on a registry of its own: only mappers given this registry know Sku.
catalog_types = TypeRegistry()
catalog_types.register_converter(Sku, encode=lambda s: s.code, decode=Sku, stored_as=str)
catalog_types.register_converter(Money, encode=str, decode=Money.parse, stored_as=str)


@attrs.define
class Listing:
    sku: Sku
    price: Money


listings = Mapper(Listing, table="listings", partition_key="sku", registry=catalog_types)


def refused(value_type: Any, value: Any) -> str:
    """Encode one value and return the error message (every case here must fail)."""
    try:
        everything.encode_value(value, value_type)
    except ConversionError as exc:
        return exc.message
    raise AssertionError(f"{value!r} was accepted")


async def main() -> None:
    seen = dt.datetime(2024, 5, 1, 11, 30, 15, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    obj = Everything(
        id=uuid.UUID("6f1c3c1e-8d7e-4a43-9d55-0b3f1c1e2a10"),
        name="widget",
        count=3,
        ratio=0.1,
        price=Decimal("19.99"),
        active=True,
        blob=b"\x00\x01",
        born=dt.date(2020, 2, 29),
        seen_at=seen,
        expires=dt.datetime(2030, 1, 1, tzinfo=dt.timezone.utc),
        color=Color.BLUE,
        priority=Priority.HIGH,
        size="M",
        tags=frozenset({"new", "sale"}),
        scores=set(),  # empty: DynamoDB has no empty sets, so it is left out
        history=[3, 2, 1],
        pair=("a", 1),
        labels={"shelf": "B4"},
        address=Address("Lyon"),
        extra={"any": ["thing", 1, None]},
    )
    item = everything.encode(obj)
    for name, value in item.items():
        print(f"  {name:<8} {value}")

    assert item["id"] == {"S": "6f1c3c1e-8d7e-4a43-9d55-0b3f1c1e2a10"}
    assert item["ratio"] == {"N": "0.1"}
    assert item["price"] == {"N": "19.99"}
    assert item["born"] == {"S": "2020-02-29"}
    assert item["seen_at"] == {"S": "2024-05-01T09:30:15.000000Z"}  # converted to UTC
    assert item["expires"] == {"N": "1893456000"}
    assert item["color"] == {"S": "blue"}
    assert item["priority"] == {"N": "2"}
    assert item["size"] == {"S": "M"}
    assert sorted(item["tags"]["SS"]) == ["new", "sale"]
    assert item["pair"] == {"L": [{"S": "a"}, {"N": "1"}]}
    assert item["address"] == {"M": {"city": {"S": "Lyon"}}}  # zip_code=None left out
    assert item["extra"] == {"M": {"any": {"L": [{"S": "thing"}, {"N": "1"}, {"NULL": True}]}}}
    assert "scores" not in item  # an empty set: left out
    assert "note" not in item  # None: left out

    # Values DynamoDB cannot hold exactly are refused, not rounded or guessed.
    print(refused(dt.datetime, dt.datetime(2024, 5, 1, 12, 0)))  # naive datetime
    print(refused(float, float("nan")))
    print(refused(Decimal, Decimal("3.14159265358979323846264338327950288419")))  # 39 digits
    print(refused(int, 10**40 + 1))
    print(refused(set[int], {True}))
    print(refused(dict[str, int], {1: 2}))

    async with (
        local_dynamodb() as url,
        Database.connect(url, mappers=[everything, listings], **LOCAL_CREDENTIALS) as db,
    ):
        await db.schema.ensure(everything)
        await db.schema.ensure(listings)

        repo = db.repository(everything)
        await repo.put(obj)
        back = await repo.get(obj.id)
        assert back is not None
        # Everything reads back equal; the datetime comes back in UTC, the same instant.
        assert back == obj
        assert back.seen_at == seen
        assert back.seen_at.tzinfo == dt.timezone.utc
        assert back.scores == set()
        assert back.note is None
        assert back.priority is Priority.HIGH  # the member, not the int 2
        assert isinstance(back.extra["any"][1], int)
        print("round trip: equal")

        listing_repo = db.repository(listings)
        await listing_repo.put(Listing(Sku("SKU-1"), Money(Decimal("9.50"), "EUR")))
        listing = await listing_repo.get(Sku("SKU-1"))
        assert listing == Listing(Sku("SKU-1"), Money(Decimal("9.50"), "EUR"))
        assert listings.key(Sku("SKU-1")) == {"sku": {"S": "SKU-1"}}
        print("custom types:", listing)


if __name__ == "__main__":
    asyncio.run(main())
