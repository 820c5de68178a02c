"""The aiobotocore client, the mapping of its errors, retries and the circuit breaker
(layer 4)."""

from dynamorm_async.transport._client import ClientConfig, Transport, map_client_error
from dynamorm_async.transport._retry import CircuitBreaker, RetryPolicy, is_retryable

__all__ = [
    "CircuitBreaker",
    "ClientConfig",
    "RetryPolicy",
    "Transport",
    "is_retryable",
    "map_client_error",
]
