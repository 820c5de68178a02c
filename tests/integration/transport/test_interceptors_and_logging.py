"""Interceptors around each request, the debug log of requests, and secrets.

* `Transport.interceptors` wrap every attempt, outermost first; what they raise is
  mapped like the client's own errors.
* The ``dynamorm_async.requests`` debug log shows operations, tables and expressions;
  keys, items and values are redacted unless ``log_values=True``.
* Credentials and the cursor secret never appear in reprs, errors or our logs, and user
  values never reach expression strings (always placeholders).
"""

from __future__ import annotations

import itertools
import logging

import attrs
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamorm_async import (
    ConditionFailed,
    Database,
    DynamORMError,
    Mapper,
    RetryPolicy,
    ThrottledError,
    TransportError,
    attr,
)


@attrs.define
class Secretive:
    id: str
    note: str = ""
    n: int = 0


secretive = Mapper(Secretive, table="secretive", partition_key="id")

ACCESS_KEY = "AKIAEXAMPLEKEYID1234"
SECRET_KEY = "wJalrXUtnFEMI-SECRET-ACCESS-KEY-xyz"
SESSION_TOKEN = "FwoGZXIvYXdzEXAMPLE-SESSION-TOKEN"
CURSOR_SECRET = "cursor-secret-do-not-print"
SECRETS = (SECRET_KEY, SESSION_TOKEN, CURSOR_SECRET)


@pytest.fixture
def dynamorm_mappers():
    return [secretive]


@pytest.fixture
def db(dynamorm_db):
    dynamorm_db.transport.retry_policy = RetryPolicy(attempts=3, base=0.001, max_backoff=0.005)
    return dynamorm_db


# --- interceptors ----------------------------------------------------------------------


async def test_interceptors_wrap_each_attempt_outermost_first(db):
    calls = []

    def named(name):
        async def interceptor(operation, request, send):
            calls.append((name, operation))
            response = await send(request)
            calls.append((name, "back"))
            return response

        return interceptor

    db.transport.interceptors[:] = [named("outer"), named("inner")]
    try:
        await db.repository(secretive).put(Secretive("a"))
    finally:
        db.transport.interceptors.clear()
    assert calls == [
        ("outer", "PutItem"),
        ("inner", "PutItem"),
        ("inner", "back"),
        ("outer", "back"),
    ]


async def test_an_interceptor_may_change_the_request_and_the_response(db):
    repo = db.repository(secretive)
    await repo.put(Secretive("real", "stored"))

    async def redirect(operation, request, send):
        if operation == "GetItem":
            request = {**request, "Key": {"id": {"S": "real"}}}
        response = await send(request)
        if operation == "GetItem":
            response = {**response, "Item": {**response["Item"], "n": {"N": "7"}}}
        return response

    db.transport.interceptors.append(redirect)
    try:
        got = await repo.get("asked-for")
    finally:
        db.transport.interceptors.clear()
    assert got == Secretive("real", "stored", 7)


