"""Fuzzing page cursors: whatever a client sends back as ``page(cursor=...)``.

Random strings and bytes, base64url of random bytes and of random JSON, truncated and
bit-flipped valid cursors, cursors of another query or another secret, and forged ones
(the format is documented in `dynamorm_async.query._cursor`: without a secret anyone can
make a cursor with a valid tag, so what comes after the tag is reached too), with and
without ``cursor_secret``. Each is refused with `InvalidCursor`, before anything is
sent: the `Database` is never opened, so a cursor that is accepted fails on sending,
with the `TransportError` of an unconnected database, which tells the two apart.

The examples are derandomized, so CI replays the same cases.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import string
from typing import Any

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dynamorm_async import (
    Database,
    DynamORMError,
    GlobalIndex,
    InvalidCursor,
    LocalIndex,
    Mapper,
    Page,
    TransportError,
    ValidationError,
    attr,
)
from dynamorm_async.query import encode_cursor
from dynamorm_async.testing import LOCAL_CREDENTIALS

FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None)

#: The key of unsigned cursors (documented in `dynamorm_async.query._cursor`).
UNSIGNED = b"dynamorm_async cursor: not a secret"
SECRET = "a server-side secret of 32 bytes"
B64URL = string.ascii_letters + string.digits + "-_"


@attrs.define
class Order:
    customer: str
    number: int
    status: str = "open"
    total: int = 0
    blob: bytes = b""


ORDERS = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="number",
    indexes=[
        GlobalIndex("by-status", partition_key="status", sort_key="total"),
        LocalIndex("by-total", sort_key="total"),
    ],
)


def database(secret: str | None) -> Database:
    """A database that is never opened: nothing can be sent."""
    return Database.connect(
        "http://127.0.0.1:9", mappers=[ORDERS], cursor_secret=secret, **LOCAL_CREDENTIALS
    )


DATABASES = {None: database(None), SECRET: database(SECRET)}


def queries(db: Database) -> list[Any]:
    repo = db.repository(ORDERS)
    return [
        repo.where("customer", "=", "ada"),
        repo.where("customer", "=", "ada").where(attr("number") > 3).order(descending=True),
        repo.where("customer", "=", "ada").filter("total", ">", 10).limit(7),
        repo.where("status", "=", "open"),
        repo.where("customer", "=", "ada").index("by-total"),
        repo.scan(),
        repo.scan().filter("total", "<", 5),
    ]


QUERY_COUNT = len(queries(DATABASES[None]))
secrets = st.sampled_from([None, SECRET])
query_numbers = st.integers(0, QUERY_COUNT - 1)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def tag(payload: bytes, fingerprint: bytes, secret: str | None) -> bytes:
    key = secret.encode() if secret else UNSIGNED
    return hmac.new(key, payload + b"|" + fingerprint, hashlib.sha256).digest()[:16]


def forge(payload: bytes, fingerprint: bytes, secret: str | None) -> str:
    """A cursor for any payload, with the tag it needs (the documented format)."""
    return f"{b64(payload)}.{b64(tag(payload, fingerprint, secret))}"


def valid_key(query: Any) -> dict[str, Any]:
    """A start key this query accepts (its key attributes, in its partition)."""
    values = {
        "customer": {"S": "ada"},
        "number": {"N": "4"},
        "status": {"S": "open"},
        "total": {"N": "12"},
    }
    return {name: values[name] for name in query.plan().key_names}


def described(exc: DynamORMError) -> DynamORMError:
    assert exc.message.strip()
    assert str(exc).strip()
    return exc


async def read_page(query: Any, cursor: Any) -> Any:
    """`query.page(size=2, cursor=cursor)`, or the DynamORMError it raised (checked)."""
    try:
        return await query.page(size=2, cursor=cursor)
    except DynamORMError as exc:
        return described(exc)


async def assert_refused(query: Any, cursor: Any) -> None:
    error = await read_page(query, cursor)
    assert isinstance(error, InvalidCursor), repr(error)
    assert isinstance(error, ValidationError)
    assert error.table == "orders"
    assert error.operation in ("Query", "Scan")


async def assert_refused_or_accepted(query: Any, cursor: Any) -> None:
    """Refused as invalid, or accepted, and so sent (which fails: not connected), or
    accepted with a count at the query's limit (an empty last page, nothing sent)."""
    error = await read_page(query, cursor)
    if isinstance(error, Page):
        assert (error.items, error.next_cursor) == ([], None)
        return
    assert isinstance(error, InvalidCursor | TransportError), repr(error)
    if isinstance(error, TransportError):
        assert "not connected" in str(error)


