"""Page cursors: encoding LastEvaluatedKeys, refusing altered or foreign cursors.

The cursor format is documented in `dynamorm_async.query._cursor`:
``base64url(payload) "." base64url(tag)`` where the payload is the key as compact
JSON (``{"name": [type, value]}``, binary values in base64url) and the tag is
HMAC-SHA256(secret, payload + b"|" + fingerprint) truncated to 16 bytes. `forge`
below builds cursors from that description, to reach the checks that come after
the tag.
"""

import base64
import hashlib
import hmac
import json
import re
import string

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from dynamorm_async import InvalidCursor, ValidationError
from dynamorm_async.query import decode_cursor, encode_cursor, fingerprint

#: base64url's alphabet, in value order.
B64URL = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"
URL_SAFE = re.compile(r"[A-Za-z0-9_.\-]+")

REQUEST = {
    "TableName": "prod-orders",
    "KeyConditionExpression": "#n0 = :v0",
    "ExpressionAttributeNames": {"#n0": "pk"},
    "ExpressionAttributeValues": {":v0": {"S": "c1"}},
}
FP = fingerprint(REQUEST)
OTHER_FP = fingerprint({**REQUEST, "ExpressionAttributeValues": {":v0": {"S": "c2"}}})
SECRET = b"server-side secret"

KEY = {"pk": {"S": "c1"}, "sk": {"N": "42"}}
NAMES = frozenset(KEY)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def forge(payload: bytes, bound_to: bytes = FP, secret: bytes = SECRET) -> str:
    """A cursor for an arbitrary payload, with a valid tag (the documented format)."""
    tag = hmac.new(secret, payload + b"|" + bound_to, hashlib.sha256).digest()[:16]
    return f"{b64(payload)}.{b64(tag)}"


# --- round trips -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        {"pk": {"S": "c1"}},
        {"pk": {"S": "c1"}, "sk": {"N": "42"}},
        {"pk": {"N": "-1.5E+10"}, "sk": {"B": b"\x00\xfb\xff"}},
        {"pk": {"B": b"\xfb\xff\xfe"}},
        {"pk": {"S": 'ünïcödé 😀 "quoted" \\ /'}, "sk": {"S": ""}},
        {"pk": {"S": "c1"}, "sk": {"N": "1"}, "gpk": {"S": "x"}, "gsk": {"B": b"\x01"}},
    ],
    ids=["S", "S+N", "N+B", "B", "unicode", "table+index"],
)
@pytest.mark.parametrize("secret", [None, SECRET], ids=["unsigned", "signed"])
def test_cursor_round_trip(key, secret):
    cursor = encode_cursor(key, FP, secret)
    assert decode_cursor(cursor, FP, secret, frozenset(key)) == key
    assert URL_SAFE.fullmatch(cursor)
    assert cursor.count(".") == 1


def test_cursor_binary_value_comes_back_as_bytes():
    cursor = encode_cursor({"pk": {"B": b"\xfb\xef"}}, FP, None)
    (value,) = decode_cursor(cursor, FP, None, frozenset({"pk"}))["pk"].values()
    assert value == b"\xfb\xef"
    assert isinstance(value, bytes)


def test_cursor_is_url_safe_where_standard_base64_is_not():
    # b"\xfb\xff" is "+/8" in standard base64: the cursor must not carry + or /.
    for length in range(1, 40):
        cursor = encode_cursor({"pk": {"B": b"\xfb\xff" * length}}, FP, SECRET)
        assert URL_SAFE.fullmatch(cursor), cursor
        assert "=" not in cursor


def test_cursor_format_matches_the_documentation():
    payload = json.dumps(
        {"pk": ["S", "c1"], "sk": ["N", "42"]}, sort_keys=True, separators=(",", ":")
    ).encode()
    assert encode_cursor(KEY, FP, SECRET) == forge(payload)


def test_cursor_does_not_depend_on_key_order():
    reordered = {"sk": {"N": "42"}, "pk": {"S": "c1"}}
    assert encode_cursor(KEY, FP, None) == encode_cursor(reordered, FP, None)


def test_cursor_decoding_returns_a_fresh_key():
    cursor = encode_cursor(KEY, FP, None)
    first = decode_cursor(cursor, FP, None, NAMES)
    first["pk"]["S"] = "changed"
    assert decode_cursor(cursor, FP, None, NAMES) == KEY


KEY_VALUES = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=30)),
    st.builds(
        lambda n: {"N": str(n)},
        st.one_of(st.integers(), st.decimals(allow_nan=False, allow_infinity=False)),
    ),
    st.builds(lambda b: {"B": b}, st.binary(max_size=40)),
)
KEYS = st.dictionaries(st.text(min_size=1, max_size=12), KEY_VALUES, min_size=1, max_size=4)
SECRETS = st.one_of(st.none(), st.binary(min_size=1, max_size=32))


@settings(max_examples=200, deadline=None)
@given(key=KEYS, secret=SECRETS)
def test_cursor_round_trip_property(key, secret):
    cursor = encode_cursor(key, FP, secret)
    assert URL_SAFE.fullmatch(cursor)
    assert decode_cursor(cursor, FP, secret, frozenset(key)) == key


