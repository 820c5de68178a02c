"""The embedded local DynamoDB and the pytest plugin's fixtures."""

from __future__ import annotations

import os
from urllib.parse import urlparse

import attrs
import pytest

from dynamorm_async import Database, Mapper, TransportError
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb, running_local_dynamodb
from dynamorm_async.testing.pytest_plugin import open_test_database


@attrs.define
class Widget:
    id: str
    size: int = 0


widgets = Mapper(Widget, table="widgets", partition_key="id")


@attrs.define
class Gadget:
    id: str


gadgets = Mapper(Gadget, table="gadgets", partition_key="id")


@pytest.fixture
def dynamorm_mappers():
    return [widgets, gadgets]


def assert_local_url(url: str) -> None:
    parsed = urlparse(url)
    assert parsed.scheme == "http"
    assert parsed.hostname == "127.0.0.1"
    assert parsed.port is not None
    assert parsed.port > 0


async def test_local_dynamodb_serves_then_stops_on_exit():
    async with local_dynamodb() as url:
        assert_local_url(url)
        async with Database.connect(url, mappers=[widgets], **LOCAL_CREDENTIALS) as db:
            await db.schema.create(widgets)
            repo = db.repository(widgets)
            await repo.put(Widget("w1", 3))
            assert await repo.get("w1") == Widget("w1", 3)
            await db.schema.delete(widgets)
    # The server is gone: a request to its URL fails to connect.
    db = Database.connect(
        url,
        mappers=[widgets],
        max_attempts=1,
        connect_timeout=2,
        read_timeout=2,
        **LOCAL_CREDENTIALS,
    )
    async with db:
        with pytest.raises(TransportError) as info:
            await db.repository(widgets).get("w1")
        assert info.value.operation == "GetItem"
        with pytest.raises(TransportError):
            await db.schema.exists(widgets)


async def test_local_dynamodb_stops_when_the_body_raises():
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with local_dynamodb() as url:
            raise Boom
    async with Database.connect(url, max_attempts=1, connect_timeout=2, **LOCAL_CREDENTIALS) as db:
        with pytest.raises(TransportError):
            await db.schema.exists(widgets)


def test_running_local_dynamodb_sync_form():
    with running_local_dynamodb() as url:
        assert_local_url(url)


def test_dynamorm_endpoint_is_the_embedded_server(dynamorm_endpoint):
    if os.environ.get("DYNAMORM_TEST_ENDPOINT"):
        assert dynamorm_endpoint == os.environ["DYNAMORM_TEST_ENDPOINT"]
    else:
        assert_local_url(dynamorm_endpoint)


async def test_dynamorm_db_is_open_with_fresh_tables(dynamorm_db, dynamorm_mappers):
    assert dynamorm_db.transport.is_open
    assert dynamorm_db.mappers == dynamorm_mappers
    for mapper in dynamorm_mappers:
        table = await dynamorm_db.schema.describe(mapper)
        assert table["TableStatus"] == "ACTIVE"
        assert table["ItemCount"] == 0
        scanned = await dynamorm_db.client.scan(TableName=dynamorm_db.table_name(mapper))
        assert scanned["Items"] == []
    # The tables carry a prefix of their own, not the mapper's bare name.
    names = [dynamorm_db.table_name(m) for m in dynamorm_mappers]
    assert all(
        name != m.table and name.endswith("-" + m.table)
        for name, m in zip(names, dynamorm_mappers, strict=True)
    )


_seen_tables: list[str] = []


async def test_dynamorm_db_first_use_records_its_tables(dynamorm_db):
    # Writes an item, so the next test can check that it starts from fresh tables.
    await dynamorm_db.repository(widgets).put(Widget("w1"))
    _seen_tables.append(dynamorm_db.table_name(widgets))


async def test_dynamorm_db_tables_are_dropped_and_prefix_is_unique(dynamorm_db):
    assert _seen_tables, "runs after test_dynamorm_db_first_use_records_its_tables"
    current = dynamorm_db.table_name(widgets)
    assert current not in _seen_tables  # a unique prefix per test
    assert await dynamorm_db.repository(widgets).get("w1") is None
    listed = await dynamorm_db.client.list_tables()
    assert not set(_seen_tables) & set(listed["TableNames"])  # dropped after the test


@pytest.mark.parametrize("dynamorm_mappers", [[gadgets]])
async def test_dynamorm_mappers_can_be_overridden_per_test(dynamorm_db):
    assert dynamorm_db.mappers == [gadgets]
    assert await dynamorm_db.schema.exists(gadgets)
    assert not await dynamorm_db.schema.exists(widgets)


async def test_open_test_database_gives_unique_prefixes(dynamorm_endpoint):
    first = await open_test_database(dynamorm_endpoint, [widgets])
    second = await open_test_database(dynamorm_endpoint, [widgets])
    try:
        assert first.table_name(widgets) != second.table_name(widgets)
        await first.repository(widgets).put(Widget("w1"))
        assert await second.repository(widgets).get("w1") is None
    finally:
        for db in (first, second):
            await db.schema.delete(widgets)
            await db.close()
