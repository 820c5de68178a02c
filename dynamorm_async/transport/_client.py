"""The aiobotocore client: one pooled client per `Database`, and error mapping.

Every DynamoDB call goes through `Transport.call`, which turns botocore's
exceptions into the `dynamorm_async.errors` tree, with the request's context.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import time
import zlib
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from typing import Any

import anyio
import attrs
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession, get_session
from botocore import xform_name
from botocore.exceptions import (
    BotoCoreError,
    ChecksumError,
    ClientError,
    ConnectionError,
    HTTPClientError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
)
from botocore.parsers import ResponseParserError
from botocore.useragent import UserAgentString

from dynamorm_async._env import fast_path_default
from dynamorm_async._version import __version__
from dynamorm_async.errors import (
    CancellationReason,
    ConditionFailed,
    DynamoDBError,
    DynamORMError,
    TableNotFound,
    ThrottledError,
    TransactionCanceled,
    TransportError,
    ValidationError,
    readable_key,
)
from dynamorm_async.transport._fast import WIRE_ITEMS, FastReader, ItemDecoder
from dynamorm_async.transport._retry import CircuitBreaker, RetryPolicy
from dynamorm_async.transport._signing import choose_fast_signer
from dynamorm_async.transport._signing import register as register_fast_signer

__all__ = [
    "ClientConfig",
    "Interceptor",
    "Send",
    "Transport",
    "malformed",
    "map_client_error",
    "reading",
]

_log = logging.getLogger("dynamorm_async.requests")

#: Sends a request (the keyword arguments of the botocore call) and returns the response.
Send = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

#: ``(operation, request, send) -> response``: wraps each request the transport sends
#: (every attempt). It may change the request or the response, or raise botocore's
#: exceptions, which are mapped as the client's own (see `Transport.interceptors`).
Interceptor = Callable[[str, dict[str, Any], Send], Awaitable[dict[str, Any]]]

# Where no region is configured, a local endpoint (moto, DynamoDB Local) still needs one
# to sign requests; any region works there.
_LOCAL_REGION = "us-east-1"

_THROTTLING = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "RequestLimitExceeded",
        "Throttling",
    }
)


@attrs.frozen(repr=False)
class ClientConfig:
    """How to reach DynamoDB. Credentials default to the usual AWS chain.

    Attributes:
        endpoint_url: a DynamoDB-compatible endpoint (``None``: AWS's own for the region).
        region_name: the AWS region (``None``: from the environment or profile).
        profile_name: an AWS profile to take credentials and region from.
        max_pool_connections: the size of the HTTP connection pool.
        connect_timeout: seconds to wait for a connection.
        read_timeout: seconds to wait for a response.
        max_attempts: tries per call of the default `RetryPolicy`.
        log_values: whether the debug log of requests (logger ``dynamorm_async.requests``)
            shows keys, items and expression values; by default they are redacted.
        fast_path: read successful data-plane responses with orjson instead of
            botocore's parser, and skip botocore's parameter validation, which the
            library's own checks cover (see ``docs/performance.md``). On by default;
            the environment variable ``DYNAMORM_FAST_PATH=0`` turns it off where a
            `ClientConfig` is made without it, for debugging.
    """

    endpoint_url: str | None = None
    region_name: str | None = None
    profile_name: str | None = None
    aws_access_key_id: str | None = None
    aws_secret_access_key: str | None = None
    aws_session_token: str | None = None
    max_pool_connections: int = 50
    connect_timeout: float = 5.0
    read_timeout: float = 30.0
    max_attempts: int = 3
    log_values: bool = False
    fast_path: bool = attrs.field(factory=lambda: fast_path_default())

    def __repr__(self) -> str:
        # Secrets never appear in reprs, logs or errors.
        return (
            f"ClientConfig(endpoint_url={self.endpoint_url!r}, region_name={self.region_name!r}, "
            f"profile_name={self.profile_name!r}, max_pool_connections={self.max_pool_connections})"
        )


class Transport:
    """Owns the aiobotocore client and sends every request through `call`."""

    #: Whether writes are recorded rather than sent (see `RecordingTransport`).
    dry_run = False

    def __init__(
        self,
        config: ClientConfig,
        session: AioSession | None = None,
        *,
        retry_policy: RetryPolicy | None = None,
        breaker: CircuitBreaker | None = None,
    ) -> None:
        self.config = config
        self.retry_policy = retry_policy or RetryPolicy(attempts=config.max_attempts)
        self.breaker = breaker
        self._session = session
        self._stack: AsyncExitStack | None = None
        self._client: Any = None
        self._methods: dict[str, Any] = {}
        self._opening = anyio.Lock()
        #: Wrappers around every request sent, outermost first (fault injection,
        #: recording); see `Interceptor`.
        self.interceptors: list[Interceptor] = []

    @property
    def is_open(self) -> bool:
        """Whether the client is open."""
        return self._client is not None

    async def open(self) -> None:
        """Create the client and its connection pool."""
        async with self._opening:  # two concurrent open() calls make one client
            if self._client is None:
                await self._open()

    async def _open(self) -> None:
        config = self.config
        try:
            session = self._session or (
                AioSession(profile=config.profile_name) if config.profile_name else get_session()
            )
            region = config.region_name
            if region is None and config.endpoint_url is not None:
                region = session.get_config_variable("region") or _env_region() or _LOCAL_REGION
        except BotoCoreError as exc:  # an unknown profile, say
            raise TransportError(f"cannot set up the AWS session: {exc}") from exc
        options: dict[str, Any] = {}
        if config.fast_path:
            # The library checks what it sends (keys, names, values, sizes) itself.
            options["parameter_validation"] = False
            # botocore rebuilds its User-Agent for every request (10-15% of a GetItem);
            # built once instead, it lacks only the per-request feature ids ("m/...").
            options["user_agent"] = _user_agent()
        client_config = AioConfig(
            max_pool_connections=config.max_pool_connections,
            connect_timeout=config.connect_timeout,
            read_timeout=config.read_timeout,
            # Retries are the RetryPolicy's, one place for every call: none in botocore.
            retries={"mode": "standard", "total_max_attempts": 1},
            **options,
        )
        stack = AsyncExitStack()
        try:
            self._client = await stack.enter_async_context(
                session.create_client(
                    "dynamodb",
                    endpoint_url=config.endpoint_url,
                    region_name=region,
                    aws_access_key_id=config.aws_access_key_id,
                    aws_secret_access_key=config.aws_secret_access_key,
                    aws_session_token=config.aws_session_token,
                    config=client_config,
                )
            )
        except NoRegionError as exc:
            await stack.aclose()
            raise TransportError(
                "no AWS region: pass region_name=, or set AWS_REGION / AWS_DEFAULT_REGION"
            ) from exc
        except (BotoCoreError, ValueError) as exc:  # unknown profile, bad endpoint URL...
            await stack.aclose()
            raise TransportError(f"cannot create the DynamoDB client: {exc}") from exc
        events = self._client.meta.events
        events.register("before-parse.dynamodb", _check_body)
        if config.fast_path:  # after the checksum check: handlers run in this order
            events.register("before-parse.dynamodb", FastReader())
            # Signed by botocore's SigV4 code with its slow helpers replaced, where
            # botocore would sign with plain v4: asked last, after botocore's own
            # choices (per operation, auth scheme preference), which it keeps.
            register_fast_signer()
            events.register_last("choose-signer", choose_fast_signer)
        self._stack = stack

    async def close(self) -> None:
        """Close the client and every pooled connection."""
        stack, self._stack = self._stack, None
        self._client = None
        self._methods.clear()
        if stack is not None:
            await stack.aclose()

    @property
    def client(self) -> Any:
        """The underlying aiobotocore client (for calls the library does not wrap)."""
        if self._client is None:
            raise TransportError(
                "the database is not connected; use `async with Database.connect(...)`"
            )
        return self._client

    async def call(
        self,
        operation: str,
        request: dict[str, Any],
        *,
        key: dict[str, Any] | None = None,
        retry_if: Callable[[BaseException], bool] | None = None,
        wire_items: bool | ItemDecoder = False,
    ) -> dict[str, Any]:
        """Send `request` as `operation` (``"GetItem"``...) and return the response.

        Retryable failures are retried by the `RetryPolicy`; the `CircuitBreaker`
        counts calls that still fail. Raises the matching `DynamORMError`, carrying
        the table, operation, key (the stored key, shown readably) and expressions.
        `retry_if` replaces the policy's choice of what to retry, for a caller that
        handles some errors itself (a batch treats throttling as unprocessed items).
        `wire_items`: the caller reads a Query's or Scan's ``Items`` with the codecs,
        which take them as the fast path reads them (Binary values in base64, not yet
        checked: see `dynamorm_async.transport.check_item`); without the fast path,
        as botocore returns them. An `ItemDecoder` (the caller's decoding of one
        item) is also applied by the fast path as it reads the page: the response
        then holds the results under `DECODED_ITEMS` instead of ``Items`` (unless
        an item failed to decode, the fast path is off, or `interceptors` are set).
        """
        if self.interceptors and callable(wire_items):
            # Interceptors may read or change a response's Items: they get them.
            wire_items = True
        breaker = self.breaker
        probe = breaker.before_call() if breaker is not None else False
        try:
            wire = WIRE_ITEMS.set(wire_items)
            try:
                response = await self.retry_policy.call(
                    lambda: self._send(operation, request, key), retry_if
                )
            finally:
                WIRE_ITEMS.reset(wire)
        except Exception as exc:
            if breaker is not None:
                breaker.record(exc, probe=probe)
            raise
        except BaseException:  # cancelled: no verdict on the service
            if breaker is not None:
                breaker.release(probe=probe)
            raise
        if breaker is not None:
            breaker.record(None, probe=probe)
        return response

    async def _send(
        self, operation: str, request: dict[str, Any], key: dict[str, Any] | None
    ) -> dict[str, Any]:
        method = self._methods.get(operation)
        if method is None:
            method = self._methods[operation] = getattr(self.client, xform_name(operation))
        debug = _log.isEnabledFor(logging.DEBUG)
        if debug:
            started = time.perf_counter()
            _log.debug("%s", describe_request(operation, request, self.config.log_values))
        try:
            if self.interceptors:
                response: dict[str, Any] = await self._intercepted(operation, request, method)
            else:
                response = await method(**request)
        except ClientError as exc:
            raise map_client_error(exc, operation, request, key) from exc
        except (NoCredentialsError, NoRegionError) as exc:
            raise TransportError(
                f"cannot sign the request: {exc}", **_context(operation, request, key)
            ) from exc
        except ParamValidationError as exc:
            raise ValidationError(
                f"invalid request: {exc}", **_context(operation, request, key)
            ) from exc
        except (HTTPClientError, ConnectionError, OSError) as exc:  # the network: try again
            raise TransportError(
                f"{type(exc).__name__}: {exc}", retryable=True, **_context(operation, request, key)
            ) from exc
        except (ChecksumError, ResponseParserError) as exc:  # corrupted on the way: again
            raise TransportError(
                f"the response was corrupted: {exc}",
                retryable=True,
                **_context(operation, request, key),
            ) from exc
        except BotoCoreError as exc:
            raise TransportError(
                f"{type(exc).__name__}: {exc}", **_context(operation, request, key)
            ) from exc
        except DynamORMError:  # raised by an interceptor, already typed
            raise
        except Exception as exc:  # botocore could not read the response
            raise malformed(operation, request.get("TableName"), exc) from exc
        if debug:
            elapsed = (time.perf_counter() - started) * 1000
            _log.debug("%s answered in %.1f ms", operation, elapsed)
        return response

    def _intercepted(
        self, operation: str, request: dict[str, Any], method: Any
    ) -> Awaitable[dict[str, Any]]:
        send: Send = lambda r: method(**r)  # noqa: E731
        for interceptor in reversed(self.interceptors):
            send = _bind(interceptor, operation, send)
        return send(request)


def _bind(interceptor: Interceptor, operation: str, send: Send) -> Send:
    return lambda request: interceptor(operation, request, send)


def _check_body(response_dict: dict[str, Any], **_: Any) -> None:
    """Refuse a successful response whose body was damaged on the way.

    botocore's standard retry mode, which we use with one attempt, only retries on a
    wrong ``x-amz-crc32`` and otherwise keeps the damaged body; and it reads a body
    that is not JSON as an empty answer. Without the header (emulators), a body must at
    least be one JSON object.
    """
    if response_dict["status_code"] >= 300:
        return  # errors keep botocore's parsing
    body = response_dict["body"]
    if not isinstance(body, bytes):
        return
    expected = response_dict["headers"].get("x-amz-crc32")
    if expected is not None:
        actual = zlib.crc32(body) & 0xFFFFFFFF
        if not expected.isdigit() or int(expected) != actual:
            raise ChecksumError(
                checksum_type="crc32", expected_checksum=expected, actual_checksum=actual
            )
    elif body:
        # No checksum to go by (AWS always sends one): the body must at least parse.
        try:
            parsed = json.loads(body)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise ResponseParserError(f"the body is not a JSON object: {body[:60]!r}")


def malformed(operation: str, table: str | None, problem: object) -> DynamoDBError:
    """The error for a response of an unexpected shape (a broken server or proxy)."""
    detail = f"{type(problem).__name__}: {problem}" if isinstance(problem, Exception) else problem
    return DynamoDBError(
        f"the {operation} response is malformed: {detail}",
        code="MalformedResponse",
        table=table,
        operation=operation,
    )


@contextlib.contextmanager
def reading(operation: str, table: str | None = None) -> Iterator[None]:
    """Turn a response of an unexpected shape, met while reading it, into a
    `DynamoDBError` (code ``MalformedResponse``) instead of a bare `KeyError`..."""
    try:
        yield
    except DynamORMError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, ArithmeticError) as exc:
        raise malformed(operation, table, exc) from exc


def describe_request(operation: str, request: dict[str, Any], show_values: bool) -> str:
    """One log line for a request: its table, expressions and settings; values only if
    asked.

    Expressions never hold values (they are placeholders), so they are always shown;
    keys, items and the placeholders' values are user data, shown as their attribute
    names and types (``{'id': <S>}``) unless `show_values`.
    """
    shown = request if show_values else _redacted(request)
    return " ".join([operation, *(f"{name}={value!r}" for name, value in shown.items())])


class _Type(str):
    """An AttributeValue's type, shown in place of its value."""

    def __repr__(self) -> str:
        return f"<{self}>"


# Request fields that carry user data as AttributeValues.
_DATA_FIELDS = frozenset({"Key", "Item", "Keys", "ExclusiveStartKey", "ExpressionAttributeValues"})


def _redacted(value: Any, data: bool = False) -> Any:
    """`value` with the AttributeValues under `_DATA_FIELDS` replaced by their types;
    a long list (a batch) cut to its first entry and a count."""
    if isinstance(value, dict):
        if data and len(value) == 1:
            ((tag, _),) = value.items()
            if tag in _TYPE_TAGS:
                return _Type(tag)
        return {k: _redacted(v, data or k in _DATA_FIELDS) for k, v in value.items()}
    if isinstance(value, list):
        if len(value) > 2:
            return [_redacted(value[0], data), _Type(f"... {len(value)} in all")]
        return [_redacted(v, data) for v in value]
    return value


_TYPE_TAGS = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})


