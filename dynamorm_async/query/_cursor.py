"""Page cursors: an opaque, URL-safe string for DynamoDB's LastEvaluatedKey.

A cursor is ``<payload>.<tag>``: the payload is the key as compact JSON in
base64url; the tag is an HMAC-SHA256 (truncated to 16 bytes) of the payload and
of the query's fingerprint. With a secret, a cursor cannot be forged or moved to
another query; without one, the tag still catches an edited or truncated cursor
and one from another query, but anyone who knows this format can make one, so
a Query also checks that the key stays inside its partition.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from typing import Any

from dynamorm_async.errors import InvalidCursor

__all__ = ["decode_cursor", "decode_page_cursor", "encode_cursor", "fingerprint"]

_UNSIGNED = b"dynamorm_async cursor: not a secret"
_TAG_BYTES = 16
_KEY_TAGS = ("S", "N", "B")
# DynamoDB's number text: digits, an optional fraction and exponent; no NaN, no "_".
_NUMBER = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d{1,3})?")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict base64url: only the canonical spelling of some bytes is accepted, so an
    edited character can never decode to the same cursor."""
    data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(data) != text:
        raise ValueError("not canonical base64url")
    return data


def _bytes(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {"$b": _b64(bytes(value))}
    raise TypeError(f"cannot fingerprint {type(value).__name__}")  # pragma: no cover


def fingerprint(request: Mapping[str, Any]) -> bytes:
    """What binds a cursor to its query: everything but the start key and page size."""
    stable = {k: v for k, v in request.items() if k not in ("ExclusiveStartKey", "Limit", "Select")}
    text = json.dumps(stable, sort_keys=True, separators=(",", ":"), default=_bytes)
    return hashlib.sha256(text.encode("utf-8")).digest()


def _tag(payload: bytes, bound_to: bytes, secret: bytes | None) -> bytes:
    mac = hmac.new(secret or _UNSIGNED, payload + b"|" + bound_to, hashlib.sha256)
    return mac.digest()[:_TAG_BYTES]


def encode_cursor(
    key: Mapping[str, Any], bound_to: bytes, secret: bytes | None, returned: int | None = None
) -> str:
    """The cursor for LastEvaluatedKey `key` of the query with fingerprint `bound_to`.

    `returned` (how many items the query has returned so far) is carried when the
    query has a limit, so that paging stops at it.
    """
    entries: dict[str, Any] = {}
    for name, av in key.items():
        ((tag, value),) = av.items()
        entries[name] = [tag, _b64(value) if tag == "B" else value]
    body: Any = entries if returned is None else {"k": entries, "n": returned}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")
    return f"{_b64(payload)}.{_b64(_tag(payload, bound_to, secret))}"


def decode_cursor(
    cursor: object, bound_to: bytes, secret: bytes | None, key_names: frozenset[str]
) -> dict[str, Any]:
    """The ExclusiveStartKey in `cursor`; `InvalidCursor` if it was altered or is foreign.

    `key_names` are the stored names the key must hold (the table's and the index's
    key attributes), so a structurally wrong key never reaches DynamoDB.
    """
    return decode_page_cursor(cursor, bound_to, secret, key_names)[0]


def decode_page_cursor(
    cursor: object, bound_to: bytes, secret: bytes | None, key_names: frozenset[str]
) -> tuple[dict[str, Any], int | None]:
    """`decode_cursor`, and the count of items returned before it (or ``None``)."""
    if not isinstance(cursor, str) or cursor.count(".") != 1:
        raise InvalidCursor(f"not a cursor of this library: {str(cursor)[:60]!r}")
    body, tag = cursor.split(".")
    try:
        payload = _unb64(body)
        given = _unb64(tag)
    except (binascii.Error, ValueError) as exc:
        raise InvalidCursor("the cursor is not valid base64url") from exc
    if not hmac.compare_digest(given, _tag(payload, bound_to, secret)):
        raise InvalidCursor(
            "the cursor was altered, or it belongs to another query (or another secret)"
        )
    try:
        decoded = json.loads(payload)
        returned: int | None = None
        entries = decoded
        if (
            isinstance(decoded, dict)
            and set(decoded) == {"k", "n"}
            and isinstance(decoded["k"], dict)
        ):
            entries, returned = decoded["k"], decoded["n"]
            if not isinstance(returned, int) or isinstance(returned, bool) or returned < 0:
                raise ValueError("n")
        key: dict[str, Any] = {}
        for name, (tag_, value) in entries.items():
            if tag_ not in _KEY_TAGS or not isinstance(value, str):
                raise ValueError(name)
            if tag_ == "N" and _NUMBER.fullmatch(value) is None:
                raise ValueError(name)
            key[name] = {tag_: _unb64(value) if tag_ == "B" else value}
    except (ValueError, TypeError, AttributeError, RecursionError, binascii.Error) as exc:
        raise InvalidCursor("the cursor's key is malformed") from exc
    if set(key) != key_names:
        raise InvalidCursor(
            f"the cursor's key has attributes {sorted(key)}, this query's keys are {sorted(key_names)}"
        )
    return key, returned