# --- the baseline: a valid cursor is accepted -------------------------------------------


@pytest.mark.parametrize("secret", [None, SECRET])
@pytest.mark.parametrize("number", range(QUERY_COUNT))
async def test_a_valid_cursor_is_accepted(secret, number):
    db = DATABASES[secret]
    query = queries(db)[number]
    plan = query.plan()
    cursor = encode_cursor(valid_key(query), plan.fingerprint, db.cursor_secret)
    error = await read_page(query, cursor)
    assert isinstance(error, TransportError)
    assert "not connected" in str(error)


# --- random input --------------------------------------------------------------------


@FUZZ
@given(
    secret=secrets,
    number=query_numbers,
    cursor=st.one_of(
        st.text(),
        st.text(alphabet=B64URL + ".=", max_size=80),
        st.text(alphabet=B64URL, max_size=40).map(lambda t: t + "." + t[::-1]),
        st.binary(max_size=40),
        st.integers(),
        st.floats(),
        st.lists(st.text(max_size=3), max_size=2),
        st.dictionaries(st.text(max_size=3), st.text(max_size=3), max_size=2),
        st.sampled_from(["", ".", "..", "a.b.c", "e30.", ".e30", "=.=", "\x00.\x00", "é.é"]),
    ),
)
@example(secret=None, number=0, cursor=b"e30.AAAA")
@example(secret=None, number=0, cursor="e30.AAAA")
@example(secret=SECRET, number=5, cursor="A" * 10_000 + "." + "B" * 10_000)
async def test_random_cursors_are_refused(secret, number, cursor):
    query = queries(DATABASES[secret])[number]
    await assert_refused(query, cursor)


@FUZZ
@given(
    secret=secrets,
    number=query_numbers,
    payload=st.binary(max_size=60),
    tag_bytes=st.binary(max_size=20),
    padding=st.sampled_from(["", "=", "=="]),
)
async def test_base64_of_random_bytes_is_refused(secret, number, payload, tag_bytes, padding):
    query = queries(DATABASES[secret])[number]
    await assert_refused(query, f"{b64(payload)}{padding}.{b64(tag_bytes)}")


json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=False),
        st.text(max_size=6),
        st.sampled_from(["S", "N", "B", "customer", "number", "status", "total", "ada", "4"]),
    ),
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(
            st.one_of(
                st.sampled_from(["customer", "number", "status", "total", "k", "n"]),
                st.text(max_size=4),
            ),
            children,
            max_size=4,
        ),
    ),
    max_leaves=10,
)


@FUZZ
@given(secret=secrets, number=query_numbers, body=json_values)
async def test_unsigned_base64_of_random_json_is_refused(secret, number, body):
    """Random JSON with a random (so wrong) tag."""
    query = queries(DATABASES[secret])[number]
    payload = json.dumps(body).encode()
    await assert_refused(query, f"{b64(payload)}.{b64(hashlib.md5(payload).digest())}")


# --- forged cursors: a valid tag over any payload --------------------------------------

key_entries = st.one_of(
    st.tuples(st.sampled_from(["S", "N", "B"]), st.text(max_size=6)).map(list),
    st.tuples(
        st.sampled_from(["N"]),
        st.sampled_from(["4", "-1.5e3", "1e999", "٣", "1_0", "NaN", "", "+1", ".5", "5."]),
    ).map(list),
    st.tuples(st.just("B"), st.binary(max_size=4).map(b64)).map(list),
    json_values,
)
forged_keys = st.dictionaries(
    st.one_of(
        st.sampled_from(["customer", "number", "status", "total"]),
        st.text(max_size=4),
    ),
    key_entries,
    max_size=5,
)


@FUZZ
@given(
    number=query_numbers,
    body=st.one_of(
        json_values,
        forged_keys,
        st.fixed_dictionaries({"k": forged_keys, "n": json_values}),
        st.fixed_dictionaries({"k": forged_keys, "n": st.integers()}),
    ),
)
@example(number=0, body={"customer": ["S", "bob"], "number": ["N", "4"]})  # another partition
@example(number=0, body={"customer": ["N", "1"], "number": ["N", "4"]})  # wrong type
@example(number=0, body={"customer": ["S", "ada"], "number": ["N", "NaN"]})
@example(number=0, body={"customer": ["S", "ada"], "number": ["B", "!!"]})
@example(number=2, body={"k": {"customer": ["S", "ada"], "number": ["N", "4"]}, "n": -1})
@example(number=2, body={"k": {"customer": ["S", "ada"], "number": ["N", "4"]}, "n": True})
@example(number=2, body={"k": {"customer": ["S", "ada"], "number": ["N", "4"]}, "n": 10**30})
@example(number=0, body={"customer": ["S", "ada"], "number": ["N", "4"], "total": ["N", "1"]})
async def test_forged_unsigned_cursors_are_refused_or_stay_in_their_partition(number, body):
    query = queries(DATABASES[None])[number]
    payload = json.dumps(body).encode()
    await assert_refused_or_accepted(query, forge(payload, query.plan().fingerprint, None))


