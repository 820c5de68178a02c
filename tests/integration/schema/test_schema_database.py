"""`Database`: table-name templates, registration and the client's lifecycle."""

from __future__ import annotations

import itertools
import os

import attrs
import pytest

from dynamorm_async import Database, Mapper, MappingError, Repository, TransportError
from dynamorm_async.testing import LOCAL_CREDENTIALS


@attrs.define
class Note:
    id: str
    text: str = ""


notes = Mapper(Note, table="notes", partition_key="id")
archived_notes = Mapper(Note, table="archived-notes", partition_key="id")

_envs = itertools.count(1)


@pytest.fixture
def env() -> str:
    """A template variable unique to the test, so its tables are its own."""
    return f"env{os.getpid()}x{next(_envs)}"


def connect(endpoint: str, **kwargs) -> Database:
    return Database.connect(endpoint, **LOCAL_CREDENTIALS, **kwargs)


# --- table-name templates -----------------------------------------------------------------


async def test_table_name_template_with_vars(dynamorm_endpoint, env):
    async with connect(
        dynamorm_endpoint,
        mappers=[notes],
        table_name_template="{env}-{table}",
        table_name_vars={"env": env},
    ) as db:
        assert db.table_name(notes) == f"{env}-notes"
        assert db.repository(notes).table == f"{env}-notes"
        await db.schema.create(notes)
        try:
            table = await db.schema.describe(notes)
            assert table["TableName"] == f"{env}-notes"
            listed = await db.client.list_tables()
            assert f"{env}-notes" in listed["TableNames"]
            assert "notes" not in listed["TableNames"]
            repo = db.model(Note)
            await repo.put(Note("n1", "hello"))
            raw = await db.client.get_item(TableName=f"{env}-notes", Key={"id": {"S": "n1"}})
            assert raw["Item"]["text"] == {"S": "hello"}
        finally:
            await db.schema.delete(notes)


async def test_two_databases_with_different_vars_use_separate_tables(dynamorm_endpoint, env):
    async with (
        connect(
            dynamorm_endpoint,
            table_name_template="{env}-{table}",
            table_name_vars={"env": env + "a"},
        ) as db_a,
        connect(
            dynamorm_endpoint,
            table_name_template="{env}-{table}",
            table_name_vars={"env": env + "b"},
        ) as db_b,
    ):
        await db_a.schema.create(notes)
        await db_b.schema.create(notes)
        try:
            await db_a.repository(notes).put(Note("n1", "from a"))
            assert await db_b.repository(notes).get("n1") is None
            assert await db_a.repository(notes).get("n1") == Note("n1", "from a")
        finally:
            await db_a.schema.delete(notes)
            await db_b.schema.delete(notes)


def test_template_without_table_field_is_refused(dynamorm_endpoint):
    with pytest.raises(MappingError) as info:
        connect(dynamorm_endpoint, table_name_template="{env}-tbl", table_name_vars={"env": "x"})
    assert "{table}" in str(info.value)


def test_template_with_unknown_variable_is_refused(dynamorm_endpoint):
    with pytest.raises(MappingError) as info:
        connect(dynamorm_endpoint, table_name_template="{env}-{table}")
    assert "env" in str(info.value)
    with pytest.raises(MappingError):
        connect(
            dynamorm_endpoint,
            table_name_template="{env}-{region}-{table}",
            table_name_vars={"env": "prod"},
        )


@pytest.mark.parametrize(
    ("template", "variables"),
    [("{table}!", {}), ("{env} {table}", {"env": "a"}), ("{env}/{table}", {"env": "a"})],
    ids=["bang", "space", "slash"],
)
def test_template_making_an_invalid_table_name_is_refused(dynamorm_endpoint, template, variables):
    with pytest.raises(MappingError) as info:
        connect(
            dynamorm_endpoint,
            mappers=[notes],
            table_name_template=template,
            table_name_vars=variables,
        )
    assert "table name" in str(info.value)


