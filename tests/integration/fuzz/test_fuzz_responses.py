"""Fuzzing what the server answers: malformed responses at the HTTP level.

`FakeEndpoint` is a tiny HTTP/1.1 server on 127.0.0.1 (``tests/_fake_http.py``, as is
`FakeEndpoint` in ``tests/integration/transport/test_retry_server.py``) that answers with
hypothesis-chosen statuses and bodies: truncated JSON, text that is not JSON, JSON of
the wrong types and shapes, bodies missing fields, error bodies of any shape. A
`Database` connected to it (a fast `RetryPolicy` of 2 attempts) drives every kind of
call: get, put, create, update, delete, query and scan (all, first, count, page,
dicts, parallel), batch_get, transact_get, transactions and units of work.

What is checked: a call returns, or raises a `DynamORMError` that says what went wrong
(with the table and operation for single-item calls); never another exception, and
never a hang (every call runs under ``anyio.fail_after``). Where the error is known,
its type is checked too:

* a non-empty 2xx body that is not one JSON object (truncated, not JSON, not UTF-8)
  is a corrupted response: a retryable `TransportError`, retried by the policy first;
* a body botocore cannot read for the call's output (JSON of the wrong shape or
  encoding), and a response the library reads for paging, batches and transactions
  that does not hold what was asked (a malformed Count or LastEvaluatedKey, the
  LastEvaluatedKey that was sent, items of a table or key never asked for, the wrong
  number of transaction responses, malformed UnprocessedItems): a `DynamoDBError`
  whose code is ``MalformedResponse``;
* a malformed value read by field (``as_dicts()``): a `ConversionError`.

The examples are derandomized, so CI replays the same cases.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
import attrs
import pytest
import pytest_asyncio
from _fake_http import FakeServer, read_request, write_response
from _fuzzing import GUARD, ON_FIXTURES, described, mostly, session
from hypothesis import event, example, given, settings
from hypothesis import strategies as st

from dynamorm_async import (
    ConditionFailed,
    ConversionError,
    Database,
    DynamoDBError,
    DynamORMError,
    ItemAlreadyExists,
    Mapper,
    RetryPolicy,
    TableNotFound,
    ThrottledError,
    TransactionCanceled,
    TransportError,
    UnitOfWorkError,
    ValidationError,
    VersionConflict,
    attr,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS

FUZZ = settings(ON_FIXTURES, max_examples=100)
# For the fuzz tests of bodies of any shape: fewer examples (each may mean retries).
FEW = settings(FUZZ, max_examples=30)

PREFIX = "com.amazonaws.dynamodb.v20120810#"


@attrs.define
class Pair:
    pk: str
    sk: int
    n: int = 0
    s: str = ""
    tags: frozenset[str] = frozenset()
    anything: Any = None


@attrs.define
class Versioned:
    pk: str
    sk: int
    v: int = 0
    n: int = 0


PAIRS = Mapper(Pair, table="pairs", partition_key="pk", sort_key="sk")
VERSIONED = Mapper(
    Versioned, table="versioned", partition_key="pk", sort_key="sk", version_attribute="v"
)


class FakeEndpoint(FakeServer):
    """A local HTTP/1.1 server that answers every request with ``answer``: a status and
    a body (sent with a correct Content-Length), or raw bytes (sent as they are, then the
    connection is closed).

    A 2xx answer is given once; later requests (the next page, the retry of unprocessed
    keys) get ``{}``, so that no call pages for ever. Error answers are given every time,
    so that retries see them too.
    """

    def __init__(self) -> None:
        super().__init__()
        self.answer: tuple[int, bytes] | bytes = (200, b"{}")
        self.operations: list[str] = []
        self._answered_ok = False

    def reset(self, answer: tuple[int, bytes] | bytes) -> None:
        self.answer = answer
        self.operations = []
        self._answered_ok = False

    def _next(self) -> tuple[int, bytes] | bytes:
        answer = self.answer
        if isinstance(answer, tuple) and answer[0] < 300:
            if self._answered_ok:
                return (200, b"{}")
            self._answered_ok = True
        return answer

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while (headers := await read_request(reader)) is not None:
            # The operation, from X-Amz-Target.
            self.operations.append(headers.get("x-amz-target", "").rpartition(".")[2])
            answer = self._next()
            if isinstance(answer, bytes):
                writer.write(answer)
                await writer.drain()
                return
            status, body = answer
            await write_response(writer, status, body)


@pytest_asyncio.fixture
async def endpoint() -> AsyncIterator[FakeEndpoint]:
    async with FakeEndpoint() as server:
        yield server


@pytest_asyncio.fixture
async def db(endpoint: FakeEndpoint) -> AsyncIterator[Database]:
    database = Database.connect(
        endpoint.url,
        mappers=[PAIRS, VERSIONED],
        retry_policy=RetryPolicy(attempts=2, base=0.001, max_backoff=0.005),
        connect_timeout=2,
        read_timeout=2,
        session=session(),
        **LOCAL_CREDENTIALS,
    )
    async with database:
        yield database


# --- the calls ------------------------------------------------------------------------

Call = Callable[[Database], Awaitable[Any]]


def _repo(db: Database) -> Any:
    return db.repository(PAIRS)


async def _iterate(db: Database) -> list[Any]:
    return [item async for item in _repo(db).where("pk", "=", "a").limit(3)]


async def _transaction(db: Database) -> None:
    async with db.transaction(attempts=2) as tx:
        tx.put(Pair("a", 1), condition=attr("n") > 0)
        tx.update(("a", 2), set={"n": 1}, mapper=PAIRS)
        tx.delete(("a", 3), mapper=PAIRS)
        tx.check(PAIRS, ("a", 4), attr("n").exists())


async def _unit_of_work(db: Database) -> None:
    async with db.unit_of_work(attempts=2, deadline=2) as uow:
        uow.put(Pair("a", 1))
        uow.delete(("a", 2), mapper=PAIRS)
        uow.update(("a", 3), set={"n": 1}, mapper=PAIRS)


SINGLE: dict[str, Call] = {
    "get": lambda db: _repo(db).get(("a", 1)),
    "get_projected": lambda db: _repo(db).get(("a", 1), projection=["n"]),
    "put": lambda db: _repo(db).put(Pair("a", 1)),
    "put_conditional": lambda db: _repo(db).put(Pair("a", 1), condition=attr("n") > 0),
    "put_return_old": lambda db: _repo(db).put(Pair("a", 1), return_old=True),
    "create": lambda db: _repo(db).create(Pair("a", 1)),
    "update": lambda db: _repo(db).update(("a", 1), set={"n": 2}),
    "update_all_old": lambda db: _repo(db).update(("a", 1), add={"n": 1}, return_values="ALL_OLD"),
    "delete_return_old": lambda db: _repo(db).delete(("a", 1), return_old=True),
}
READS: dict[str, Call] = {
    "query_all": lambda db: _repo(db).where("pk", "=", "a").all(),
    "query_first": lambda db: _repo(db).where("pk", "=", "a").first(),
    "query_count": lambda db: _repo(db).where("pk", "=", "a").count(),
    "query_page": lambda db: _repo(db).where("pk", "=", "a").page(size=1),
    "query_page_unsized": lambda db: _repo(db).where("pk", "=", "a").page(),
    "query_dicts": lambda db: _repo(db).where("pk", "=", "a").project("n").as_dicts().all(),
    "query_iterate": _iterate,
    "scan_all": lambda db: _repo(db).scan().filter("n", ">", 0).all(),
    "scan_parallel": lambda db: _repo(db).scan(segments=3).all(),
    "scan_count": lambda db: _repo(db).scan().count(),
}
BATCH_GET: dict[str, Call] = {
    "batch_get": lambda db: _repo(db).batch_get([("a", 1), ("a", 2)]),
}
TRANSACT_GET: dict[str, Call] = {
    "transact_get": lambda db: db.transact_get([(PAIRS, ("a", 1)), (PAIRS, ("a", 2))]),
}
WRITES: dict[str, Call] = {"transaction": _transaction, "unit_of_work": _unit_of_work}
CALLS = {**SINGLE, **READS, **BATCH_GET, **TRANSACT_GET, **WRITES}


def checked(error: DynamORMError, call: str) -> DynamORMError:
    """A refusal says what went wrong; a single-item call's names its table and operation."""
    described(error)
    if call in SINGLE:
        assert error.table == "pairs", str(error)
        assert error.operation in ("GetItem", "PutItem", "UpdateItem", "DeleteItem"), str(error)
    return error


