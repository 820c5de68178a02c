"""Key values on the server: TTL datetimes as index keys, sizes at the limits, empties."""

from __future__ import annotations

import datetime as dt

import attrs
import pytest

from dynamorm_async import GlobalIndex, Mapper, ValidationError

UTC = dt.timezone.utc
EXPIRES = dt.datetime(2030, 1, 1, tzinfo=UTC)


@attrs.define
class Grant:
    tenant: str
    name: str
    owner: str | None = None
    expires: dt.datetime | None = None


grants = Mapper(
    Grant,
    table="grants",
    partition_key="tenant",
    sort_key="name",
    indexes=[GlobalIndex("by-owner", partition_key="owner", sort_key="expires")],
    ttl_attribute="expires",
)


@pytest.fixture
def dynamorm_mappers():
    return [grants]


@pytest.fixture
def repo(dynamorm_db):
    return dynamorm_db.repository(grants)


async def test_ttl_datetime_index_key_is_a_number_attribute_of_the_table(repo, dynamorm_db):
    table = (await dynamorm_db.client.describe_table(TableName=repo.table))["Table"]
    assert {d["AttributeName"]: d["AttributeType"] for d in table["AttributeDefinitions"]} == {
        "tenant": "S",
        "name": "S",
        "owner": "S",
        "expires": "N",
    }
    await repo.put(Grant("t1", "g1", "ann", EXPIRES))
    await repo.put(Grant("t1", "g2"))  # no index key: not in the index
    response = await dynamorm_db.client.query(
        TableName=repo.table,
        IndexName="by-owner",
        KeyConditionExpression="#o = :o AND #e < :e",
        ExpressionAttributeNames={"#o": "owner", "#e": "expires"},
        ExpressionAttributeValues={":o": {"S": "ann"}, ":e": {"N": "1900000000"}},
    )
    assert response["Items"] == [
        {
            "tenant": {"S": "t1"},
            "name": {"S": "g1"},
            "owner": {"S": "ann"},
            "expires": {"N": "1893456000"},
        }
    ]
    assert await repo.get(("t1", "g1")) == Grant("t1", "g1", "ann", EXPIRES)


async def test_keys_at_the_size_limits_are_stored(repo):
    # The index keys too: owner (index partition key) 2048 bytes.
    grant = Grant("t" * 2048, "n" * 1024, "o" * 2048, EXPIRES)
    assert await repo.put(grant) == grant
    assert await repo.get(("t" * 2048, "n" * 1024)) == grant


@pytest.mark.parametrize(
    ("grant", "message"),
    [
        (
            Grant("t" * 2049, "g1"),
            "Grant.tenant is a key field of 2049 bytes; DynamoDB allows at most 2048 for a "
            "partition key",
        ),
        (
            Grant("t1", "n" * 1025),
            "Grant.name is a key field of 1025 bytes; DynamoDB allows at most 1024 for a sort key",
        ),
        (
            Grant("t1", "g1", "o" * 2049),
            "Grant.owner is a key field of 2049 bytes; DynamoDB allows at most 2048 for a "
            "partition key",
        ),
        (
            Grant("t1", "g1", ""),
            "Grant.owner is a key field and cannot be empty (DynamoDB allows empty strings "
            "and binary everywhere but in keys)",
        ),
    ],
)
async def test_key_values_the_server_would_refuse_are_refused_before_sending(
    repo, dynamorm_db, grant, message
):
    with pytest.raises(ValidationError) as info:
        await repo.put(grant)
    assert info.value.message == message
    assert info.value.operation == "PutItem"
    scan = await dynamorm_db.client.scan(TableName=repo.table)
    assert scan["Items"] == []


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"owner": ""}, "Grant.owner is a key field and cannot be empty"),
        ({"owner": "o" * 2049}, "Grant.owner is a key field of 2049 bytes"),
    ],
)
async def test_update_of_an_index_key_is_checked_before_sending(
    repo, dynamorm_db, changes, message
):
    stored = await repo.put(Grant("t1", "g1", "ann", EXPIRES))
    with pytest.raises(ValidationError) as info:
        await repo.update(("t1", "g1"), set=changes)
    assert info.value.message.startswith(message)
    assert info.value.operation == "UpdateItem"
    assert await repo.get(("t1", "g1"), consistent=True) == stored
    # Removing the index key is fine: the item leaves the index.
    assert await repo.update(("t1", "g1"), set={"owner": None}) == Grant("t1", "g1", None, EXPIRES)
