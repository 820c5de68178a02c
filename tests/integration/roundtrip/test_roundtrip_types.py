"""Every supported type, written to the server and read back equal; the wire form checked.

Most tests share one table (made once for the module by the plugin's
`open_test_database`) and overwrite the same item; the TTL tests get their own.
"""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal, Optional

import attrs
import pytest
import pytest_asyncio

from dynamorm_async import EpochSeconds, Mapper, attr
from dynamorm_async.testing.pytest_plugin import open_test_database

UTC = dt.timezone.utc


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2


class Size(str, enum.Enum):
    SMALL = "s"
    LARGE = "l"


@attrs.define
class Address:
    street: str
    city: str
    zip: str | None = None
    tags: frozenset[str] = frozenset()


@attrs.define
class Inner:
    n: int
    address: Address
    points: list[Address] = attrs.field(factory=list)


@attrs.define
class Everything:
    id: str
    text: str
    empty_text: str
    integer: int
    negative: int
    big_int: int
    real: float
    decimal: Decimal
    decimal_38: Decimal
    tiny_decimal: Decimal
    flag: bool
    blob: bytes
    empty_blob: bytes
    nothing: str | None
    optional_int: Optional[int]  # noqa: UP045 - the typing.Optional spelling on purpose
    int_list: list[int]
    mixed_tuple: tuple[int, str, bool]
    var_tuple: tuple[str, ...]
    nested_list: list[list[str]]
    mapping: dict[str, int]
    nested_mapping: dict[str, dict[str, list[float]]]
    str_set: set[str]
    int_frozenset: frozenset[int]
    bytes_set: set[bytes]
    decimal_set: frozenset[Decimal]
    empty_str_set: set[str]
    empty_int_set: frozenset[int]
    empty_bytes_set: set[bytes]
    when: dt.datetime
    when_epoch: Annotated[dt.datetime, EpochSeconds]
    day: dt.date
    uid: uuid.UUID
    color: Color
    level: Level
    size: Size
    choice: Literal["a", "b"]
    number_choice: Literal[1, 2, 3]
    inner: Inner
    maybe_inner: Inner | None
    anything: Any
    any_list: Any
    any_none: Any
    list_of_optional: list[int | None]
    union: int | str
    defaulted: str = "default"
    defaulted_set: frozenset[str] = frozenset()


everything = Mapper(Everything, table="everything", partition_key="id")

NOW = dt.datetime(2024, 2, 29, 23, 59, 58, 999999, tzinfo=UTC)

