"""Misuse of the batch and transaction APIs gets typed errors before anything is sent;
a transaction's token can be reused; updates count toward the 4 MB limit."""

from __future__ import annotations

import pytest
from _writes_helpers import Tag, sent_requests, tags

from dynamorm_async import MappingError, TransportError, ValidationError, attr


@pytest.fixture
def dynamorm_mappers():
    return [tags]


async def test_bad_arguments_are_refused_before_sending(dynamorm_db):
    db = dynamorm_db
    repo = db.repository(tags)
    with sent_requests(db) as sent:
        with pytest.raises(ValidationError, match="collection of keys"):
            await repo.batch_get("ab")
        with pytest.raises(ValidationError, match="collection of keys"):
            await db.batch_get({tags: "ab"})
        with pytest.raises(ValidationError, match=r"\(mapper, key\) pairs"):
            await db.transact_get([Tag("a")])
        with pytest.raises(MappingError, match="expected a Mapper"):
            db.unit_of_work().check(Tag("a"), "a", attr("label").exists())
        with pytest.raises(ValidationError, match="ClientRequestToken"):
            db.transaction(token="x" * 37)
        with pytest.raises(ValidationError, match="attempts"):
            db.transaction(attempts=0)
    assert sent == []


async def test_a_condition_mistake_fails_when_added_not_at_commit(dynamorm_db):
    uow = dynamorm_db.unit_of_work()
    with pytest.raises(MappingError, match="label"):
        uow.put(Tag("a"), condition=attr("labl").not_exists())
    assert len(uow) == 0


async def test_the_token_of_a_transaction_with_an_unknown_outcome_can_be_reused(dynamorm_db):
    db = dynamorm_db
    original = db.transport._send
    tokens = []

    async def lost(operation, request, key):
        tokens.append(request.get("ClientRequestToken"))
        await original(operation, request, key)  # applied...
        raise TransportError("connection reset", retryable=True)  # ...response lost

    db.transport._send = lost
    tx = db.transaction()
    tx.put(Tag("t1", "v"))
    try:
        with pytest.raises(TransportError):
            await tx.commit()
    finally:
        del db.transport._send
    attempts = db.transport.retry_policy.attempts
    assert len(tokens) == attempts
    assert set(tokens) == {tx.token}  # the transport's retries reused the token
    with sent_requests(db) as sent:
        async with db.transaction(token=tx.token) as again:
            again.put(Tag("t1", "v"))
    assert sent[0][1]["ClientRequestToken"] == tx.token


async def test_updates_count_toward_the_four_megabyte_limit(dynamorm_db):
    tx = dynamorm_db.transaction()
    for i in range(15):
        tx.update(f"t{i}", set={"label": "x" * 350_000}, mapper=tags, upsert=True)
    with sent_requests(dynamorm_db) as sent, pytest.raises(ValidationError, match="4,194,304"):
        await tx.commit()
    assert sent == []