# --- edits ---------------------------------------------------------------------------------


def test_cursor_every_position_edit_is_rejected():
    cursor = encode_cursor(KEY, FP, SECRET)
    for position, char in enumerate(cursor):
        # Flipping the highest bit of a base64 digit always changes the decoded bytes.
        replacement = "A" if char == "." else B64URL[B64URL.index(char) ^ 32]
        edited = cursor[:position] + replacement + cursor[position + 1 :]
        with pytest.raises(InvalidCursor):
            decode_cursor(edited, FP, SECRET, NAMES)


def test_cursor_truncated_or_extended_is_rejected():
    cursor = encode_cursor(KEY, FP, None)
    for end in range(len(cursor)):
        with pytest.raises(InvalidCursor):
            decode_cursor(cursor[:end], FP, None, NAMES)
    for suffix in ("A", "AA", "AAAA", ".A"):
        with pytest.raises(InvalidCursor):
            decode_cursor(cursor + suffix, FP, None, NAMES)


EDIT_CHARS = B64URL + ".+/=!~ %\n"
EDITS = st.sampled_from(["replace", "insert", "delete"])


def edit(cursor: str, kind: str, position: int, char: str) -> str:
    if kind == "insert":
        position %= len(cursor) + 1
        return cursor[:position] + char + cursor[position:]
    position %= len(cursor)
    if kind == "delete":
        return cursor[:position] + cursor[position + 1 :]
    return cursor[:position] + char + cursor[position + 1 :]


@settings(max_examples=300, deadline=None)
@given(
    key=KEYS,
    secret=SECRETS,
    kind=EDITS,
    position=st.integers(min_value=-200, max_value=200),
    char=st.sampled_from(EDIT_CHARS),
)
# Regressions: trailing padding; "g" -> "h" / "v" changes only the unused low bits of
# this cursor's last digit (see test_cursor_equivalent_spelling_is_rejected).
@example(key={"pk": {"S": "c1"}}, secret=None, kind="insert", position=-1, char="=")
@example(key={"pk": {"S": "c1"}}, secret=None, kind="replace", position=-1, char="h")
@example(key={"pk": {"S": "c1"}}, secret=None, kind="replace", position=-1, char="v")
def test_cursor_any_single_byte_edit_is_rejected(key, secret, kind, position, char):
    cursor = encode_cursor(key, FP, secret)
    edited = edit(cursor, kind, position, char)
    if edited == cursor:
        return
    with pytest.raises(InvalidCursor):
        decode_cursor(edited, FP, secret, frozenset(key))


def _appended_padding():
    cursor = encode_cursor(KEY, FP, None)
    return cursor, cursor + "=", NAMES


def _standard_alphabet():
    for n in range(1000):
        key = {"pk": {"S": f"c{n}"}}
        cursor = encode_cursor(key, FP, None)
        if "-" in cursor or "_" in cursor:
            return cursor, cursor.replace("-", "+").replace("_", "/"), frozenset(key)
    raise AssertionError("no cursor with - or _")  # pragma: no cover


def _unused_bits():
    cursor = encode_cursor(KEY, FP, None)
    # The tag is 16 bytes = 22 digits: the last digit carries 2 bits, its low bit none.
    return cursor, cursor[:-1] + B64URL[B64URL.index(cursor[-1]) ^ 1], NAMES


@pytest.mark.parametrize(
    "make",
    [_appended_padding, _standard_alphabet, _unused_bits],
    ids=["appended-padding", "standard-alphabet", "unused-bits"],
)
def test_cursor_equivalent_spelling_is_rejected(make):
    original, edited, names = make()
    assert edited != original
    with pytest.raises(InvalidCursor):
        decode_cursor(edited, FP, None, names)


# --- foreign cursors and secrets ---------------------------------------------------------


@pytest.mark.parametrize("secret", [None, SECRET], ids=["unsigned", "signed"])
def test_cursor_from_another_query_is_rejected(secret):
    cursor = encode_cursor(KEY, OTHER_FP, secret)
    with pytest.raises(InvalidCursor, match="another query"):
        decode_cursor(cursor, FP, secret, NAMES)


@pytest.mark.parametrize(
    ("made_with", "read_with"),
    [(None, SECRET), (SECRET, None), (SECRET, b"another secret"), (b"another secret", SECRET)],
    ids=["unsigned-read-signed", "signed-read-unsigned", "secret-a-b", "secret-b-a"],
)
def test_cursor_with_another_secret_is_rejected(made_with, read_with):
    cursor = encode_cursor(KEY, FP, made_with)
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, FP, read_with, NAMES)


def test_cursor_invalid_is_a_validation_error():
    with pytest.raises(ValidationError):
        decode_cursor("nope", FP, None, NAMES)


# --- malformed input -------------------------------------------------------------------


@pytest.mark.parametrize(
    "cursor",
    [None, 42, b"abc.def", ["abc.def"], {"a": "b"}, 1.5],
    ids=repr,
)
def test_cursor_that_is_not_a_string_is_rejected(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, FP, None, NAMES)