def outcome(result: Any) -> Any:
    """Note what a fuzzed call gave (``--hypothesis-show-statistics`` lists them)."""
    if isinstance(result, DynamoDBError) and result.code == "MalformedResponse":
        event("a malformed response")
    else:
        event(type(result).__name__ if isinstance(result, DynamORMError) else "a result")
    return result


async def run(db: Database, call: str, guard: float = GUARD) -> Any:
    """The call's result, or the DynamORMError it raised; anything else (a hang
    included: TimeoutError) escapes and fails the test."""
    with anyio.fail_after(guard):
        try:
            return await CALLS[call](db)
        except DynamORMError as exc:
            return checked(exc, call)


def assert_malformed(error: Any, operation: str | None = None) -> DynamoDBError:
    """`error` is the `DynamoDBError` of a malformed response (of `operation`)."""
    assert type(error) is DynamoDBError, repr(error)
    assert error.code == "MalformedResponse", repr(error)
    assert "response is malformed" in error.message, error.message
    if operation is not None:
        assert error.operation == operation, repr(error)
        assert f"the {operation} response is malformed" in error.message, error.message
    return error


def assert_corrupted(error: Any, attempts: int = 2) -> TransportError:
    """`error` is the retryable `TransportError` of a corrupted response, retried."""
    assert type(error) is TransportError, repr(error)
    assert "corrupted" in str(error), str(error)
    assert error.retryable is True
    assert error.attempts == attempts
    return error


# --- strategies: bodies of the shapes in DynamoDB's model ------------------------------


