"""The aiobotocore client, the mapping of its errors, retries and the circuit breaker
(layer 4)."""

from dynamorm_async.transport._client import (
    ClientConfig,
    Interceptor,
    Send,
    Transport,
    malformed,
    map_client_error,
    reading,
)
from dynamorm_async.transport._fast import (
    DECODED_ITEMS,
    CollectionsPaused,
    ItemDecoder,
    check_item,
)
from dynamorm_async.transport._recording import RecordingTransport, is_read
from dynamorm_async.transport._retry import CircuitBreaker, RetryPolicy, is_retryable

__all__ = [
    "DECODED_ITEMS",
    "CircuitBreaker",
    "ClientConfig",
    "CollectionsPaused",
    "Interceptor",
    "ItemDecoder",
    "RecordingTransport",
    "RetryPolicy",
    "Send",
    "Transport",
    "check_item",
    "is_read",
    "is_retryable",
    "malformed",
    "map_client_error",
    "reading",
]