@FUZZ
@given(number=query_numbers, payload=st.binary(max_size=80))
@example(number=0, payload=b"[" * 100_000)
@example(number=0, payload=b"\xff\xfe")
@example(number=0, payload=b'{"customer": ["S", "ada"], "number": ["N", "4"]')
async def test_forged_cursors_of_any_bytes_are_refused(number, payload):
    query = queries(DATABASES[None])[number]
    await assert_refused(query, forge(payload, query.plan().fingerprint, None))


@FUZZ
@given(number=query_numbers, body=forged_keys)
async def test_a_signed_database_refuses_cursors_forged_without_its_secret(number, body):
    query = queries(DATABASES[SECRET])[number]
    payload = json.dumps(body).encode()
    await assert_refused(query, forge(payload, query.plan().fingerprint, None))
    await assert_refused(query, forge(payload, query.plan().fingerprint, "another secret!!"))


# --- valid cursors, edited --------------------------------------------------------------


def valid_cursor(secret: str | None, number: int, returned: int | None = None) -> str:
    db = DATABASES[secret]
    query = queries(db)[number]
    return encode_cursor(valid_key(query), query.plan().fingerprint, db.cursor_secret, returned)


@FUZZ
@given(
    secret=secrets,
    number=query_numbers,
    cut=st.integers(0, 200),
    from_end=st.booleans(),
)
async def test_truncated_valid_cursors_are_refused(secret, number, cut, from_end):
    cursor = valid_cursor(secret, number, returned=3 if number == 2 else None)
    cut = cut % len(cursor) or 1
    truncated = cursor[:-cut] if from_end else cursor[cut:]
    await assert_refused(queries(DATABASES[secret])[number], truncated)


@FUZZ
@given(
    secret=secrets,
    number=query_numbers,
    position=st.integers(0, 10_000),
    bit=st.integers(0, 7),
    replacement=st.sampled_from(B64URL + ".=+/ \x00é"),
    how=st.sampled_from(["flip", "replace", "insert", "delete", "swap"]),
)
async def test_edited_valid_cursors_are_refused(secret, number, position, bit, replacement, how):
    cursor = valid_cursor(secret, number)
    i = position % len(cursor)
    if how == "flip":
        edited = cursor[:i] + chr(ord(cursor[i]) ^ (1 << bit)) + cursor[i + 1 :]
    elif how == "replace":
        edited = cursor[:i] + replacement + cursor[i + 1 :]
    elif how == "insert":
        edited = cursor[:i] + replacement + cursor[i:]
    elif how == "delete":
        edited = cursor[:i] + cursor[i + 1 :]
    else:
        j = (i + 1) % len(cursor)
        chars = list(cursor)
        chars[i], chars[j] = chars[j], chars[i]
        edited = "".join(chars)
    if edited == cursor:
        return
    await assert_refused(queries(DATABASES[secret])[number], edited)


@FUZZ
@given(
    made_with=secrets,
    used_with=secrets,
    made_for=query_numbers,
    used_for=query_numbers,
)
async def test_a_cursor_of_another_query_or_secret_is_refused(
    made_with, used_with, made_for, used_for
):
    cursor = valid_cursor(made_with, made_for)
    query = queries(DATABASES[used_with])[used_for]
    if made_with == used_with and made_for == used_for:
        error = await read_page(query, cursor)
        assert isinstance(error, TransportError)
    else:
        await assert_refused(query, cursor)


async def test_a_cursor_past_the_limit_reads_an_empty_last_page():
    # A forged count at or past the query's limit: nothing is read, nothing is sent.
    db = DATABASES[None]
    query = queries(db)[2]  # limit(7)
    cursor = encode_cursor(valid_key(query), query.plan().fingerprint, None, returned=7)
    page = await query.page(size=2, cursor=cursor)
    assert (page.items, page.next_cursor) == ([], None)