def encode(value: Any) -> bytes:
    return json.dumps(value).encode()


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


b64_text = st.binary(max_size=6).map(lambda b: base64.b64encode(b).decode())
json_scalars = st.one_of(
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=6),
)
numbers_text = st.one_of(
    st.integers(), st.sampled_from(["1", "-2.5", "1e3", "1E-130", "abc", "", "NaN", "1" * 45])
)
# AttributeValues whose members have the JSON types DynamoDB's model gives them; the
# values inside may be of any type ({"S": 5}, {"N": "abc"}, {"BOOL": "yes"}...).
scalar_avs = st.one_of(
    st.builds(lambda v: {"S": v}, json_scalars),
    st.builds(lambda v: {"N": v}, numbers_text),
    st.builds(lambda v: {"B": v}, b64_text),
    st.builds(lambda v: {"BOOL": v}, json_scalars),
    st.builds(lambda v: {"NULL": v}, json_scalars),
)
typed_avs = st.recursive(
    st.one_of(
        scalar_avs,
        st.builds(lambda v: {"SS": v}, st.lists(json_scalars, max_size=3)),
        st.builds(lambda v: {"NS": v}, st.lists(numbers_text, max_size=3)),
        st.builds(lambda v: {"BS": v}, st.lists(b64_text, max_size=3)),
    ),
    lambda children: st.one_of(
        st.builds(lambda v: {"L": v}, st.lists(children, max_size=3)),
        st.builds(lambda v: {"M": v}, st.dictionaries(st.text(max_size=3), children, max_size=3)),
    ),
    max_leaves=6,
)
attribute_names = st.one_of(
    st.sampled_from(["n", "s", "tags", "anything", "zz", "v"]),
    st.text(max_size=4).filter(lambda name: name not in ("pk", "sk")),
)
# Items: the key attributes, when present, hold a scalar, or any AttributeValue (a
# page's cursor is made of them: a Query or Scan refuses an item whose key attribute
# is not one S, N or B).
typed_items = st.builds(
    lambda keys, rest: {**rest, **keys},
    st.fixed_dictionaries(
        {},
        optional={"pk": mostly(scalar_avs, typed_avs), "sk": mostly(scalar_avs, typed_avs)},
    ),
    st.dictionaries(attribute_names, typed_avs, max_size=4),
)
requested_keys = st.sampled_from(
    [
        {"pk": {"S": "a"}, "sk": {"N": "1"}},
        {"pk": {"S": "a"}, "sk": {"N": "2"}},
        {"pk": {"S": "a"}, "sk": {"N": "2.0"}},  # the same number, spelled otherwise
    ]
)
# Counts: mostly what DynamoDB sends; else a negative one, or not a number (malformed).
counts = mostly(st.integers(0, 2**40), st.one_of(st.integers(max_value=-1), json_scalars))
consumed = st.fixed_dictionaries(
    {}, optional={"TableName": st.text(max_size=5), "CapacityUnits": st.floats(0, 1e6)}
)
single_bodies = st.fixed_dictionaries(
    {},
    optional={
        "Item": typed_items,
        "Attributes": typed_items,
        "ConsumedCapacity": consumed,
        "Unknown": json_scalars,
    },
)
key_names = st.one_of(st.sampled_from(["pk", "sk"]), st.text(max_size=3))
read_bodies = st.fixed_dictionaries(
    {},
    optional={
        "Items": st.lists(typed_items, max_size=4),
        "Count": counts,
        "ScannedCount": counts,
        # Mostly S, N and B values; else maybe empty, or holding other AttributeValues
        # (malformed).
        "LastEvaluatedKey": mostly(
            st.dictionaries(key_names, scalar_avs, min_size=1, max_size=3),
            st.dictionaries(key_names, typed_avs, max_size=3),
        ),
        "ConsumedCapacity": consumed,
    },
)
# Keys the calls never ask for: another key, one without its sort key, an empty one,
# one whose number is not a number (each malformed in an answer).
unasked_keys = st.sampled_from(
    [
        {"pk": {"S": "z"}, "sk": {"N": "9"}},
        {"pk": {"S": "a"}},
        {},
        {"pk": {"S": "a"}, "sk": {"N": "x"}},
    ]
)
answered_keys = mostly(requested_keys, unasked_keys)
batch_items = st.builds(lambda key, rest: {**rest, **key}, answered_keys, typed_items)
batch_get_bodies = st.fixed_dictionaries(
    {},
    optional={
        "Responses": mostly(
            st.fixed_dictionaries({}, optional={"pairs": st.lists(batch_items, max_size=3)}),
            # A table the call did not read.
            st.fixed_dictionaries(
                {"other": st.lists(batch_items, max_size=2)},
                optional={"pairs": st.lists(batch_items, max_size=2)},
            ),
        ),
        "UnprocessedKeys": st.fixed_dictionaries(
            {},
            optional={
                "pairs": st.fixed_dictionaries(
                    {"Keys": st.lists(answered_keys, max_size=2)},
                    optional={"ConsistentRead": st.booleans()},
                )
            },
        ),
        "ConsumedCapacity": st.lists(consumed, max_size=2),
    },
)
transact_get_entries = st.fixed_dictionaries({}, optional={"Item": typed_items})
transact_get_bodies = mostly(
    st.fixed_dictionaries(
        {"Responses": st.lists(transact_get_entries, min_size=2, max_size=2)},
        optional={"ConsumedCapacity": st.lists(consumed, max_size=2)},
    ),
    # No Responses, or not one for each of the two keys.
    st.fixed_dictionaries({}, optional={"Responses": st.lists(transact_get_entries, max_size=3)}),
)
write_bodies = st.fixed_dictionaries(
    {},
    optional={
        "ConsumedCapacity": st.lists(consumed, max_size=2),
        "UnprocessedItems": st.fixed_dictionaries(
            {},
            optional={
                "pairs": st.lists(
                    mostly(
                        st.one_of(
                            st.builds(
                                lambda key, rest: {"PutRequest": {"Item": {**rest, **key}}},
                                st.just({"pk": {"S": "a"}, "sk": {"N": "1"}}),
                                typed_items,
                            ),
                            st.just(
                                {"DeleteRequest": {"Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}}}
                            ),
                        ),
                        # Neither request, an item without its key, a key not sent.
                        st.one_of(
                            st.just({}),
                            st.builds(lambda item: {"PutRequest": {"Item": item}}, typed_items),
                            st.builds(lambda key: {"DeleteRequest": {"Key": key}}, unasked_keys),
                        ),
                    ),
                    max_size=2,
                )
            },
        ),
    },
)
SUCCESS_BODIES = {
    **dict.fromkeys(SINGLE, single_bodies),
    **dict.fromkeys(READS, read_bodies),
    **dict.fromkeys(BATCH_GET, batch_get_bodies),
    **dict.fromkeys(TRANSACT_GET, transact_get_bodies),
    **dict.fromkeys(WRITES, write_bodies),
}
CODES = [
    "ValidationException",
    "ResourceNotFoundException",
    "ConditionalCheckFailedException",
    "TransactionCanceledException",
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "ItemCollectionSizeLimitExceededException",
    "AccessDeniedException",
    "UnrecognizedClientException",
]
error_types = st.one_of(
    st.sampled_from(CODES).map(lambda code: PREFIX + code),
    st.sampled_from(CODES),
    st.text(max_size=12),
    st.sampled_from(["", "#", PREFIX, "a#b#c", "com.amazon.coral.validate#ValidationException"]),
)
reasons = st.fixed_dictionaries(
    {},
    optional={
        "Code": st.one_of(
            st.sampled_from(
                ["None", "ConditionalCheckFailed", "TransactionConflict", "ThrottlingError"]
            ),
            st.text(max_size=6),
        ),
        "Message": st.text(max_size=6),
        "Item": typed_items,
    },
)
error_bodies = st.fixed_dictionaries(
    {},
    optional={
        "__type": error_types,
        "message": json_scalars,
        "Message": json_scalars,
        "Item": typed_items,
        "CancellationReasons": st.lists(reasons, max_size=5),
        "Unknown": json_scalars,
    },
)
# Bodies that are not JSON: a 2xx is a corrupted response (retried), an error status is
# an error without a code (or, not UTF-8, a malformed response).
unparseable_texts = st.one_of(
    st.text(max_size=30).filter(lambda text: not _is_json(text)),
    st.sampled_from(["{", '{"Item": ', '{"Items": [{"pk"', "<html>oops</html>", "nul", "[1,"]),
)
not_utf8 = st.builds(lambda a, b: a + b"\xff" + b, st.binary(max_size=8), st.binary(max_size=8))


def _truncated(body: bytes, cut: int) -> bytes:
    return body[: cut % max(len(body), 1)]


truncated_bodies = st.builds(
    lambda value, cut: _truncated(encode(value), cut),
    st.one_of(single_bodies, read_bodies, error_bodies),
    st.integers(1, 10_000),
).filter(lambda body: not _is_json(body.decode()))
statuses = st.sampled_from([200, 200, 200, 400, 404, 413, 500, 503])


# --- fuzz tests ------------------------------------------------------------------------


@FUZZ
@given(call=st.sampled_from(sorted(CALLS)), data=st.data())
async def test_well_typed_success_bodies_give_a_result_or_a_dynamorm_error(
    db, endpoint, call, data
):
    body = data.draw(SUCCESS_BODIES[call], label="body")
    endpoint.reset((200, encode(body)))
    result = outcome(await run(db, call))
    # What DynamoDB's model allows but the library cannot use: a malformed response,
    # or a value that does not fit the class.
    errors = [f.error for f in result.failures] if isinstance(result, UnitOfWorkError) else [result]
    for error in errors:
        if isinstance(error, DynamORMError) and not isinstance(error, ConversionError):
            assert_malformed(error)


@FUZZ
@given(
    call=st.sampled_from(sorted(CALLS)),
    status=st.sampled_from([400, 403, 404, 409, 413, 429, 500, 502, 503]),
    body=error_bodies,
)
@example(
    call="put_conditional", status=400, body={"__type": PREFIX + "ConditionalCheckFailedException"}
)
@example(
    call="transaction",
    status=400,
    body={"__type": PREFIX + "TransactionCanceledException", "CancellationReasons": [{}] * 9},
)
@example(
    call="unit_of_work",
    status=400,
    body={"__type": PREFIX + "ConditionalCheckFailedException", "Item": {"pk": {"S": "x"}}},
)
async def test_error_bodies_give_a_dynamorm_error(db, endpoint, call, status, body):
    endpoint.reset((status, encode(body)))
    result = outcome(await run(db, call))
    assert isinstance(result, DynamORMError)


@FUZZ
@given(
    call=st.sampled_from(sorted(CALLS)),
    status=statuses,
    body=st.one_of(unparseable_texts.map(str.encode), truncated_bodies, not_utf8, st.just(b"")),
)
@example(call="get", status=200, body=b'{"Item": {"pk": {"S": "a"}')
@example(call="query_count", status=200, body=b"not json")
@example(call="transact_get", status=200, body=b"\xff\xfe")
@example(call="unit_of_work", status=500, body=b"<html>")
@example(call="batch_get", status=500, body=b"\xff\xfe")
async def test_truncated_and_non_json_bodies_give_a_result_or_a_dynamorm_error(
    db, endpoint, call, status, body
):
    endpoint.reset((status, body))
    result = outcome(await run(db, call))
    if status >= 300:
        assert isinstance(result, DynamoDBError | UnitOfWorkError)
    elif body:
        # A corrupted response: the request is sent again, and answered with {} then.
        assert endpoint.operations.count(endpoint.operations[0]) >= 2, endpoint.operations
        if call in TRANSACT_GET:
            assert_malformed(result, "TransactGetItems")  # {} holds no Responses
        else:
            assert not isinstance(result, DynamORMError), repr(result)


# --- precise errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body", "error_type"),
    [
        (400, {"__type": PREFIX + "ValidationException", "message": "bad"}, ValidationError),
        (400, {"__type": PREFIX + "ResourceNotFoundException"}, TableNotFound),
        (400, {"__type": "ThrottlingException"}, ThrottledError),  # no prefix
        (500, {"__type": PREFIX + "InternalServerError"}, DynamoDBError),
        (400, {"__type": "SomethingNew", "message": 5}, DynamoDBError),
        (400, {"message": "no type at all"}, DynamoDBError),
        (
            400,
            {"__type": PREFIX + "ConditionalCheckFailedException", "Item": {"pk": {"S": "x"}}},
            ConditionFailed,
        ),
    ],
)
async def test_error_answers_map_to_their_error_types(db, endpoint, status, body, error_type):
    endpoint.reset((status, encode(body)))
    result = await run(db, "put_conditional")
    assert type(result) is error_type
    if isinstance(result, DynamoDBError):
        assert result.http_status == status
    if isinstance(result, ConditionFailed):
        assert result.item == {"pk": {"S": "x"}}  # it does not fit the class: given raw


async def test_a_condition_failure_decodes_the_stored_item(db, endpoint):
    body = {
        "__type": PREFIX + "ConditionalCheckFailedException",
        "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "n": {"N": "7"}},
    }
    endpoint.reset((400, encode(body)))
    result = await run(db, "create")
    assert isinstance(result, ItemAlreadyExists)
    assert result.item == Pair("a", 1, n=7)


async def test_a_cancelled_transaction_lists_a_reason_per_action(db, endpoint):
    body = {
        "__type": PREFIX + "TransactionCanceledException",
        "message": "cancelled",
        "CancellationReasons": [
            {"Code": "ConditionalCheckFailed", "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}}},
            {"Code": "None"},
        ],  # fewer than the 4 actions: the others are "Unknown"
    }
    endpoint.reset((400, encode(body)))
    result = await run(db, "transaction")
    assert isinstance(result, TransactionCanceled)
    assert [r.code for r in result.reasons] == [
        "ConditionalCheckFailed",
        "None",
        "Unknown",
        "Unknown",
    ]
    assert result.reasons[0].item == Pair("a", 1)
    assert [r.operation for r in result.reasons] == ["Put", "Update", "Delete", "ConditionCheck"]


@pytest.mark.parametrize("status", [400, 500])
@pytest.mark.parametrize("body", [b"", b"not json", b"{", b"<html>"])
async def test_an_error_status_without_a_readable_body_is_a_dynamodb_error(
    db, endpoint, status, body
):
    endpoint.reset((status, body))
    result = await run(db, "get")
    assert type(result) is DynamoDBError
    assert result.http_status == status
    assert result.attempts == (2 if status >= 500 else 1)


@pytest.mark.parametrize(
    "raw",
    [
        b"",  # closed at once
        b"HTTP/1.1 200",  # closed inside the status line
        b"garbage\r\n\r\n",
        b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"Item": {',  # closed early
        b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nX-Big: " + b"a" * 100_000 + b"\r\nContent-Length: 2\r\n\r\n{}",
    ],
    ids=["empty", "cut-status", "garbage", "short-body", "bad-length", "bad-chunk", "huge-header"],
)
@pytest.mark.parametrize("call", ["get", "query_all", "transaction"])
async def test_broken_http_is_a_retryable_transport_error(db, endpoint, raw, call):
    endpoint.reset(raw)
    result = await run(db, call)
    assert type(result) is TransportError
    assert result.retryable is True
    assert result.attempts == 2


# --- answers botocore cannot read ----------------------------------------------------

#: Answers botocore's parser cannot read, whatever the call: a 2xx that is not a JSON
#: object (corrupted), an error body of the wrong shape or encoding (malformed).
UNPARSEABLE_ANY_CALL = {
    "200-null": (200, b"null"),
    "200-list": (200, b"[]"),
    "200-number": (200, b"5"),
    "200-string": (200, b'"x"'),
    "200-not-utf8": (200, b"\xff\xfe"),
    "500-not-utf8": (500, b"\xff\xfe"),
    "400-null": (400, b"null"),
    "500-list": (500, b"[]"),
    "400-type-number": (400, b'{"__type": 5}'),
    "400-type-list": (400, b'{"__type": [1]}'),
    "400-condition-item-number": (
        400,
        encode({"__type": PREFIX + "ConditionalCheckFailedException", "Item": 5}),
    ),
    "400-reasons-number": (
        400,
        encode({"__type": PREFIX + "TransactionCanceledException", "CancellationReasons": 5}),
    ),
    "400-reasons-strings": (
        400,
        encode({"__type": PREFIX + "TransactionCanceledException", "CancellationReasons": ["x"]}),
    ),
}
#: ... and 2xx JSON objects of the wrong shape for the call's output (malformed).
UNPARSEABLE_FOR_CALL = {
    "get-item-number": ("get", {"Item": 5}),
    "get-item-attribute-number": ("get", {"Item": {"pk": 5}}),
    "get-list-number": ("get", {"Item": {"pk": {"L": 5}}}),
    "get-map-number": ("get", {"Item": {"pk": {"M": 5}}}),
    "get-bad-base64": ("get", {"Item": {"pk": {"B": "abc"}}}),
    "get-base64-number": ("get", {"Item": {"pk": {"B": 5}}}),
    "put-attributes-list": ("put_return_old", {"Attributes": [1]}),
    "query-items-string": ("query_all", {"Items": "x"}),
    "query-items-number": ("query_all", {"Items": 5}),
    "query-item-number": ("query_all", {"Items": [5]}),
    "query-key-number": ("query_all", {"Items": [], "LastEvaluatedKey": 5}),
    "query-key-value-number": ("query_all", {"Items": [], "LastEvaluatedKey": {"pk": 5}}),
    "batch-responses-list": ("batch_get", {"Responses": [5]}),
    "batch-responses-table-number": ("batch_get", {"Responses": {"pairs": 5}}),
    "transact-get-responses-map": ("transact_get", {"Responses": {"a": 1}}),
    "transact-get-item-number": ("transact_get", {"Responses": [{"Item": 5}, {}]}),
}
UNPARSEABLE = [
    *(  # each through another kind of call: the parser fails before the library reads
        pytest.param(call, answer, id=f"{call}-{name}")
        for (name, answer), call in zip(
            UNPARSEABLE_ANY_CALL.items(),
            itertools.cycle(["get", "query_all", "transaction", "batch_get", "put_conditional"]),
        )
    ),
    *(
        pytest.param(call, (200, encode(body)), id=name)
        for name, (call, body) in UNPARSEABLE_FOR_CALL.items()
    ),
]


def _any_json(leaves: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.recursive(
        leaves,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(
                st.one_of(
                    st.sampled_from(
                        [
                            "Item",
                            "Items",
                            "Attributes",
                            "Count",
                            "LastEvaluatedKey",
                            "Responses",
                            "UnprocessedKeys",
                            "UnprocessedItems",
                            "CancellationReasons",
                            "__type",
                            "message",
                            "pk",
                            "sk",
                            "n",
                            "S",
                            "N",
                            "B",
                            "L",
                            "M",
                            "SS",
                            "NS",
                            "BS",
                            "BOOL",
                            "NULL",
                            "Keys",
                            "PutRequest",
                            "DeleteRequest",
                            "Code",
                        ]
                    ),
                    st.text(max_size=3),
                ),
                children,
                max_size=4,
            ),
        ),
        max_leaves=12,
    )


any_json = _any_json(st.one_of(st.none(), json_scalars, b64_text))


@FEW
@given(call=st.sampled_from(sorted(CALLS)), status=statuses, body=any_json)
@example(call="get", status=200, body=None)
@example(call="query_all", status=200, body={"Items": [{"pk": {"S": "a"}, "sk": {"X": 1}}]})
@example(call="batch_get", status=200, body={"Responses": {"other": []}})
@example(call="transact_get", status=200, body={"Responses": [{}]})
async def test_json_of_any_shape_gives_a_result_or_a_dynamorm_error(
    db, endpoint, call, status, body
):
    endpoint.reset((status, encode(body)))
    result = outcome(await run(db, call))
    if status < 300 and not isinstance(body, dict):
        # Not a JSON object: corrupted, sent again, and answered with {} then.
        assert endpoint.operations.count(endpoint.operations[0]) >= 2, endpoint.operations
    elif status >= 300:
        assert isinstance(result, DynamoDBError | UnitOfWorkError), repr(result)


@pytest.mark.parametrize(("call", "answer"), UNPARSEABLE)
async def test_unparseable_answers(db, endpoint, call, answer):
    """Given on every attempt: a 2xx that is not a JSON object is a corrupted response
    (retried, then a retryable TransportError); any other answer botocore cannot read
    is a malformed response."""
    endpoint.reset(answer)
    endpoint._next = lambda: answer
    result = await run(db, call)
    status, body = answer
    try:
        is_object = isinstance(json.loads(body), dict)
    except ValueError:
        is_object = False
    if status < 300 and not is_object:
        assert_corrupted(result)
        assert len(endpoint.operations) == 2
    else:
        assert_malformed(result)
        assert len(endpoint.operations) == 1  # not retried


# Answers the parser accepts but that do not hold what was asked: one test per place
# the library reads them.


async def answer(db: Database, endpoint: FakeEndpoint, call: str, body: Any) -> Any:
    """`run` of `call`, the first request answered with `body` (a 200)."""
    endpoint.reset((200, encode(body)))
    return await run(db, call)


@pytest.mark.parametrize(
    ("call", "body"),
    [
        ("query_count", {"Count": "abc"}),
        ("scan_count", {"Count": [1]}),
        ("query_count", {"Count": -1}),
        ("query_all", {"Count": 1.5}),
    ],
    ids=["text", "list", "negative", "float"],
)
async def test_count_of_a_malformed_count(db, endpoint, call, body):
    error = assert_malformed(await answer(db, endpoint, call, body))
    assert error.operation == ("Scan" if call.startswith("scan") else "Query")
    assert error.table == db.repository(PAIRS).table
    assert "Count" in error.message


@pytest.mark.parametrize(
    ("call", "body"),
    [
        ("query_page_unsized", {"Items": [], "LastEvaluatedKey": {"pk": {}}}),
        ("query_page_unsized", {"Items": [], "LastEvaluatedKey": {"pk": {"S": "a", "N": "1"}}}),
        (
            "query_page_unsized",
            {"Items": [], "LastEvaluatedKey": {"pk": {"M": {"x": {"B": "AA=="}}}}},
        ),
        ("query_page_unsized", {"Items": [], "LastEvaluatedKey": {"pk": {"BS": ["AA=="]}}}),
        ("query_all", {"Items": [], "LastEvaluatedKey": {}}),
        (
            "query_page",
            {"Items": [{"pk": {"S": "a"}, "sk": {"X": "1"}}, {"pk": {"S": "a"}, "sk": {"N": "2"}}]},
        ),
        ("scan_all", {"Items": [{"pk": {"L": []}, "sk": {"N": "1"}}]}),
    ],
    ids=[
        "no-type",
        "two-types",
        "bytes-in-map",
        "binary-set",
        "empty",
        "item-key-unknown-type",
        "item-key-list",
    ],
)
async def test_page_of_a_malformed_last_evaluated_key(db, endpoint, call, body):
    """A page's cursor is made of the LastEvaluatedKey or the last item's key: each must
    be one S, N or B per attribute."""
    error = assert_malformed(await answer(db, endpoint, call, body))
    assert error.operation == ("Scan" if call.startswith("scan") else "Query")
    assert "LastEvaluatedKey" in error.message or "key attribute" in error.message


@pytest.mark.parametrize(
    "body",
    [
        {"Responses": {"other": []}},
        {"Responses": {"pairs": [{"pk": {"S": "a"}}]}},
        {"Responses": {"pairs": [{"pk": {"S": "a"}, "sk": {"N": "x"}}]}},
        {"Responses": {"pairs": [{"pk": {"S": "z"}, "sk": {"N": "1"}}]}},
        {"UnprocessedKeys": {"pairs": {"Keys": [{"pk": {"S": "z"}, "sk": {"N": "1"}}]}}},
        {"UnprocessedKeys": {"pairs": {"Keys": [{}]}}},
    ],
    ids=[
        "other-table",
        "item-without-sort-key",
        "key-not-a-number",
        "unasked-item",
        "unsent-key",
        "empty-key",
    ],
)
async def test_batch_get_of_malformed_responses(db, endpoint, body):
    assert_malformed(await answer(db, endpoint, "batch_get", body), "BatchGetItem")


@pytest.mark.parametrize(
    "body",
    [{}, {"Responses": [{}]}, {"Responses": [{}, {}, {}]}],
    ids=["none", "fewer", "more"],
)
async def test_transact_get_with_the_wrong_number_of_responses(db, endpoint, body):
    assert_malformed(await answer(db, endpoint, "transact_get", body), "TransactGetItems")


@pytest.mark.parametrize(
    "value",
    [{}, {"X": 1}, {"N": None}, {"N": [1]}, {"SS": [[1]]}],
    ids=["no-type", "unknown-type", "null-number", "list-number", "unhashable-set"],
)
async def test_as_dicts_of_malformed_values(db, endpoint, value):
    """Read by field, a value that is not a valid AttributeValue (no type: also what
    botocore leaves of an unknown type or a null) is a ConversionError."""
    body = {"Items": [{"pk": {"S": "a"}, "sk": {"N": "1"}, "n": value}]}
    result = await answer(db, endpoint, "query_dicts", body)
    assert type(result) is ConversionError, repr(result)


@pytest.mark.parametrize("version", ["x", "1.5", "1e3"])
@pytest.mark.parametrize("write", ["put", "update", "delete"])
async def test_a_versioned_write_whose_conflict_shows_a_malformed_version(
    db, endpoint, write, version
):
    """A stored version this library did not write differs from any expected one: the
    condition failure is a version conflict."""
    body = {
        "__type": PREFIX + "ConditionalCheckFailedException",
        "Item": {"pk": {"S": "a"}, "sk": {"N": "1"}, "v": {"N": version}},
    }
    endpoint.reset((400, encode(body)))
    repo = db.repository(VERSIONED)
    stored = Versioned("a", 1, v=3)
    calls = {
        "put": lambda: repo.put(stored),
        "update": lambda: repo.update(stored, set={"n": 1}),
        "delete": lambda: repo.delete(stored),
    }
    with anyio.fail_after(GUARD), pytest.raises(VersionConflict):
        await calls[write]()


class RepeatingKey(FakeEndpoint):
    """Answers every Query and Scan with one item and the same LastEvaluatedKey."""

    def _next(self) -> tuple[int, bytes] | bytes:
        page = {
            "Items": [{"pk": {"S": "a"}, "sk": {"N": "1"}}],
            "Count": 1,
            "LastEvaluatedKey": {"pk": {"S": "a"}, "sk": {"N": "1"}},
        }
        return (200, encode(page))


@pytest.mark.parametrize(("call", "operation"), [("query_all", "Query"), ("scan_count", "Scan")])
async def test_a_repeated_last_evaluated_key_ends_instead_of_hanging(call, operation):
    """A server that answers with the LastEvaluatedKey it was sent makes no progress:
    the second page is refused as malformed (reading would never end)."""
    async with (
        RepeatingKey() as server,
        Database.connect(
            server.url, mappers=[PAIRS], session=session(), **LOCAL_CREDENTIALS
        ) as database,
    ):
        error = assert_malformed(await run(database, call, guard=1.0), operation)
        assert "never end" in error.message
        assert server.operations == [operation, operation]


@pytest.mark.parametrize(
    "unprocessed",
    [
        {"pairs": [{}]},
        {"pairs": [{"PutRequest": {"Item": {}}}]},
        {"other": [{"DeleteRequest": {"Key": {"pk": {"S": "a"}, "sk": {"N": "2"}}}}]},
        {"pairs": [{"DeleteRequest": {"Key": {"pk": {"S": "z"}, "sk": {"N": "9"}}}}]},
        [1],  # botocore's parser cannot read it
    ],
    ids=["empty-entry", "item-without-key", "unsent-table", "unsent-key", "not-a-map"],
)
async def test_malformed_unprocessed_items_fail_every_write_of_the_batch(db, endpoint, unprocessed):
    """What was written is unknown, as after a lost response: each write of the batch is
    reported as a failure, with the malformed response's error."""
    endpoint.reset((200, encode({"UnprocessedItems": unprocessed})))

    async def commit() -> None:
        async with db.unit_of_work(attempts=2, deadline=2) as uow:
            uow.put(Pair("a", 1))
            uow.delete(("a", 2), mapper=PAIRS)

    with anyio.fail_after(GUARD), pytest.raises(UnitOfWorkError) as caught:
        await commit()
    failures = caught.value.failures
    assert sorted(failure.operation for failure in failures) == ["DeleteItem", "PutItem"]
    assert caught.value.applied == 0
    for failure in failures:
        assert_malformed(failure.error, "BatchWriteItem")


@pytest.mark.parametrize(
    ("call", "body"),
    [
        ("get", b'{"Item": {"pk": {"S": "a"}, "sk": {"N": "1"'),
        ("query_all", b'{"Items": [{"pk": {"S": "a"}, "sk": {"N": "1"}}], "Cou'),
        ("batch_get", b'{"Responses": {"pairs": [{"pk": {"S": "a"}'),
    ],
    ids=["get", "query", "batch_get"],
)
async def test_a_truncated_success_body_is_an_error_not_an_empty_answer(db, endpoint, call, body):
    """botocore reads a 2xx body that is not JSON as an empty answer (and, in the
    standard retry mode, does not check DynamoDB's x-amz-crc32): the transport refuses
    it as a corrupted response, retried, then a TransportError."""
    endpoint.reset((200, body))
    endpoint._next = lambda: (200, body)  # damaged every time, retries included
    assert_corrupted(await run(db, call))
    assert len(endpoint.operations) == 2  # the policy's two attempts
