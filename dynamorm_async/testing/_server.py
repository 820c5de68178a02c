"""The embedded local DynamoDB: moto's server, in-process, on 127.0.0.1."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any, TypedDict

import anyio.to_thread

__all__ = ["LOCAL_CREDENTIALS", "LocalCredentials", "local_dynamodb", "running_local_dynamodb"]


class LocalCredentials(TypedDict):
    """Keyword arguments of `Database.connect` for the embedded server."""

    aws_access_key_id: str
    aws_secret_access_key: str
    region_name: str


#: Credentials for the embedded server: it accepts any, but botocore must sign with some.
LOCAL_CREDENTIALS: LocalCredentials = {
    "aws_access_key_id": "local",
    "aws_secret_access_key": "local",
    "region_name": "us-east-1",
}


def _moto_server() -> Any:
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "the embedded DynamoDB needs moto's server: pip install 'dynamorm-async[local]'"
        ) from exc
    return ThreadedMotoServer


@contextlib.contextmanager
def running_local_dynamodb() -> Iterator[str]:
    """Start moto's server on 127.0.0.1 on a free port; yield its endpoint URL.

    The synchronous form, for session-scoped test fixtures and scripts. Requests
    are not logged (werkzeug's access log is silenced).
    """
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = _moto_server()(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def local_dynamodb() -> AsyncIterator[str]:
    """Start the embedded local DynamoDB and yield its endpoint URL; stop it on exit.

    Example:
        ```python
        async with local_dynamodb() as url:
            async with Database.connect(url, **LOCAL_CREDENTIALS, mappers=[m]) as db:
                ...
        ```
    """
    manager = running_local_dynamodb()
    url = await anyio.to_thread.run_sync(manager.__enter__)
    try:
        yield url
    finally:
        await anyio.to_thread.run_sync(manager.__exit__, None, None, None)