def test_template_making_too_long_a_table_name_is_refused(dynamorm_endpoint):
    db = connect(
        dynamorm_endpoint, table_name_template="{env}-{table}", table_name_vars={"env": "x" * 250}
    )
    with pytest.raises(MappingError):
        db.register(notes)
    with pytest.raises(MappingError):
        db.repository(notes)


# --- registration ---------------------------------------------------------------------------


async def test_model_and_repository_lookup(dynamorm_endpoint):
    db = connect(dynamorm_endpoint, mappers=[notes])
    repo = db.model(Note)
    assert isinstance(repo, Repository)
    assert repo.mapper is notes
    assert db.repository(notes) is repo  # one repository per mapper
    assert db.mappers == [notes]
    db.register(notes)  # registering twice is harmless
    assert db.mappers == [notes]


async def test_model_of_class_with_two_mappers_is_ambiguous(dynamorm_endpoint):
    db = connect(dynamorm_endpoint, mappers=[notes, archived_notes])
    with pytest.raises(MappingError) as info:
        db.model(Note)
    assert "repository" in str(info.value)
    assert db.repository(archived_notes).mapper is archived_notes


def test_register_of_non_mapper_is_refused(dynamorm_endpoint):
    db = connect(dynamorm_endpoint)
    with pytest.raises(MappingError):
        db.register(Note)  # type: ignore[arg-type]


# --- lifecycle --------------------------------------------------------------------------------


async def test_client_before_open_raises_transport_error(dynamorm_endpoint):
    db = connect(dynamorm_endpoint, mappers=[notes])
    with pytest.raises(TransportError) as info:
        _ = db.client
    assert "connect" in str(info.value)
    assert "closed" in repr(db)


async def test_request_before_open_raises_transport_error_with_context(dynamorm_endpoint):
    db = connect(dynamorm_endpoint, mappers=[notes])
    repo = db.repository(notes)
    with pytest.raises(TransportError) as info:
        await repo.get("n1")
    assert info.value.table == repo.table
    assert info.value.operation == "GetItem"
    with pytest.raises(TransportError):
        await db.schema.exists(notes)


async def test_async_with_opens_and_closes(dynamorm_endpoint):
    db = connect(dynamorm_endpoint, mappers=[notes])
    async with db as opened:
        assert opened is db
        assert db.transport.is_open
        assert "open" in repr(db)
        listed = await db.client.list_tables()
        assert "TableNames" in listed
    assert not db.transport.is_open
    with pytest.raises(TransportError):
        _ = db.client
    with pytest.raises(TransportError):
        await db.repository(notes).get("n1")


async def test_async_with_closes_on_error(dynamorm_endpoint):
    db = connect(dynamorm_endpoint)

    class Boom(Exception):
        pass

    async def fail_inside() -> None:
        async with db:
            assert db.transport.is_open
            raise Boom

    with pytest.raises(Boom):
        await fail_inside()
    assert not db.transport.is_open


async def test_open_close_and_reopen(dynamorm_endpoint, env):
    db = connect(
        dynamorm_endpoint,
        mappers=[notes],
        table_name_template="{env}-{table}",
        table_name_vars={"env": env},
    )
    assert await db.open() is db
    await db.open()  # opening an open database is harmless
    await db.schema.create(notes)
    await db.close()
    await db.close()  # so is closing a closed one
    assert not db.transport.is_open
    await db.open()  # e.g. a FastAPI lifespan run twice in tests
    try:
        await db.repository(notes).put(Note("n1"))
        assert await db.repository(notes).get("n1") == Note("n1")
        await db.schema.delete(notes)
    finally:
        await db.close()


async def test_unreachable_endpoint_raises_transport_error():
    db = Database.connect(
        "http://127.0.0.1:9",  # the discard port: nothing listens
        mappers=[notes],
        max_attempts=1,
        connect_timeout=1,
        read_timeout=1,
        **LOCAL_CREDENTIALS,
    )
    async with db:
        with pytest.raises(TransportError) as info:
            await db.repository(notes).get("n1")
    assert info.value.operation == "GetItem"
    assert "notes" in str(info.value)
