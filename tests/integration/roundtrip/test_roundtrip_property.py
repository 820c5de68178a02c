"""Property: any generated nested attrs instance survives put and get through the server."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import Annotated, Any, Literal

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamorm_async import EpochSeconds, Mapper

UTC = dt.timezone.utc


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    BLUE = 3


@attrs.define
class Leaf:
    text: str
    number: int
    real: float
    decimal: Decimal
    blob: bytes
    flag: bool
    when: dt.datetime
    epoch: Annotated[dt.datetime, EpochSeconds]
    day: dt.date
    uid: uuid.UUID
    color: Color
    mode: Literal["r", "w"]
    optional: str | None
    tags: frozenset[str]
    numbers: set[int]
    blobs: frozenset[bytes]


@attrs.define
class Node:
    id: str
    leaf: Leaf
    leaves: list[Leaf]
    by_name: dict[str, Leaf]
    maybe: Leaf | None
    pair: tuple[int, str]
    matrix: list[list[int]]
    anything: Any
    note: str | None = None
    labels: frozenset[str] = frozenset()


nodes_mapper = Mapper(Node, table="nodes", partition_key="id")

# --- strategies of values DynamoDB can hold ----------------------------------------------

MAX_38 = 10**38 - 1
ints = st.integers(min_value=-MAX_38, max_value=MAX_38)
floats = st.floats(allow_nan=False, allow_infinity=False).filter(
    lambda f: f == 0 or 1e-129 < abs(f) < 9e125
)
decimals = st.builds(
    lambda mantissa, exponent: Decimal(f"{mantissa}E{exponent}"),
    ints,
    st.integers(min_value=-130, max_value=88),
).filter(lambda d: d.is_zero() or -130 <= d.adjusted() <= 125)
offsets = st.builds(
    dt.timezone,
    st.timedeltas(min_value=dt.timedelta(hours=-23), max_value=dt.timedelta(hours=23)),
)
# Years before 1000 are covered by an explicit test (test_roundtrip_types.py).
datetimes = st.datetimes(
    min_value=dt.datetime(1000, 1, 2), max_value=dt.datetime(9998, 12, 31), timezones=offsets
)
# Map keys are never empty: DynamoDB refuses empty attribute names, map keys included.
map_keys = st.text(min_size=1, max_size=8)
json_like = st.recursive(
    st.none() | st.booleans() | ints | st.text(max_size=10) | st.binary(max_size=10),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(map_keys, children, max_size=3)
    ),
    max_leaves=8,
)

leaves = st.builds(
    Leaf,
    text=st.text(max_size=20),
    number=ints,
    real=floats,
    decimal=decimals,
    blob=st.binary(max_size=20),
    flag=st.booleans(),
    when=datetimes,
    epoch=datetimes,
    day=st.dates(),
    uid=st.uuids(),
    color=st.sampled_from(Color),
    mode=st.sampled_from(["r", "w"]),
    optional=st.none() | st.text(max_size=10),
    tags=st.frozensets(st.text(max_size=8), max_size=4),
    numbers=st.sets(ints, max_size=4),
    blobs=st.frozensets(st.binary(max_size=8), max_size=3),
)

node_objects = st.builds(
    Node,
    id=st.text(min_size=1, max_size=20),
    leaf=leaves,
    leaves=st.lists(leaves, max_size=2),
    by_name=st.dictionaries(map_keys, leaves, max_size=2),
    maybe=st.none() | leaves,
    pair=st.tuples(ints, st.text(max_size=5)),
    matrix=st.lists(st.lists(ints, max_size=3), max_size=3),
    anything=json_like,
    note=st.none() | st.text(max_size=10),
    labels=st.frozensets(st.text(min_size=1, max_size=5), max_size=3),
)


@pytest.fixture
def dynamorm_mappers():
    return [nodes_mapper]


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(node=node_objects)
async def test_generated_nested_objects_round_trip(dynamorm_db, node):
    repo = dynamorm_db.repository(nodes_mapper)
    assert await repo.put(node) == node
    loaded = await repo.get(node.id, consistent=True)
    assert loaded == node