@functools.cache
def _user_agent() -> str:
    """botocore's User-Agent for this process, with the library's name added."""
    return f"{UserAgentString.from_environment().to_string()} lib/dynamorm_async#{__version__}"


def _env_region() -> str | None:
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def _context(operation: str, request: dict[str, Any], key: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "table": request.get("TableName"),
        "operation": operation,
        "key": readable_key(key) if key is not None else None,
        "expressions": {k: v for k, v in request.items() if k.endswith("Expression")} or None,
    }


def map_client_error(
    exc: ClientError, operation: str, request: dict[str, Any], key: dict[str, Any] | None
) -> DynamORMError:
    """The `DynamORMError` for a botocore `ClientError`."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    message = str(error.get("Message", "")) or code
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    context = _context(operation, request, key)
    if code == "ConditionalCheckFailedException":
        return ConditionFailed(
            f"the condition was not met: {message}", item=exc.response.get("Item"), **context
        )
    if code == "ResourceNotFoundException":
        return TableNotFound(
            f"{message}: the table does not exist (create it with db.schema.ensure(mapper))",
            **context,
        )
    if code == "TransactionCanceledException":
        raw = exc.response.get("CancellationReasons") or []
        reasons = tuple(
            CancellationReason(
                index, str(r.get("Code", "None")), str(r.get("Message", "")), r.get("Item")
            )
            for index, r in enumerate(raw)
        )
        return TransactionCanceled(
            f"the transaction was cancelled: {message}", reasons=reasons, **context
        )
    if code == "ValidationException":
        return ValidationError(f"DynamoDB rejected the request: {message}", **context)
    if code in _THROTTLING:
        return ThrottledError(message, code=code, http_status=status, **context)
    return DynamoDBError(f"{code}: {message}", code=code, http_status=status, **context)
