"""Retries and the circuit breaker over a real network.

* a closed 127.0.0.1 port (connection refused);
* `FakeEndpoint`, a tiny TCP server of ours that drops connections, never answers,
  or answers every request with a given HTTP status and DynamoDB error code, and
  counts the connections and requests it saw;
* the embedded moto server, for errors that must not be retried.

botocore's own retries are off, so the number of requests a server sees is exactly
the number of attempts the `RetryPolicy` made.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator

import attrs
import pytest
import pytest_asyncio
from _fake_http import FakeServer, read_request, write_response
from aiobotocore.session import AioSession, get_session

from dynamorm_async import (
    CircuitBreaker,
    CircuitOpenError,
    ConditionFailed,
    Database,
    DynamoDBError,
    Mapper,
    RetryPolicy,
    TableNotFound,
    ThrottledError,
    TransportError,
    ValidationError,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS


@attrs.define
class Thing:
    id: str
    n: int = 0


things = Mapper(Thing, table="things", partition_key="id")

_session: AioSession | None = None


def session() -> AioSession:
    global _session
    if _session is None:  # botocore's models load once for the module
        _session = get_session()
    return _session


def fast_policy(attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, base=0.001, max_backoff=0.005)


def closed_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def connect(url: str, **kwargs) -> Database:
    return Database.connect(url, mappers=[things], session=session(), **LOCAL_CREDENTIALS, **kwargs)


class FakeEndpoint(FakeServer):
    """A local TCP server; `mode` says how it treats each connection:

    * ``"drop"``: close it at once (the client sees the connection closed);
    * ``"hang"``: read, never answer (the client's read timeout fires);
    * ``(status, code)``: answer each request with that status and a DynamoDB
      error body (``code=None``: a 200 with ``{}``, an empty GetItem response).
    """

    def __init__(self) -> None:
        super().__init__()
        self.mode: str | tuple[int, str | None] = "drop"
        self.connections = 0
        self.requests = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        mode = self.mode
        if mode == "drop":
            return
        if mode == "hang":
            await reader.read()  # until the client gives up and closes
            return
        status, code = mode
        while await read_request(reader) is not None:
            self.requests += 1
            if code is None:
                body = b"{}"
            else:
                body = json.dumps(
                    {"__type": f"com.amazonaws.dynamodb.v20120810#{code}", "message": "boom"}
                ).encode()
            await write_response(writer, status, body)


@pytest_asyncio.fixture
async def endpoint() -> AsyncIterator[FakeEndpoint]:
    async with FakeEndpoint() as server:
        yield server


# --- a closed port ---------------------------------------------------------------------


async def test_a_refused_connection_is_retried_then_raised_as_a_retryable_transport_error():
    policy = fast_policy(attempts=3)
    async with connect(f"http://127.0.0.1:{closed_port()}", retry_policy=policy) as db:
        with pytest.raises(TransportError) as caught:
            await db.repository(things).get("a")
    error = caught.value
    assert type(error) is TransportError
    assert error.retryable is True
    assert (error.operation, error.key) == ("GetItem", {"id": "a"})
    assert error.table == "things"
    assert (policy.retries, policy.gave_up) == (2, 1)  # 3 attempts, the first included


async def test_the_breaker_opens_on_a_dead_endpoint_and_then_fails_fast():
    policy = fast_policy(attempts=3)
    breaker = CircuitBreaker(threshold=2, cooldown=60)
    async with connect(
        f"http://127.0.0.1:{closed_port()}", retry_policy=policy, circuit_breaker=breaker
    ) as db:
        repo = db.repository(things)
        for _ in range(2):
            with pytest.raises(TransportError) as caught:
                await repo.get("a")
            assert not isinstance(caught.value, CircuitOpenError)
        assert (breaker.state, breaker.opened) == ("open", 1)
        assert policy.retries == 4
        start = time.monotonic()
        with pytest.raises(CircuitOpenError) as caught:
            await repo.get("a")
        assert time.monotonic() - start < 0.05
    assert caught.value.retryable is False
    assert 59 < caught.value.retry_after <= 60
    assert (policy.retries, policy.gave_up) == (4, 2)  # nothing attempted
    assert breaker.rejected == 1


# --- a server of ours ----------------------------------------------------------------


async def test_dropped_connections_are_retried_and_an_open_breaker_opens_none(endpoint):
    endpoint.mode = "drop"
    policy = fast_policy(attempts=3)
    breaker = CircuitBreaker(threshold=2, cooldown=60)
    async with connect(endpoint.url, retry_policy=policy, circuit_breaker=breaker) as db:
        repo = db.repository(things)
        for _ in range(2):
            with pytest.raises(TransportError) as caught:
                await repo.get("a")
            assert caught.value.retryable is True
        assert endpoint.connections == 6
        for _ in range(3):
            with pytest.raises(CircuitOpenError):
                await repo.get("a")
        await asyncio.sleep(0.02)  # a connection attempt would have arrived by now
    assert endpoint.connections == 6
    assert breaker.rejected == 3


async def test_after_the_cooldown_a_probe_reaches_the_recovered_server_and_closes(endpoint):
    now = [0.0]
    breaker = CircuitBreaker(threshold=1, cooldown=30, clock=lambda: now[0])
    policy = fast_policy(attempts=2)
    endpoint.mode = "drop"
    async with connect(endpoint.url, retry_policy=policy, circuit_breaker=breaker) as db:
        repo = db.repository(things)
        with pytest.raises(TransportError):
            await repo.get("a")
        assert breaker.state == "open"
        endpoint.mode = (200, None)  # the service is back
        with pytest.raises(CircuitOpenError):
            await repo.get("a")
        assert endpoint.requests == 0
        now[0] += 30
        assert await repo.get("a") is None  # the probe
        assert breaker.state == "closed"
        assert endpoint.requests == 1
        assert await repo.get("b") is None
    assert endpoint.requests == 2
    assert (breaker.opened, breaker.rejected) == (1, 1)


async def test_a_read_timeout_is_retried_as_a_retryable_transport_error(endpoint):
    endpoint.mode = "hang"
    policy = fast_policy(attempts=2)
    async with connect(endpoint.url, retry_policy=policy, read_timeout=0.1) as db:
        start = time.monotonic()
        with pytest.raises(TransportError) as caught:
            await db.repository(things).get("a")
        elapsed = time.monotonic() - start
    assert caught.value.retryable is True
    assert "timeout" in str(caught.value).lower()
    assert endpoint.connections == 2
    assert (policy.retries, policy.gave_up) == (1, 1)
    assert 0.2 <= elapsed < 2.0


@pytest.mark.parametrize(
    ("status", "code", "error_type"),
    [
        (500, "InternalServerError", DynamoDBError),
        (503, "ServiceUnavailable", DynamoDBError),
        (502, "SomethingOdd", DynamoDBError),
        (400, "ThrottlingException", ThrottledError),
        (400, "ProvisionedThroughputExceededException", ThrottledError),
        (400, "RequestLimitExceeded", ThrottledError),
        (400, "TransactionConflictException", DynamoDBError),
    ],
)
async def test_retryable_answers_are_retried_exactly_attempts_times(
    endpoint, status, code, error_type
):
    endpoint.mode = (status, code)
    policy = fast_policy(attempts=3)
    async with connect(endpoint.url, retry_policy=policy) as db:
        with pytest.raises(DynamoDBError) as caught:
            await db.repository(things).get("a")
    assert type(caught.value) is error_type
    assert (caught.value.code, caught.value.http_status) == (code, status)
    assert endpoint.requests == 3  # botocore retried none of them itself
    assert (policy.retries, policy.gave_up) == (2, 1)


@pytest.mark.parametrize(
    ("status", "code", "error_type"),
    [
        (400, "ValidationException", ValidationError),
        (400, "ConditionalCheckFailedException", ConditionFailed),
        (400, "ResourceNotFoundException", TableNotFound),
        (400, "SomethingOdd", DynamoDBError),
    ],
)
async def test_non_retryable_answers_are_sent_once_and_leave_the_breaker_closed(
    endpoint, status, code, error_type
):
    endpoint.mode = (status, code)
    policy = fast_policy(attempts=3)
    breaker = CircuitBreaker(threshold=1, cooldown=60)
    async with connect(endpoint.url, retry_policy=policy, circuit_breaker=breaker) as db:
        for _ in range(3):
            with pytest.raises(error_type):
                await db.transport.call("GetItem", {"TableName": "x", "Key": {"id": {"S": "a"}}})
    assert endpoint.requests == 3
    assert (policy.retries, policy.gave_up) == (0, 0)
    assert (breaker.state, breaker.opened) == ("closed", 0)


async def test_the_default_policy_makes_max_attempts_tries(endpoint):
    endpoint.mode = (500, "InternalServerError")
    async with connect(endpoint.url, max_attempts=2) as db:
        db.transport.retry_policy.base = 0.001  # keep the test fast
        with pytest.raises(DynamoDBError):
            await db.repository(things).get("a")
    assert endpoint.requests == 2


# --- the embedded moto server --------------------------------------------------------


@pytest.fixture
def dynamorm_mappers():
    return [things]


@pytest.fixture
def watched(dynamorm_db):
    """The test database, with a fast policy and a hair-trigger breaker to watch."""
    dynamorm_db.transport.retry_policy = fast_policy(attempts=3)
    dynamorm_db.transport.breaker = CircuitBreaker(threshold=1, cooldown=60)
    return dynamorm_db


async def test_a_validation_error_from_the_server_is_not_retried_and_opens_no_breaker(watched):
    policy, breaker = watched.transport.retry_policy, watched.transport.breaker
    table = watched.repository(things).table
    for _ in range(3):
        with pytest.raises(ValidationError) as caught:
            await watched.transport.call("GetItem", {"TableName": table, "Key": {}})
        assert "rejected" in str(caught.value)
    assert (policy.retries, policy.gave_up) == (0, 0)
    assert (breaker.state, breaker.consecutive_failures, breaker.opened) == ("closed", 0, 0)
    repo = watched.repository(things)
    await repo.put(Thing("a", 1))
    assert await repo.get("a") == Thing("a", 1)


@pytest.mark.invalid_requests
async def test_a_client_side_validation_error_is_not_retried_and_opens_no_breaker(dynamorm_db):
    """With the fast path off, botocore validates what `Transport.call` is given (with
    it on, the library's own checks cover what its API sends, and DynamoDB checks the
    rest: see the test above)."""
    policy, breaker = fast_policy(attempts=3), CircuitBreaker(threshold=1, cooldown=60)
    config = attrs.evolve(dynamorm_db.config, fast_path=False)
    async with Database(config, retry_policy=policy, circuit_breaker=breaker) as db:
        with pytest.raises(ValidationError, match="Missing required parameter"):
            await db.transport.call("GetItem", {"TableName": "x"})
    assert (policy.retries, breaker.state) == (0, "closed")


async def test_a_missing_table_or_index_is_not_retried_and_opens_no_breaker(watched):
    policy, breaker = watched.transport.retry_policy, watched.transport.breaker
    table = watched.repository(things).table
    with pytest.raises(TableNotFound):
        await watched.transport.call("GetItem", {"TableName": "x-missing", "Key": {}})
    # DynamoDB answers a missing index with a ValidationException; moto with
    # ResourceNotFoundException (mapped to TableNotFound). Neither is retried.
    with pytest.raises((ValidationError, TableNotFound)):
        await watched.transport.call(
            "Query",
            {
                "TableName": table,
                "IndexName": "no-such-index",
                "KeyConditionExpression": "id = :v",
                "ExpressionAttributeValues": {":v": {"S": "a"}},
            },
        )
    assert (policy.retries, policy.gave_up) == (0, 0)
    assert (breaker.state, breaker.opened) == ("closed", 0)


async def test_a_failed_condition_is_not_retried_and_opens_no_breaker(watched):
    policy, breaker = watched.transport.retry_policy, watched.transport.breaker
    repo = watched.repository(things)
    await repo.create(Thing("a"))
    for _ in range(2):
        with pytest.raises(ConditionFailed):
            await repo.create(Thing("a"))
    assert (policy.retries, breaker.state, breaker.opened) == (0, "closed", 0)
