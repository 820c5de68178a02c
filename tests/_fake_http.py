"""A tiny HTTP/1.1 server on 127.0.0.1, for tests of what the client does with what a
server answers (or fails to).

`FakeServer` (``async with`` it, or `start` and `stop` it) listens on a free port and
hands each connection to its subclass's `serve`, closing it afterwards; `read_request`
and `write_response` read a request and write a response on a kept-alive connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys

if sys.version_info >= (3, 11):
    from typing import Self
else:  # Python 3.10
    from typing_extensions import Self


class FakeServer:
    """A TCP server on 127.0.0.1 (a free port): `serve` handles each connection (a
    `ConnectionError` ends it quietly), which is then closed."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    async def stop(self) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        raise NotImplementedError

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await self.serve(reader, writer)
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def read_request(reader: asyncio.StreamReader) -> dict[str, str] | None:
    """The headers of the next request (names in lower case), once its body is read; or
    None when there is none (the client closed a kept-alive connection)."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        return None
    headers = {}
    for line in head.split(b"\r\n")[1:]:  # after the request line
        name, _, value = line.partition(b":")
        headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
    await reader.readexactly(int(headers.get("content-length", 0)))
    return headers


async def write_response(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
    """A response of `status` with a DynamoDB JSON `body` (and its Content-Length)."""
    writer.write(
        b"HTTP/1.1 %d Whatever\r\n"
        b"Content-Type: application/x-amz-json-1.0\r\n"
        b"Content-Length: %d\r\n\r\n" % (status, len(body)) + body
    )
    await writer.drain()
