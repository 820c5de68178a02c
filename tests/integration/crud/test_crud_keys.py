"""Keys in every form, composite keys, stored field names and projections, on the server."""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import uuid
from decimal import Decimal

import attrs
import pytest

from dynamorm_async import ConversionError, Mapper, MappingError, ValidationError, attr


@attrs.define
class Order:
    customer: str
    number: int
    total: Decimal
    status: str = "open"
    note: str | None = None


# Stored names differ from Python names for keys and plain fields alike.
orders = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="number",
    field_names={"customer": "PK", "number": "SK", "total": "orderTotal"},
)


@attrs.define
class Event:
    id: uuid.UUID
    at: dt.datetime
    kind: str


events = Mapper(Event, table="events", partition_key="id", sort_key="at")


@attrs.define
class Profile:
    id: str
    name: str
    email: str
    age: int = 0
    bio: str | None = None


profiles = Mapper(Profile, table="profiles", partition_key="id", field_names={"email": "mail"})


@pytest.fixture
def dynamorm_mappers():
    return [orders, events, profiles]


ORDER = Order("c1", 7, Decimal("30.50"), note="gift")


async def test_composite_key_as_tuple(dynamorm_db):
    repo = dynamorm_db.repository(orders)
    await repo.put(ORDER)
    await repo.put(Order("c1", 8, Decimal(1)))
    await repo.put(Order("c2", 7, Decimal(2)))
    assert await repo.get(("c1", 7)) == ORDER
    assert await repo.get(("c1", 8)) == Order("c1", 8, Decimal(1))
    assert await repo.get(("c2", 7)) == Order("c2", 7, Decimal(2))
    assert await repo.get(("c2", 8)) is None


async def test_composite_key_as_dict_of_python_names(dynamorm_db):
    repo = dynamorm_db.repository(orders)
    await repo.put(ORDER)
    assert await repo.get({"customer": "c1", "number": 7}) == ORDER


async def test_key_as_dict_with_stored_names_is_refused(dynamorm_db):
    repo = dynamorm_db.repository(orders)
    await repo.put(ORDER)
    with pytest.raises(ValidationError):
        await repo.get({"PK": "c1", "SK": 7})


async def test_composite_key_as_instance(dynamorm_db):
    repo = dynamorm_db.repository(orders)
    await repo.put(ORDER)
    # Only the key fields of the instance matter.
    assert await repo.get(Order("c1", 7, Decimal(0))) == ORDER


async def test_key_forms_work_for_update_and_delete(dynamorm_db):
    repo = dynamorm_db.repository(orders)
    await repo.put(ORDER)
    updated = await repo.update(("c1", 7), set={"status": "paid"})
    assert updated is not None
    assert updated.status == "paid"
    updated = await repo.update({"customer": "c1", "number": 7}, set={"status": "sent"})
    assert updated is not None
    assert updated.status == "sent"
    assert await repo.delete(updated, return_old=True) == updated
    assert await repo.get(("c1", 7)) is None


async def test_composite_key_needs_both_parts(dynamorm_db):
    repo = dynamorm_db.repository(orders)
    with pytest.raises(ValidationError) as info:
        await repo.get("c1")
    assert "composite" in str(info.value)
    with pytest.raises(ValidationError):
        await repo.get(("c1",))
    with pytest.raises(ValidationError):
        await repo.get({"customer": "c1"})
    with pytest.raises(ValidationError):
        await repo.get({"customer": "c1", "number": 7, "total": 1})


async def test_single_key_as_value_tuple_dict_and_instance(dynamorm_db):
    repo = dynamorm_db.repository(profiles)
    profile = Profile("u1", "Ada", "ada@example.com", 36)
    await repo.put(profile)
    assert await repo.get("u1") == profile
    assert await repo.get(("u1",)) == profile
    assert await repo.get({"id": "u1"}) == profile
    assert await repo.get(Profile("u1", "", "")) == profile


async def test_field_names_are_used_on_the_wire(dynamorm_db):
    repo = dynamorm_db.repository(orders)
    await repo.put(ORDER)
    response = await dynamorm_db.client.get_item(
        TableName=repo.table, Key={"PK": {"S": "c1"}, "SK": {"N": "7"}}
    )
    item = response["Item"]
    # DynamoDB stores a number's value: "30.50" may come back as "30.5".
    assert Decimal(item.pop("orderTotal")["N"]) == Decimal("30.50")
    assert item == {
        "PK": {"S": "c1"},
        "SK": {"N": "7"},
        "status": {"S": "open"},
        "note": {"S": "gift"},
    }


async def test_field_names_in_key_schema(dynamorm_db):
    table = await dynamorm_db.schema.describe(orders)
    assert sorted((k["AttributeName"], k["KeyType"]) for k in table["KeySchema"]) == [
        ("PK", "HASH"),
        ("SK", "RANGE"),
    ]
    definitions = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    assert definitions == {"PK": "S", "SK": "N"}