@pytest.mark.parametrize(
    "cursor",
    ["", "nodot", "a.b.c", "..", ".", "abc.", ".abc", "é.x", "x.é", "a.b", "abcde.f", "a b.c d"],
    ids=repr,
)
def test_cursor_malformed_string_is_rejected(cursor):
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, FP, None, NAMES)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"not json",
        b"\xff\xfe",
        b"{",
        b"[]",
        b'"pk"',
        b"42",
        b"null",
        b'{"pk": 5}',
        b'{"pk": "S"}',
        b'{"pk": ["S"]}',
        b'{"pk": ["S", "a", "b"]}',
        b'{"pk": ["X", "a"]}',
        b'{"pk": ["SS", ["a"]]}',
        b'{"pk": ["S", 5]}',
        b'{"pk": ["N", 42]}',
        b'{"pk": ["S", null]}',
        b'{"pk": ["B", "a"]}',
        b'{"pk": {"S": "a"}}',
        b'{"pk": [["S"], "a"]}',
    ],
    ids=repr,
)
def test_cursor_with_a_valid_tag_but_not_a_key_is_rejected(payload):
    with pytest.raises(InvalidCursor):
        decode_cursor(forge(payload), FP, SECRET, frozenset({"pk"}))


@pytest.mark.parametrize("value", ["!!!", "+/8"], ids=repr)
def test_cursor_binary_value_that_is_not_base64url_is_rejected(value):
    payload = json.dumps({"pk": ["B", value]}).encode()
    with pytest.raises(InvalidCursor):
        decode_cursor(forge(payload), FP, SECRET, frozenset({"pk"}))


def test_cursor_deeply_nested_payload_is_rejected():
    # Without a secret anyone can tag a payload: it must still end in InvalidCursor.
    payload = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(InvalidCursor):
        decode_cursor(forge(payload), FP, SECRET, frozenset({"pk"}))


@pytest.mark.parametrize(
    "names",
    [
        frozenset({"pk"}),
        frozenset({"pk", "sk", "gsi_pk"}),
        frozenset({"pk", "other"}),
        frozenset(),
    ],
    ids=["missing", "extra", "renamed", "none"],
)
def test_cursor_with_other_key_names_is_rejected(names):
    cursor = encode_cursor(KEY, FP, SECRET)
    with pytest.raises(InvalidCursor, match="keys are"):
        decode_cursor(cursor, FP, SECRET, names)


def test_cursor_with_an_empty_key_is_rejected():
    with pytest.raises(InvalidCursor):
        decode_cursor(forge(b"{}"), FP, SECRET, NAMES)


# --- fingerprints --------------------------------------------------------------------------


def test_cursor_fingerprint_is_sha256_sized_and_stable():
    assert isinstance(FP, bytes)
    assert len(FP) == 32
    assert fingerprint(dict(REQUEST)) == FP
    assert fingerprint(dict(reversed(list(REQUEST.items())))) == FP


@pytest.mark.parametrize(
    "extra",
    [
        {"ExclusiveStartKey": {"pk": {"S": "c1"}, "sk": {"N": "3"}}},
        {"Limit": 25},
        {"Select": "COUNT"},
        {"Select": "ALL_ATTRIBUTES", "Limit": 1, "ExclusiveStartKey": {"pk": {"B": b"\x00"}}},
    ],
    ids=["start-key", "limit", "select", "all-three"],
)
def test_cursor_fingerprint_ignores_start_key_page_size_and_select(extra):
    assert fingerprint({**REQUEST, **extra}) == FP


@pytest.mark.parametrize(
    "change",
    [
        {"ExpressionAttributeValues": {":v0": {"S": "c2"}}},
        {"ExpressionAttributeValues": {":v0": {"S": "c1"}, ":v1": {"N": "1"}}},
        {"ExpressionAttributeNames": {"#n0": "other"}},
        {"TableName": "dev-orders"},
        {"IndexName": "gsi-status"},
        {"KeyConditionExpression": "#n0 = :v0 AND #n1 > :v1"},
        {"FilterExpression": "#n1 = :v1"},
        {"ProjectionExpression": "#n0"},
        {"ScanIndexForward": False},
        {"ConsistentRead": True},
        {"TotalSegments": 4},
        {"Segment": 1},
    ],
    ids=lambda change: next(iter(change)),
)
def test_cursor_fingerprint_changes_with_anything_else(change):
    assert fingerprint({**REQUEST, **change}) != FP


def test_cursor_fingerprint_handles_binary_values():
    with_bytes = {**REQUEST, "ExpressionAttributeValues": {":v0": {"B": b"\x00\x01"}}}
    other_bytes = {**REQUEST, "ExpressionAttributeValues": {":v0": {"B": b"\x00\x02"}}}
    assert fingerprint(with_bytes) != fingerprint(other_bytes)
    assert fingerprint(with_bytes) == fingerprint(dict(with_bytes))


def test_cursor_number_key_that_is_not_a_number_is_rejected():
    cursor = forge(b'{"pk":["N","abc"]}')
    with pytest.raises(InvalidCursor, match="malformed"):
        decode_cursor(cursor, FP, SECRET, frozenset({"pk"}))
