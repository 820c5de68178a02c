"""Batch and transactional reads against the server: chunks, order, gaps, duplicates.

200 tags (t0..t199) and 20 events (stream "s", seq 0..19) are written once for the
module with the raw client; every test only reads them.
"""

from __future__ import annotations

import contextlib
import random

import pytest
import pytest_asyncio
from _writes_helpers import Event, Tag, events, operations, raw_put, sent_requests, tags

from dynamorm_async import ValidationError
from dynamorm_async.testing.pytest_plugin import open_test_database

TAGS = [Tag(f"t{i}", f"label{i}", i) for i in range(200)]
EVENTS = [Event("s", seq, "k") for seq in range(20)]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared_db(dynamorm_endpoint):
    db = await open_test_database(dynamorm_endpoint, [tags, events])
    try:
        await raw_put(db, tags, TAGS)
        await raw_put(db, events, EVENTS)
        yield db
    finally:
        for mapper in (tags, events):
            await db.schema.delete(mapper, wait=False)
        await db.close()


@pytest.fixture
def tag_repo(shared_db):
    return shared_db.repository(tags)


@pytest.fixture
def event_repo(shared_db):
    return shared_db.repository(events)


def tag(key: str) -> Tag | None:
    index = int(key[1:])
    return TAGS[index] if key.startswith("t") and index < len(TAGS) else None


def keys_of(params):
    return [k for table in params["RequestItems"].values() for k in table["Keys"]]


# --- repo.batch_get ------------------------------------------------------------------------------


async def test_250_keys_take_3_requests_and_keep_their_order(shared_db, tag_repo):
    keys = [f"t{i}" for i in range(200)] + [f"m{i}" for i in range(50)]  # m...: missing
    random.Random(4).shuffle(keys)
    with sent_requests(shared_db) as sent:
        found = await tag_repo.batch_get(keys)
    assert operations(sent) == ["BatchGetItem"] * 3
    assert sorted(len(keys_of(params)) for _, params in sent) == [50, 100, 100]
    assert found == [tag(k) for k in keys]
    assert found.count(None) == 50


async def test_duplicate_keys_are_read_once_and_answered_everywhere(shared_db, tag_repo):
    keys = ["t1", "t2", "t1", "nope", "t2", "t1", "nope"]
    with sent_requests(shared_db) as sent:
        found = await tag_repo.batch_get(keys)
    assert operations(sent) == ["BatchGetItem"]
    assert sorted(k["id"]["S"] for k in keys_of(sent[0][1])) == ["nope", "t1", "t2"]
    assert found == [TAGS[1], TAGS[2], TAGS[1], None, TAGS[2], TAGS[1], None]


async def test_keys_in_every_form(tag_repo, event_repo):
    found = await event_repo.batch_get(
        [("s", 1), {"stream": "s", "seq": 2}, Event("s", 3), ("s", 99), ("x", 1)]
    )
    assert found == [EVENTS[1], EVENTS[2], EVENTS[3], None, None]
    assert await tag_repo.batch_get([Tag("t5"), {"id": "t6"}, "t7"]) == TAGS[5:8]


async def test_as_dict_keys_by_the_key_as_given(tag_repo, event_repo):
    assert await tag_repo.batch_get(["t1", "nope", {"id": "t2"}, Tag("t3")], as_dict=True) == {
        "t1": TAGS[1],
        "nope": None,
        "t2": TAGS[2],
        "t3": TAGS[3],
    }
    by_key = await event_repo.batch_get(
        [("s", 1), {"stream": "s", "seq": 2}, Event("s", 3), ("s", 99)], as_dict=True
    )
    assert by_key == {
        ("s", 1): EVENTS[1],
        ("s", 2): EVENTS[2],
        ("s", 3): EVENTS[3],
        ("s", 99): None,
    }


async def test_consistent_reads_are_asked_for_in_every_request(shared_db, tag_repo):
    with sent_requests(shared_db) as sent:
        found = await tag_repo.batch_get([f"t{i}" for i in range(150)], consistent=True)
    assert found == TAGS[:150]
    assert len(sent) == 2
    assert all(
        table["ConsistentRead"] is True for _, p in sent for table in p["RequestItems"].values()
    )


async def test_no_keys_sends_nothing(shared_db, tag_repo):
    with sent_requests(shared_db) as sent:
        assert await tag_repo.batch_get([]) == []
        assert await tag_repo.batch_get([], as_dict=True) == {}
    assert sent == []


async def test_invalid_key_is_refused_before_sending(shared_db, event_repo):
    with sent_requests(shared_db) as sent, pytest.raises(ValidationError):
        await event_repo.batch_get([("s", 1), "s"])  # a composite key needs both parts
    assert sent == []


# --- db.batch_get over several mappers ------------------------------------------------------------


async def test_batch_get_over_two_mappers(shared_db):
    with sent_requests(shared_db) as sent:
        found = await shared_db.batch_get(
            {tags: ["t3", "nope", "t1"], events: [("s", 19), ("s", 20), ("s", 0)]}
        )
    assert found == {tags: [TAGS[3], None, TAGS[1]], events: [EVENTS[19], None, EVENTS[0]]}
    assert operations(sent) == ["BatchGetItem"]  # both tables in one request
    assert set(sent[0][1]["RequestItems"]) == {
        shared_db.table_name(tags),
        shared_db.table_name(events),
    }


async def test_batch_get_over_two_mappers_in_several_chunks(shared_db):
    tag_keys = [f"t{i}" for i in range(199, -1, -1)]
    event_keys = [("s", seq) for seq in range(25)]
    with sent_requests(shared_db) as sent:
        found = await shared_db.batch_get({tags: tag_keys, events: event_keys})
    assert found[tags] == TAGS[::-1]
    assert found[events] == [*EVENTS, *[None] * 5]
    assert len(sent) == 3  # 225 keys
    assert all(len(keys_of(p)) <= 100 for _, p in sent)


# --- transact_get ------------------------------------------------------------------------------


async def test_transact_get_keeps_order_with_none_for_missing(shared_db):
    with sent_requests(shared_db) as sent:
        found = await shared_db.transact_get(
            [(tags, "t1"), (events, ("s", 1)), (tags, "nope"), (events, ("s", 99)), (tags, "t0")]
        )
    assert found == [TAGS[1], EVENTS[1], None, None, TAGS[0]]
    assert operations(sent) == ["TransactGetItems"]


async def test_transact_get_reads_up_to_100_items(shared_db):
    assert await shared_db.transact_get([(tags, f"t{i}") for i in range(25)]) == TAGS[:25]
    wanted = [(tags, f"t{i}") for i in range(100)]
    # moto (5.2) still holds TransactGetItems to 25 items, DynamoDB's old limit (100 since
    # 2022): check only that 100 are sent, in one request, whatever moto answers.
    with sent_requests(shared_db) as sent, contextlib.suppress(ValidationError):
        await shared_db.transact_get(wanted)
    assert [len(p["TransactItems"]) for _, p in sent] == [100]
    with sent_requests(shared_db) as sent, pytest.raises(ValidationError, match="at most 100"):
        await shared_db.transact_get([*wanted, (tags, "t100")])
    assert sent == []


async def test_transact_get_refuses_a_repeated_item(shared_db):
    with sent_requests(shared_db) as sent, pytest.raises(ValidationError, match="repeat"):
        await shared_db.transact_get([(tags, "t1"), (events, ("s", 1)), (tags, {"id": "t1"})])
    assert sent == []


async def test_transact_get_of_nothing_sends_nothing(shared_db):
    with sent_requests(shared_db) as sent:
        assert await shared_db.transact_get([]) == []
    assert sent == []
