"""A canned-response DynamoDB server: fixed, valid answers at almost no cost.

moto spends 85-99% of a call in the server, which hides the client's cost; this server
answers from precomputed bodies (with their ``x-amz-crc32``), so what a benchmark
measures is the client. It is a tiny asyncio HTTP/1.1 server with keep-alive, on
127.0.0.1, in its own process (`running_canned_server`). It picks the answer by the
``X-Amz-Target`` header (the operation), and for a Query by the table name: ``big``
answers a page of about 1 MB, ``stream`` pages of `STREAM_PAGE` items with a
``LastEvaluatedKey`` each, continuing after the request's ``ExclusiveStartKey``, up to
`STREAM_ITEMS` items in all (the last page without one), and any other table a page of
`QUERY_ITEMS` items.

The items are those of `item(n)`: 15 attributes of the usual types, so that decoding
costs what it costs on real data.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import multiprocessing
import re
import socket
import zlib
from collections.abc import Iterator
from typing import Any

__all__ = [
    "BIG_ITEMS",
    "QUERY_ITEMS",
    "STREAM_ITEMS",
    "STREAM_PAGE",
    "answers",
    "item",
    "running_canned_server",
    "stream_page",
]

QUERY_ITEMS = 100
#: Items of the ~1 MB page (each about 1.1 KB).
BIG_ITEMS = 900
#: Items a Query on the ``stream`` table returns, over all its pages.
STREAM_ITEMS = 100_000
#: Items of each page of the ``stream`` table (about 630 KB).
STREAM_PAGE = 1_000


def item(n: int, *, padding: int = 0) -> dict[str, Any]:
    """The wire form of item `n`: keys ``pk``/``sk`` and 13 other attributes."""
    return {
        "pk": {"S": "customer#42"},
        "sk": {"N": str(n)},
        "name": {"S": f"Order number {n} for the customer"},
        "status": {"S": "shipped"},
        "total": {"N": "129.95"},
        "quantity": {"N": str(n % 7 + 1)},
        "paid": {"BOOL": True},
        "note": {"S": "x" * padding} if padding else {"NULL": True},
        "tags": {"SS": ["gift", "priority", "fragile"]},
        "scores": {"NS": ["1", "2.5", "3"]},
        "lines": {
            "L": [
                {"M": {"sku": {"S": "A-1"}, "qty": {"N": "2"}}},
                {"M": {"sku": {"S": "B-7"}, "qty": {"N": "1"}}},
            ]
        },
        "address": {
            "M": {"street": {"S": "1 Main St"}, "city": {"S": "Lisbon"}, "zip": {"S": "1000"}}
        },
        "created": {"S": "2026-11-27T10:00:00.000000+00:00"},
        "version": {"N": "3"},
        "blob": {"B": "AAECAwQFBgc="},
    }


def answers() -> dict[tuple[str, str], bytes]:
    """Body per (operation, table); table ``*`` answers any other table."""
    page = [item(n) for n in range(QUERY_ITEMS)]
    big = [item(n, padding=700) for n in range(BIG_ITEMS)]
    bodies = {
        ("GetItem", "*"): {"Item": item(1)},
        ("PutItem", "*"): {},
        ("Query", "*"): {"Items": page, "Count": len(page), "ScannedCount": len(page)},
        ("Query", "big"): {"Items": big, "Count": len(big), "ScannedCount": len(big)},
    }
    return {key: json.dumps(body).encode() for key, body in bodies.items()}


def stream_page(start: int) -> bytes:
    """The body of the ``stream`` table's page starting at item `start`: up to
    `STREAM_PAGE` items, with a ``LastEvaluatedKey`` unless it is the last page."""
    numbers = range(start, min(start + STREAM_PAGE, STREAM_ITEMS))
    body: dict[str, Any] = {
        "Items": [item(n) for n in numbers],
        "Count": len(numbers),
        "ScannedCount": len(numbers),
    }
    if numbers and numbers[-1] < STREAM_ITEMS - 1:
        body["LastEvaluatedKey"] = {"pk": {"S": "customer#42"}, "sk": {"N": str(numbers[-1])}}
    return json.dumps(body).encode()


def _stream_start(body: bytes) -> int:
    """Where a ``stream`` Query continues: after its ``ExclusiveStartKey``, if any."""
    start_key = json.loads(body).get("ExclusiveStartKey")
    return 0 if start_key is None else int(start_key["sk"]["N"]) + 1


_TABLE_NAME = re.compile(rb'"TableName":\s*"([^"]*)"')


def _response(body: bytes) -> bytes:
    crc = zlib.crc32(body) & 0xFFFFFFFF
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: application/x-amz-json-1.0\r\n"
        f"x-amz-crc32: {crc}\r\n"
        "x-amzn-RequestId: CANNED0000000000000000000000000000000000000000000000\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def _serve(sock: socket.socket) -> None:
    responses = {key: _response(body) for key, body in answers().items()}
    # The stream's pages, built on first use (about 20 ms each), then answered as is.
    stream: dict[int, bytes] = {}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                operation = ""
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    lower = name.strip().lower()
                    if lower == b"content-length":
                        length = int(value)
                    elif lower == b"x-amz-target":
                        operation = value.strip().decode().rpartition(".")[2]
                body = await reader.readexactly(length) if length else b""
                found = _TABLE_NAME.search(body)
                table = found[1].decode() if found else "*"
                if operation == "Query" and table == "stream":
                    start = _stream_start(body)
                    answer = stream.get(start)
                    if answer is None:
                        answer = stream[start] = _response(stream_page(start))
                else:
                    answer = responses.get((operation, table)) or responses[(operation, "*")]
                writer.write(answer)
        except (asyncio.IncompleteReadError, ConnectionError, KeyError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, sock=sock)
    async with server:
        await server.serve_forever()


def _main(sock: socket.socket) -> None:
    asyncio.run(_serve(sock))


@contextlib.contextmanager
def running_canned_server() -> Iterator[str]:
    """Start the server in a child process; yields its URL; stops it on exit."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(512)
    context = multiprocessing.get_context("fork")
    process = context.Process(target=_main, args=(sock,), daemon=True)
    process.start()
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        process.terminate()
        process.join(5)
        sock.close()