async def test_field_names_used_by_update_and_conditions(dynamorm_db):
    repo = dynamorm_db.repository(orders)
    await repo.put(ORDER)
    await repo.update(ORDER, set={"total": Decimal("12.25")}, condition=attr("total") > 30)
    response = await dynamorm_db.client.get_item(
        TableName=repo.table, Key={"PK": {"S": "c1"}, "SK": {"N": "7"}}
    )
    item = response["Item"]
    assert item["orderTotal"] == {"N": "12.25"}
    assert "total" not in item


async def test_item_written_with_stored_names_reads_back(dynamorm_db):
    repo = dynamorm_db.repository(profiles)
    await dynamorm_db.client.put_item(
        TableName=repo.table,
        Item={"id": {"S": "u9"}, "name": {"S": "Bob"}, "mail": {"S": "bob@example.com"}},
    )
    assert await repo.get("u9") == Profile("u9", "Bob", "bob@example.com")


async def test_uuid_and_datetime_keys(dynamorm_db):
    repo = dynamorm_db.repository(events)
    event_id = uuid.UUID("12345678-1234-5678-1234-567812345678")
    at = dt.datetime(2024, 5, 17, 8, 30, 0, 123456, tzinfo=dt.timezone.utc)
    await repo.put(Event(event_id, at, "login"))
    assert await repo.get((event_id, at)) == Event(event_id, at, "login")
    # The same instant in another timezone is the same key.
    other_tz = at.astimezone(dt.timezone(dt.timedelta(hours=2)))
    assert await repo.get((event_id, other_tz)) == Event(event_id, at, "login")
    response = await dynamorm_db.client.get_item(
        TableName=repo.table,
        Key={"id": {"S": str(event_id)}, "at": {"S": "2024-05-17T08:30:00.123456Z"}},
    )
    assert response["Item"]["kind"] == {"S": "login"}


# --- projections -------------------------------------------------------------------------


async def test_projection_with_every_required_field(dynamorm_db):
    repo = dynamorm_db.repository(profiles)
    await repo.put(Profile("u1", "Ada", "ada@example.com", 36, "mathematician"))
    got = await repo.get("u1", projection=["name", "email"])
    # Fields left out get their defaults; keys are always fetched.
    assert got == Profile("u1", "Ada", "ada@example.com")


async def test_projection_accepts_attr_paths(dynamorm_db):
    repo = dynamorm_db.repository(profiles)
    await repo.put(Profile("u1", "Ada", "ada@example.com", 36, "mathematician"))
    got = await repo.get("u1", projection=[attr("name"), attr("email"), "age"])
    assert got == Profile("u1", "Ada", "ada@example.com", 36)


async def test_projection_of_composite_key_item(dynamorm_db):
    repo = dynamorm_db.repository(orders)
    await repo.put(ORDER)
    got = await repo.get(("c1", 7), projection=["total"])
    assert got == Order("c1", 7, Decimal("30.50"))


async def test_projection_missing_required_field_raises_clear_conversion_error(dynamorm_db):
    repo = dynamorm_db.repository(profiles)
    await repo.put(Profile("u1", "Ada", "ada@example.com"))
    with pytest.raises(ConversionError) as info:
        await repo.get("u1", projection=["name"])
    exc = info.value
    text = str(exc)
    assert "projection" in text
    assert "email" in text
    assert exc.cls is Profile
    assert exc.field == "email"
    assert exc.table == repo.table
    assert exc.operation == "GetItem"
    assert repo.table in text
    assert "GetItem" in text


@attrs.define
class Address:
    street: str
    city: str


@attrs.define
class Customer:
    id: str
    address: Address
    nick: str = ""


customers = Mapper(Customer, table="customers", partition_key="id")


@pytest.mark.parametrize("dynamorm_mappers", [[customers]])
async def test_projection_of_whole_nested_object(dynamorm_db):
    repo = dynamorm_db.repository(customers)
    await repo.put(Customer("c1", Address("Main St", "Springfield"), "homer"))
    got = await repo.get("c1", projection=["address"])
    assert got == Customer("c1", Address("Main St", "Springfield"))


@pytest.mark.parametrize("dynamorm_mappers", [[customers]])
async def test_projection_leaving_out_a_required_nested_field_mentions_projection(dynamorm_db):
    repo = dynamorm_db.repository(customers)
    await repo.put(Customer("c1", Address("Main St", "Springfield"), "homer"))
    with pytest.raises(ConversionError) as info:
        await repo.get("c1", projection=["address.city"])
    text = str(info.value)
    assert "street" in text
    assert "projection" in text, text
    assert repo.table in text


