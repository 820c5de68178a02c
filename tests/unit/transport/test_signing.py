"""The fast path's signer signs every request exactly as botocore's `SigV4Auth` does.

For a fixed clock, both sign copies of the same hypothesis-generated request: any
method, URL (scheme, host case, ports, path, query), headers (repeated, padded,
mixed case, botocore's unsigned ones), body (bytes, empty, text, a form dict),
credentials with and without a session token, regions, services and days, payload
signing on and off. Every header of the signed requests must be equal, the
``Authorization`` header included. A request may be signed again (a retry): so
is each one here, a second later.
"""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamorm_async.transport import _signing
from dynamorm_async.transport._signing import SIGNATURE_VERSION, FastSigV4Auth

header_names = st.sampled_from(
    [
        "Content-Type",
        "X-Amz-Target",
        "x-amz-target",
        "User-Agent",
        "Expect",
        "X-Amzn-Trace-Id",
        "Host",
        "X-Custom",
        "x-custom",
        "Accept-Encoding",
        "X-Amz-Content-SHA256",
        "Connection",
        "Transfer-Encoding",
    ]
)
header_values = st.text(
    st.characters(min_codepoint=32, max_codepoint=126), max_size=12
) | st.sampled_from(["  a   b  ", "application/x-amz-json-1.0", "DynamoDB_20120810.GetItem"])
urls = st.builds(
    lambda scheme, host, port, path, query: f"{scheme}://{host}{port}{path}{query}",
    st.sampled_from(["http", "https"]),
    st.sampled_from(["127.0.0.1", "dynamodb.us-east-1.amazonaws.com", "LocalHost", "[::1]"]),
    st.sampled_from(["", ":80", ":443", ":8000"]),
    st.sampled_from(["/", "", "/a/b", "/a/../b", "/%20x", "/a b"]),
    st.sampled_from(["", "?b=2&a=1", "?x", "?a=1&a=0"]),
)
bodies = st.one_of(
    st.binary(max_size=64),
    st.just(b""),
    st.text(max_size=16),
    st.dictionaries(st.sampled_from(["a", "b"]), st.text(max_size=4), max_size=2),
)
credentials = st.builds(
    ReadOnlyCredentials,
    st.sampled_from(["AKID", "ASIAEXAMPLE"]),
    st.sampled_from(["secret", "other/secret+key"]),
    st.none() | st.sampled_from(["token", "a-longer-session-token=="]),
)
moments = st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 12, 31)).map(
    lambda d: d.replace(microsecond=0)
)


def _request(method: str, url: str, headers: list[tuple[str, str]], body: Any) -> AWSRequest:
    request = AWSRequest(method=method, url=url, data=body)
    for name, value in headers:
        request.headers[name] = value
    return request


def _signed(signer: type[SigV4Auth], request: AWSRequest, creds: Any, scope: Any) -> Any:
    region, service = scope
    signer(creds, service, region).add_auth(request)
    return sorted(request.headers.items())


@settings(max_examples=400, derandomize=True, deadline=None)
@given(
    method=st.sampled_from(["POST", "GET", "put"]),
    url=urls,
    headers=st.lists(st.tuples(header_names, header_values), max_size=6),
    body=bodies,
    creds=credentials,
    scope=st.tuples(
        st.sampled_from(["us-east-1", "eu-west-3"]), st.sampled_from(["dynamodb", "s"])
    ),
    when=moments,
    payload_signing=st.sampled_from([None, True, False]),
)
def test_fast_signatures_are_botocore_signatures(
    method, url, headers, body, creds, scope, when, payload_signing
):
    request = _request(method, url, headers, body)
    if payload_signing is not None:
        request.context["payload_signing_enabled"] = payload_signing
    ours, theirs = copy.deepcopy(request), copy.deepcopy(request)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("botocore.auth.get_current_datetime", lambda: when)
        assert _signed(FastSigV4Auth, ours, creds, scope) == _signed(
            SigV4Auth, theirs, creds, scope
        )
        later = when + dt.timedelta(seconds=1)
        patch.setattr("botocore.auth.get_current_datetime", lambda: later)
        assert _signed(FastSigV4Auth, ours, creds, scope) == _signed(
            SigV4Auth, theirs, creds, scope
        )
    assert "Authorization" in dict(ours.headers.items())


def test_signing_keys_are_kept_per_secret_day_region_and_service(monkeypatch):
    """A cached key is never used for another secret, day, region or service."""
    monkeypatch.setattr(_signing, "_KEYS", {})
    base = dt.datetime(2026, 11, 27, 12, 0, 0)
    seen = set()
    for secret in ("one", "two"):
        for day in (0, 1):
            for region in ("us-east-1", "eu-west-1"):
                for service in ("dynamodb", "other"):
                    creds = ReadOnlyCredentials("AKID", secret, None)
                    when = base + dt.timedelta(days=day)
                    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda w=when: w)
                    ours = _request("POST", "http://h/", [], b"{}")
                    theirs = copy.deepcopy(ours)
                    got = _signed(FastSigV4Auth, ours, creds, (region, service))
                    assert got == _signed(SigV4Auth, theirs, creds, (region, service))
                    seen.add(dict(got)["Authorization"])
    assert len(seen) == 16
    assert len(_signing._KEYS) == 16


def test_the_key_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(_signing, "_KEYS", {})
    monkeypatch.setattr("botocore.auth.get_current_datetime", lambda: dt.datetime(2026, 1, 1))
    for n in range(_signing._MAX_KEYS * 2 + 1):
        creds = ReadOnlyCredentials("AKID", f"secret{n}", None)
        FastSigV4Auth(creds, "dynamodb", "us-east-1").add_auth(
            _request("POST", "http://h/", [], b"")
        )
        assert len(_signing._KEYS) <= _signing._MAX_KEYS


def test_the_fast_signer_is_chosen_only_for_plain_v4():
    assert _signing.choose_fast_signer(signature_version="v4") == SIGNATURE_VERSION
    for other in ("v4a", "v4-query", "s3v4", "bearer"):
        assert _signing.choose_fast_signer(signature_version=other) is None