@pytest.mark.parametrize(
    ("raised", "expected", "attempts"),
    [
        (
            ClientError(
                {
                    "Error": {"Code": "ThrottlingException", "Message": "slow down"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "GetItem",
            ),
            ThrottledError,
            3,
        ),
        (
            ClientError(
                {
                    "Error": {"Code": "ConditionalCheckFailedException", "Message": "no"},
                    "ResponseMetadata": {"HTTPStatusCode": 400},
                },
                "GetItem",
            ),
            ConditionFailed,
            1,
        ),
        (ConnectionClosedError(endpoint_url="http://x"), TransportError, 3),
    ],
)
async def test_what_an_interceptor_raises_is_mapped_and_retried_as_the_clients_own(
    db, raised, expected, attempts
):
    tries = []

    async def fail(operation, request, send):
        tries.append(operation)
        raise raised

    db.transport.interceptors.append(fail)
    try:
        with pytest.raises(expected) as caught:
            await db.repository(secretive).get("k")
    finally:
        db.transport.interceptors.clear()
    assert len(tries) == attempts
    assert caught.value.table == db.table_name(secretive)
    assert caught.value.operation == "GetItem"


# --- the debug log ---------------------------------------------------------------------

VALUE = "PRIVATE-VALUE-0042"


async def exercise(db) -> None:
    repo = db.repository(secretive)
    await repo.put(Secretive(VALUE, VALUE, 1))
    await repo.get(VALUE)
    await repo.update(Secretive(VALUE), set={"note": VALUE}, condition=attr("note") == VALUE)
    await repo.where("id", "=", VALUE).filter(attr("note") == VALUE).all()
    async with db.transaction() as tx:
        tx.put(Secretive(VALUE + "2", VALUE))
    async with db.unit_of_work() as uow:
        for i in range(5):
            uow.put(Secretive(f"{VALUE}-{i}", VALUE))
    with pytest.raises(ConditionFailed):
        await repo.update(Secretive(VALUE), set={"n": 2}, condition=attr("note") == "other")


async def test_the_debug_log_redacts_keys_items_and_values(db, caplog):
    with caplog.at_level(logging.DEBUG, logger="dynamorm_async"):
        await exercise(db)
    lines = [r.getMessage() for r in caplog.records if r.name == "dynamorm_async.requests"]
    text = "\n".join(lines)
    for operation in ("PutItem", "GetItem", "UpdateItem", "Query", "TransactWriteItems"):
        assert operation in text
    assert "BatchWriteItem" in text
    assert "5 in all" in text
    assert "ConditionExpression=" in text
    assert "<S>" in text
    assert db.table_name(secretive) in text
    assert VALUE not in text
    assert "answered in" in text


async def test_log_values_shows_them(dynamorm_endpoint, caplog):
    from dynamorm_async.testing import LOCAL_CREDENTIALS

    async with Database.connect(
        dynamorm_endpoint,
        mappers=[secretive],
        table_name_template="logvalues-{table}",
        log_values=True,
        **LOCAL_CREDENTIALS,
    ) as db:
        await db.schema.ensure(secretive)
        try:
            with caplog.at_level(logging.DEBUG, logger="dynamorm_async"):
                await db.repository(secretive).put(Secretive(VALUE, VALUE))
        finally:
            await db.schema.delete(secretive, wait=False)
    assert VALUE in caplog.text


# --- secrets -------------------------------------------------------------------------------


async def test_secrets_never_appear_in_reprs_errors_or_our_logs(dynamorm_endpoint, caplog):
    errors: list[BaseException] = []
    with caplog.at_level(logging.DEBUG, logger="dynamorm_async"):
        async with Database.connect(
            dynamorm_endpoint,
            mappers=[secretive],
            table_name_template="secrets-{table}",
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            aws_session_token=SESSION_TOKEN,
            cursor_secret=CURSOR_SECRET,
        ) as db:
            shown = [repr(db), str(db), repr(db.config), repr(db.transport.retry_policy)]
            try:
                await db.repository(secretive).get("missing-table")
            except DynamORMError as exc:
                errors.append(exc)
            await db.schema.ensure(secretive)
            try:
                await exercise(db)
                page = await db.repository(secretive).scan().page(size=1)
                assert page.next_cursor is not None
                try:
                    await (
                        db.repository(secretive).where("id", "=", "x").page(cursor=page.next_cursor)
                    )
                except DynamORMError as exc:
                    errors.append(exc)
            finally:
                await db.schema.delete(secretive, wait=False)
        shown.append(repr(db))
    assert len(errors) == 2
    texts = shown + [str(e) for e in errors] + [repr(e) for e in errors] + [caplog.text]
    for text in texts:
        for secret in SECRETS:
            assert secret not in text, (secret, text[:300])


# --- values never reach expression strings -------------------------------------------------

_examples = itertools.count()
secret_text = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=12, max_size=30)


@settings(
    max_examples=25,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(value=secret_text, other=secret_text)
async def test_user_values_only_ever_travel_as_placeholders(db, value, other):
    sent = []

    async def record(operation, request, send):
        sent.append(request)
        return await send(request)

    repo = db.repository(secretive)
    key = f"{next(_examples)}-{value}"  # a new item each example
    db.transport.interceptors.append(record)
    try:
        await repo.put(Secretive(key, other), condition=attr("note") != value)
        await repo.update(
            Secretive(key),
            set={"note": other},
            condition=attr("note").begins_with(other[:5]) | attr("note").is_in([value, other]),
        )
        await repo.where("id", "=", key).filter(attr("note").contains(other)).all()
        low, high = sorted([value, other])  # DynamoDB refuses a BETWEEN with low > high
        await repo.scan().filter(attr("note").between(low, high + "z")).count()
    finally:
        db.transport.interceptors.clear()
    for request in sent:
        for name, text in request.items():
            if name.endswith("Expression"):
                assert value not in text, (name, text)
                assert other not in text, (name, text)
