"""SigV4 signing without botocore's slow helpers, through botocore's own signer hooks.

botocore signs every request with `SigV4Auth`, which is correct and slow: it builds an
`email.message`-based header map twice per request, parses the URL for the host each
time, and derives the signing key (four HMACs) for every request although it changes
once a day per region. `FastSigV4Auth` is `SigV4Auth` with those helpers replaced
(and the body hashed without preparing a copy of the request to find it); everything else (the timestamp, the canonical request and string to sign,
which headers are signed and how, the security token) is botocore's own code.

It is plugged in by botocore's public ``choose-signer`` event: `choose_fast_signer`,
asked after botocore's own handlers (per-operation auth types, auth scheme
preferences), answers `SIGNATURE_VERSION` where none answered and botocore would
sign with plain ``v4``, and
`register` adds the class to botocore's table of signers under that name. Credentials
keep coming from botocore's chain (refreshed as it refreshes them).
``tests/unit/transport/test_signing.py`` proves that both sign every request alike.
"""

from __future__ import annotations

import hmac
from functools import lru_cache
from hashlib import sha256
from typing import Any, Final

import botocore.auth
from botocore.auth import EMPTY_SHA256_HASH, SIGNED_HEADERS_BLACKLIST, SigV4Auth

__all__ = ["SIGNATURE_VERSION", "FastSigV4Auth", "choose_fast_signer", "register"]

#: The name the fast signer is known by in botocore's table of signers.
SIGNATURE_VERSION: Final = "dynamorm-v4"

_UNSIGNED_HEADERS = frozenset(SIGNED_HEADERS_BLACKLIST)

# Signing keys by (secret, date, region, service): a key is valid for one day, and a
# process signs with few credentials. Bounded, in case credentials rotate often.
_KEYS: dict[tuple[str, str, str, str], bytes] = {}
_MAX_KEYS = 64


class _SignedHeaders(dict[str, list[str]]):
    """What `SigV4Auth.headers_to_sign` returns, as a dict: lower-cased names to
    their values (a name may repeat), with the one method botocore calls on it."""

    def get_all(self, name: str) -> list[str]:
        return self[name]


@lru_cache(maxsize=64)
def _host(url: str) -> str:
    """botocore's host header for `url` (one client talks to one endpoint)."""
    host: str = botocore.auth._host_from_url(url)
    return host


class FastSigV4Auth(SigV4Auth):  # type: ignore[misc] # botocore has no type hints
    """`SigV4Auth` with a cheaper header map, host and signing key (same signatures)."""

    _headers: _SignedHeaders | None = None
    _signed: str | None = None

    def add_auth(self, request: Any) -> None:
        """Sign `request` as `SigV4Auth` does."""
        # Read twice while it signs (the canonical request, the Authorization header).
        self._headers = self._signed = None
        super().add_auth(request)

    def headers_to_sign(self, request: Any) -> Any:
        """The headers to sign, as botocore selects them (lower-cased, without
        botocore's unsigned ones, with ``host`` from the URL when it is missing)."""
        if self._headers is not None:  # asked again for the Authorization header
            return self._headers
        headers = _SignedHeaders()
        for name, value in request.headers.items():
            lname = name.lower()
            if lname not in _UNSIGNED_HEADERS:
                values = headers.get(lname)
                if values is None:
                    headers[lname] = [value]
                else:
                    values.append(value)
        if "host" not in headers:
            headers["host"] = [_host(request.url)]
        self._headers = headers
        return headers

    def signed_headers(self, headers_to_sign: Any) -> str:
        """The ``SignedHeaders`` list, computed once per request."""
        if headers_to_sign is self._headers and self._signed is not None:
            return self._signed
        signed: str = super().signed_headers(headers_to_sign)
        if headers_to_sign is self._headers:
            self._signed = signed
        return signed

    def payload(self, request: Any) -> str:
        """The body's SHA-256, as `SigV4Auth.payload` gives it; for the bytes body of
        botocore's JSON requests, without preparing a copy of the whole request (what
        `AWSRequest.body` does to find the body)."""
        data = request.data
        if (
            type(data) is bytes
            and not self._is_streaming_checksum_payload(request)
            and self._should_sha256_sign_payload(request)
        ):
            return sha256(data).hexdigest() if data else EMPTY_SHA256_HASH
        payload: str = super().payload(request)
        return payload

    def signature(self, string_to_sign: str, request: Any) -> str:
        """The request's signature, from a signing key derived once a day."""
        scope = (
            self.credentials.secret_key,
            request.context["timestamp"][0:8],
            self._region_name,
            self._service_name,
        )
        key = _KEYS.get(scope)
        if key is None:
            secret, date, region, service = scope
            key = self._sign(f"AWS4{secret}".encode(), date)
            for part in (region, service, "aws4_request"):
                key = self._sign(key, part)
            if len(_KEYS) >= _MAX_KEYS:
                _KEYS.clear()
            _KEYS[scope] = key
        return hmac.new(key, string_to_sign.encode("utf-8"), sha256).hexdigest()


def register() -> None:
    """Add `FastSigV4Auth` to botocore's table of signers (idempotent)."""
    botocore.auth.AUTH_TYPE_MAPS.setdefault(SIGNATURE_VERSION, FastSigV4Auth)


def choose_fast_signer(signature_version: str, **_: Any) -> str | None:
    """A ``choose-signer`` handler, to be asked last (``register_last``): the fast
    signer where no other handler answered and botocore signs with plain v4."""
    return SIGNATURE_VERSION if signature_version == "v4" else None
