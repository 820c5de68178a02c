"""The aiobotocore client and the mapping of its errors (layer 4)."""

from dynamorm_async.transport._client import ClientConfig, Transport, map_client_error

__all__ = ["ClientConfig", "Transport", "map_client_error"]