async def test_projection_of_unknown_field_is_refused(dynamorm_db):
    repo = dynamorm_db.repository(profiles)
    with pytest.raises(MappingError) as info:
        await repo.get("u1", projection=["nmae"])
    assert "name" in str(info.value)  # the suggestion


async def test_get_or_raise_with_projection(dynamorm_db):
    repo = dynamorm_db.repository(profiles)
    await repo.put(Profile("u1", "Ada", "ada@example.com", 36))
    got = await repo.get_or_raise("u1", projection=["name", "email"], consistent=True)
    assert got == Profile("u1", "Ada", "ada@example.com")


# --- other key types and unusual stored names ----------------------------------------------


class Region(enum.Enum):
    EU = "eu"
    US = "us"


@attrs.define
class Blob:
    digest: bytes
    amount: Decimal
    region: Region
    day: dt.date
    payload: str = ""


blobs = Mapper(Blob, table="blobs", partition_key="digest", sort_key="amount")


@attrs.define
class Regional:
    region: Region
    day: dt.date
    score: float = 0.0


regionals = Mapper(Regional, table="regionals", partition_key="region", sort_key="day")


@attrs.define
class Odd:
    id: str
    price: int
    label: str = ""
    items: dict[str, int] = attrs.field(factory=dict)


# Stored names with dots, spaces, reserved words and non-ASCII: placeholders keep
# them literal in every expression.
odds = Mapper(
    Odd,
    table="odds",
    partition_key="id",
    field_names={"id": "key.with.dots", "price": "select", "label": "prix €", "items": "a b"},
)


@pytest.mark.parametrize("dynamorm_mappers", [[blobs, regionals]])
async def test_binary_decimal_enum_and_date_keys(dynamorm_db):
    repo = dynamorm_db.repository(blobs)
    blob = Blob(b"\x00\xffdigest", Decimal("12.50"), Region.US, dt.date(2024, 2, 29), "x")
    await repo.put(blob)
    assert await repo.get((b"\x00\xffdigest", Decimal("12.5"))) == blob  # 12.5 == 12.50
    assert await repo.get((b"\x00\xffdigest", 12)) is None
    table = await dynamorm_db.schema.describe(blobs)
    types = {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]}
    assert types == {"digest": "B", "amount": "N"}

    regional_repo = dynamorm_db.repository(regionals)
    regional = Regional(Region.EU, dt.date(2024, 1, 31), 0.5)
    await regional_repo.put(regional)
    assert await regional_repo.get((Region.EU, dt.date(2024, 1, 31))) == regional
    assert await regional_repo.get((Region.US, dt.date(2024, 1, 31))) is None
    response = await dynamorm_db.client.get_item(
        TableName=regional_repo.table, Key={"region": {"S": "eu"}, "day": {"S": "2024-01-31"}}
    )
    assert response["Item"]["score"] == {"N": "0.5"}


@pytest.mark.parametrize("dynamorm_mappers", [[odds]])
async def test_unusual_stored_names_in_every_expression(dynamorm_db):
    repo = dynamorm_db.repository(odds)
    odd = Odd("o.1", 10, "cheap", {"x": 1})
    await repo.put(odd)
    response = await dynamorm_db.client.get_item(
        TableName=repo.table, Key={"key.with.dots": {"S": "o.1"}}
    )
    assert response["Item"] == {
        "key.with.dots": {"S": "o.1"},
        "select": {"N": "10"},
        "prix €": {"S": "cheap"},
        "a b": {"M": {"x": {"N": "1"}}},
    }
    assert await repo.get("o.1", projection=["label", "price"]) == Odd("o.1", 10, "cheap")
    updated = await repo.update(
        "o.1",
        set={"label": "dear", "items.y": 2},
        add={"price": 5},
        condition=(attr("price") == 10)
        & attr("label").begins_with("ch")
        & attr("items.x").exists(),
    )
    assert updated == Odd("o.1", 15, "dear", {"x": 1, "y": 2})
    await repo.delete("o.1", condition=attr("label") == "dear")
    assert await repo.get("o.1") is None


@pytest.mark.parametrize("dynamorm_mappers", [[profiles]])
async def test_many_concurrent_requests_on_one_database(dynamorm_db):
    repo = dynamorm_db.repository(profiles)
    people = [Profile(f"u{i}", f"name {i}", f"u{i}@example.com", i) for i in range(60)]
    stored = await asyncio.gather(*(repo.put(p) for p in people))
    assert stored == people
    loaded = await asyncio.gather(*(repo.get(p.id) for p in people))
    assert loaded == people
    updated = await asyncio.gather(*(repo.update(p.id, add={"age": 1}) for p in people))
    assert [u.age for u in updated] == [p.age + 1 for p in people]