EVERYTHING = Everything(
    id="e1",
    text="héllo wörld ✓ 🎉",
    empty_text="",
    integer=42,
    negative=-17,
    big_int=10**37 + 1,
    real=0.1,
    decimal=Decimal("19.99"),
    decimal_38=Decimal("1.2345678901234567890123456789012345678"),
    tiny_decimal=Decimal("1E-130"),
    flag=True,
    blob=b"\x00\x01\xffbinary",
    empty_blob=b"",
    nothing=None,
    optional_int=7,
    int_list=[3, 1, 2],
    mixed_tuple=(1, "two", False),
    var_tuple=("x", "y", "z"),
    nested_list=[["a"], [], ["b", "c"]],
    mapping={"one": 1, "two": 2},
    nested_mapping={"m": {"xs": [1.5, -2.25]}, "empty": {}},
    str_set={"a", "b"},
    int_frozenset=frozenset({1, 2, 3}),
    bytes_set={b"\x01", b"\x02"},
    decimal_set=frozenset({Decimal("1.5"), Decimal("2")}),
    empty_str_set=set(),
    empty_int_set=frozenset(),
    empty_bytes_set=set(),
    when=NOW,
    when_epoch=dt.datetime(2030, 1, 1, 12, 0, 0, 250000, tzinfo=UTC),
    day=dt.date(1999, 12, 31),
    uid=uuid.UUID("12345678-1234-5678-1234-567812345678"),
    color=Color.GREEN,
    level=Level.HIGH,
    size=Size.LARGE,
    choice="b",
    number_choice=3,
    inner=Inner(1, Address("Main St", "Springfield", tags=frozenset({"home"})), []),
    maybe_inner=Inner(2, Address("Elm St", "Shelbyville", "12345"), [Address("A", "B")]),
    anything={"k": [1, "two", None, True, {"deep": b"\x00"}]},
    any_list=["x", 1, [2, 3]],
    any_none=None,
    list_of_optional=[1, None, 3],
    union="text",
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared_db(dynamorm_endpoint):
    db = await open_test_database(dynamorm_endpoint, [everything])
    try:
        yield db
    finally:
        await db.schema.delete(everything, wait=False)
        await db.close()


@pytest.fixture
def repo(shared_db):
    return shared_db.repository(everything)


async def raw(db, repo, key: str) -> dict[str, Any]:
    response = await db.client.get_item(
        TableName=repo.table, Key={"id": {"S": key}}, ConsistentRead=True
    )
    item: dict[str, Any] = response["Item"]
    return item


async def test_every_type_round_trips(repo):
    stored = await repo.put(EVERYTHING)
    assert stored == EVERYTHING
    loaded = await repo.get("e1", consistent=True)
    assert loaded == EVERYTHING
    assert loaded is not None
    # Equal is not enough where types differ but compare equal.
    assert type(loaded.integer) is int
    assert type(loaded.real) is float
    assert type(loaded.decimal) is Decimal
    assert loaded.decimal_38.as_tuple() == EVERYTHING.decimal_38.as_tuple()
    assert type(loaded.flag) is bool
    assert type(loaded.blob) is bytes
    assert type(loaded.mixed_tuple) is tuple
    assert type(loaded.var_tuple) is tuple
    assert type(loaded.str_set) is set
    assert type(loaded.int_frozenset) is frozenset
    assert type(loaded.empty_str_set) is set
    assert type(loaded.empty_int_set) is frozenset
    assert loaded.color is Color.GREEN
    assert type(loaded.inner.address) is Address
    assert loaded.when.tzinfo is not None
    assert loaded.when.utcoffset() == dt.timedelta(0)


async def test_int_and_str_mixin_enums_decode_to_members(repo):
    await repo.put(EVERYTHING)
    loaded = await repo.get("e1", consistent=True)
    assert loaded is not None
    # IntEnum and (str, Enum) members compare equal to their values: check the type.
    assert type(loaded.level) is Level, f"decoded as {loaded.level!r}"
    assert type(loaded.size) is Size, f"decoded as {loaded.size!r}"


async def test_wire_form_of_every_type(repo, shared_db):
    await repo.put(EVERYTHING)
    item = await raw(shared_db, repo, "e1")
    assert item["text"] == {"S": EVERYTHING.text}
    assert item["empty_text"] == {"S": ""}
    assert item["integer"] == {"N": "42"}
    assert item["big_int"] == {"N": str(10**37 + 1)}
    assert item["real"] == {"N": "0.1"}
    assert item["decimal"] == {"N": "19.99"}
    assert Decimal(item["decimal_38"]["N"]) == EVERYTHING.decimal_38
    assert item["flag"] == {"BOOL": True}
    assert item["blob"] == {"B": b"\x00\x01\xffbinary"}
    assert item["empty_blob"] == {"B": b""}
    assert "nothing" not in item  # None is left out of the item
    assert item["int_list"] == {"L": [{"N": "3"}, {"N": "1"}, {"N": "2"}]}
    assert item["mixed_tuple"] == {"L": [{"N": "1"}, {"S": "two"}, {"BOOL": False}]}
    assert item["mapping"] == {"M": {"one": {"N": "1"}, "two": {"N": "2"}}}
    assert sorted(item["str_set"]["SS"]) == ["a", "b"]
    assert sorted(item["int_frozenset"]["NS"]) == ["1", "2", "3"]
    assert sorted(item["bytes_set"]["BS"]) == [b"\x01", b"\x02"]
    # DynamoDB has no empty sets: they are left out.
    assert "empty_str_set" not in item
    assert "empty_int_set" not in item
    assert "empty_bytes_set" not in item
    assert "defaulted_set" not in item
    assert item["when"] == {"S": "2024-02-29T23:59:58.999999Z"}
    assert Decimal(item["when_epoch"]["N"]) == Decimal("1893499200.25")
    assert item["day"] == {"S": "1999-12-31"}
    assert item["uid"] == {"S": "12345678-1234-5678-1234-567812345678"}
    assert item["color"] == {"S": "green"}
    assert item["level"] == {"N": "2"}
    assert item["size"] == {"S": "l"}
    assert item["choice"] == {"S": "b"}
    assert item["number_choice"] == {"N": "3"}
    assert item["inner"]["M"]["address"]["M"]["city"] == {"S": "Springfield"}
    assert "zip" not in item["inner"]["M"]["address"]["M"]
    assert "any_none" not in item  # None is left out, as in an Optional field
    assert item["list_of_optional"] == {"L": [{"N": "1"}, {"NULL": True}, {"N": "3"}]}
    assert item["union"] == {"S": "text"}


async def test_items_written_with_null_or_without_optionals_read_back(repo, shared_db):
    await repo.put(EVERYTHING)
    item = await raw(shared_db, repo, "e1")
    # Another writer stores NULL for the optional field and leaves out the default.
    item["nothing"] = {"NULL": True}
    item["optional_int"] = {"NULL": True}
    item["maybe_inner"] = {"NULL": True}
    del item["defaulted"]
    await shared_db.client.put_item(TableName=repo.table, Item=item)
    loaded = await repo.get("e1", consistent=True)
    assert loaded == attrs.evolve(EVERYTHING, optional_int=None, maybe_inner=None)


async def test_datetime_in_other_timezone_is_the_same_instant(repo):
    paris = dt.timezone(dt.timedelta(hours=1))
    local = NOW.astimezone(paris)
    stored = await repo.put(attrs.evolve(EVERYTHING, when=local, when_epoch=local))
    loaded = await repo.get("e1")
    assert loaded == stored
    assert loaded is not None
    assert loaded.when == NOW
    assert loaded.when_epoch == NOW


@pytest.mark.parametrize(
    "when",
    [
        dt.datetime(1, 1, 1, tzinfo=UTC),
        dt.datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
        dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ],
    ids=["year-1", "year-999", "before-epoch", "year-9999"],
)
async def test_extreme_datetimes_round_trip(repo, when):
    value = attrs.evolve(EVERYTHING, when=when, when_epoch=when, day=when.date())
    await repo.put(value)
    assert await repo.get("e1", consistent=True) == value


@pytest.mark.parametrize(
    "number",
    [
        Decimal("9.9999999999999999999999999999999999999E+125"),
        Decimal("-9.9999999999999999999999999999999999999E+125"),
        Decimal("1E-130"),
        Decimal("-1E-130"),
        Decimal("12345678901234567890123456789012345678"),
        Decimal("0"),
        Decimal("100.000"),
    ],
)
async def test_decimal_limits_round_trip(repo, number):
    value = attrs.evolve(EVERYTHING, decimal=number)
    await repo.put(value)
    loaded = await repo.get("e1", consistent=True)
    assert loaded is not None
    assert loaded.decimal == number


@attrs.define
class Session:
    id: str
    user: str
    expires_at: dt.datetime
    refresh_by: dt.datetime | None = None


sessions = Mapper(Session, table="sessions", partition_key="id", ttl_attribute="expires_at")


@attrs.define
class OptionalTtl:
    id: str
    expires_at: dt.datetime | None = None


optional_ttl = Mapper(
    OptionalTtl, table="optional-ttl", partition_key="id", ttl_attribute="expires_at"
)


@attrs.define
class IntTtl:
    id: str
    expires_at: int


int_ttl = Mapper(IntTtl, table="int-ttl", partition_key="id", ttl_attribute="expires_at")


@pytest.mark.parametrize("dynamorm_mappers", [[sessions, optional_ttl, int_ttl]])
async def test_ttl_attribute_stored_as_epoch_seconds(dynamorm_db):
    repo = dynamorm_db.repository(sessions)
    expires = dt.datetime(2030, 1, 1, tzinfo=UTC)
    refresh = dt.datetime(2029, 12, 31, tzinfo=UTC)
    await repo.put(Session("s1", "ada", expires, refresh))
    response = await dynamorm_db.client.get_item(TableName=repo.table, Key={"id": {"S": "s1"}})
    item = response["Item"]
    assert item["expires_at"] == {"N": "1893456000"}
    assert item["refresh_by"] == {"S": "2029-12-31T00:00:00.000000Z"}  # not the TTL: ISO
    assert await repo.get("s1") == Session("s1", "ada", expires, refresh)
    ttl = await dynamorm_db.client.describe_time_to_live(TableName=repo.table)
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] in ("ENABLED", "ENABLING")
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"

    repo2 = dynamorm_db.repository(optional_ttl)
    await repo2.put(OptionalTtl("o1", expires))
    await repo2.put(OptionalTtl("o2"))
    response = await dynamorm_db.client.get_item(TableName=repo2.table, Key={"id": {"S": "o1"}})
    assert response["Item"]["expires_at"] == {"N": "1893456000"}
    response = await dynamorm_db.client.get_item(TableName=repo2.table, Key={"id": {"S": "o2"}})
    assert "expires_at" not in response["Item"]
    assert await repo2.get("o1") == OptionalTtl("o1", expires)
    assert await repo2.get("o2") == OptionalTtl("o2")

    repo3 = dynamorm_db.repository(int_ttl)
    await repo3.put(IntTtl("i1", 1893456000))
    response = await dynamorm_db.client.get_item(TableName=repo3.table, Key={"id": {"S": "i1"}})
    assert response["Item"]["expires_at"] == {"N": "1893456000"}
    assert await repo3.get("i1") == IntTtl("i1", 1893456000)


@pytest.mark.parametrize("dynamorm_mappers", [[sessions]])
async def test_ttl_attribute_in_update_and_condition_uses_epoch_seconds(dynamorm_db):
    repo = dynamorm_db.repository(sessions)
    expires = dt.datetime(2030, 1, 1, tzinfo=UTC)
    await repo.put(Session("s1", "ada", expires))
    later = dt.datetime(2031, 1, 1, tzinfo=UTC)
    updated = await repo.update(
        "s1",
        set={"expires_at": later},
        condition=attr("expires_at") < dt.datetime(2030, 6, 1, tzinfo=UTC),
    )
    assert updated == Session("s1", "ada", later)
    response = await dynamorm_db.client.get_item(TableName=repo.table, Key={"id": {"S": "s1"}})
    assert response["Item"]["expires_at"] == {"N": "1924992000"}
