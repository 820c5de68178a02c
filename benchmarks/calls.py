"""Calls per second against the canned server: dynamorm_async against the raw SDK and
peers, interleaved round by round, at concurrency 1 and 32.

``python -m benchmarks.calls [--rounds N] [--calls N]``. Implementations:

* ``aiobotocore``: raw calls with hand-built AttributeValue dicts, and boto3's
  `TypeDeserializer` on what is read (the baseline, ratio 1.00);
* ``dynamorm_async``: ``repo.get``, ``repo.put``, ``query(...).all()`` returning attrs
  instances;
* ``aiodynamo`` (on aiohttp; returns plain dicts), if installed (``bench`` extra);
* ``boto3``: the synchronous client, with `TypeDeserializer` on reads like the baseline;
* ``PynamoDB`` (synchronous, on botocore; returns `Model` instances), if installed
  (``bench`` extra);
* ``aiohttp floor``: a raw POST of a prepared, unsigned body, no parsing: the least a
  Python HTTP client can cost.

Each implementation runs in a process of its own, so that the garbage one makes does
not slow another down (CPython's collections walk every object of a process); the
rounds are still interleaved, one measurement at a time. A ratio is calls/s of the
implementation over the baseline's, in the same round; the table gives the median of
the rounds. The synchronous peers (boto3, PynamoDB) are
measured at concurrency 1 only: they are called directly in the measurement loop,
blocking it for the call, as a thread hop would add its own cost; at concurrency 32
they show "—".
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import datetime as dt
import json
import multiprocessing
import statistics
import time
from collections.abc import Awaitable, Callable
from contextlib import AsyncExitStack
from decimal import Decimal
from typing import Any

import aiohttp
import attrs
import boto3  # the baseline already needs it (TypeDeserializer)
from aiobotocore.session import get_session
from boto3.dynamodb.types import TypeDeserializer

from benchmarks._canned import QUERY_ITEMS, item, running_canned_server
from dynamorm_async import Database, Mapper
from dynamorm_async.testing import LOCAL_CREDENTIALS

Call = Callable[[], Awaitable[Any]]

#: Every implementation, in the table's order (optional peers may be missing).
IMPLEMENTATIONS = (
    "aiobotocore",
    "dynamorm_async",
    "aiodynamo",
    "boto3",
    "PynamoDB",
    "aiohttp floor",
)
#: Synchronous implementations: measured at concurrency 1 only.
BLOCKING = frozenset({"boto3", "PynamoDB"})


@attrs.define
class Line:
    sku: str
    qty: int


@attrs.define
class Address:
    street: str
    city: str
    zip: str


@attrs.define
class Order:
    pk: str
    sk: int
    name: str = ""
    status: str = ""
    total: Decimal = Decimal(0)
    quantity: int = 0
    paid: bool = False
    note: str | None = None
    tags: set[str] = attrs.Factory(set)
    scores: set[Decimal] = attrs.Factory(set)
    lines: list[Line] = attrs.Factory(list)
    address: Address | None = None
    created: dt.datetime | None = None
    version: int = 0
    blob: bytes = b""


orders = Mapper(Order, table="orders", partition_key="pk", sort_key="sk")
# As botocore hands it over: binary values decoded from base64.
WIRE_ITEM = {**item(1), "blob": {"B": bytes(range(8))}}
ORDER = orders.decode(WIRE_ITEM)


async def setup(url: str, stack: AsyncExitStack) -> dict[str, dict[str, Call]]:
    """The implementations of each case, ready to call."""
    session = get_session()
    client = await stack.enter_async_context(
        session.create_client("dynamodb", endpoint_url=url, **LOCAL_CREDENTIALS)
    )
    deserializer = TypeDeserializer()

    def plain(raw: dict[str, Any]) -> dict[str, Any]:
        return {k: deserializer.deserialize(v) for k, v in raw.items()}

    async def raw_get() -> Any:
        response = await client.get_item(
            TableName="orders", Key={"pk": {"S": "customer#42"}, "sk": {"N": "1"}}
        )
        return plain(response["Item"])

    async def raw_put() -> Any:
        return await client.put_item(TableName="orders", Item=WIRE_ITEM)

    async def raw_query() -> Any:
        response = await client.query(
            TableName="orders",
            KeyConditionExpression="#p = :p",
            ExpressionAttributeNames={"#p": "pk"},
            ExpressionAttributeValues={":p": {"S": "customer#42"}},
        )
        return [plain(i) for i in response["Items"]]

    db = await stack.enter_async_context(
        Database.connect(url, mappers=[orders], **LOCAL_CREDENTIALS)
    )
    repo = db.repository(orders)
    query = repo.where("pk", "=", "customer#42")

    async def ours_get() -> Any:
        return await repo.get(("customer#42", 1))

    async def ours_put() -> Any:
        return await repo.put(ORDER)

    async def ours_query() -> Any:
        found = await query.all()
        assert len(found) == QUERY_ITEMS
        return found

    http = await stack.enter_async_context(aiohttp.ClientSession())
    bodies = {
        "GetItem": json.dumps({"TableName": "orders", "Key": item(1)}).encode(),
        "PutItem": json.dumps({"TableName": "orders", "Item": item(1)}).encode(),
        "Query": json.dumps({"TableName": "orders"}).encode(),
    }

    def floor(operation: str) -> Call:
        headers = {
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
        }

        async def post() -> Any:
            async with http.post(url, data=bodies[operation], headers=headers) as response:
                return await response.read()

        return post

    cases: dict[str, dict[str, Call]] = {
        "GetItem": {"aiobotocore": raw_get, "dynamorm_async": ours_get},
        "PutItem": {"aiobotocore": raw_put, "dynamorm_async": ours_put},
        f"Query ({QUERY_ITEMS} items)": {"aiobotocore": raw_query, "dynamorm_async": ours_query},
    }
    await _add_aiodynamo(cases, url, http)
    _add_boto3(cases, url)
    _add_pynamodb(cases, url)
    for case, operation in zip(cases, ["GetItem", "PutItem", "Query"], strict=True):
        cases[case]["aiohttp floor"] = floor(operation)
    return cases


async def _add_aiodynamo(cases: dict[str, dict[str, Call]], url: str, http: Any) -> None:
    try:
        from aiodynamo.client import Client
        from aiodynamo.credentials import Key, StaticCredentials
        from aiodynamo.expressions import HashKey
        from aiodynamo.http.aiohttp import AIOHTTP
        from yarl import URL
    except ImportError:  # the bench extra is not installed
        return
    credentials = StaticCredentials(
        Key(LOCAL_CREDENTIALS["aws_access_key_id"], LOCAL_CREDENTIALS["aws_secret_access_key"])
    )
    table = Client(AIOHTTP(http), credentials, "us-east-1", endpoint=URL(url)).table("orders")
    plain_item = {k: TypeDeserializer().deserialize(v) for k, v in WIRE_ITEM.items()}
    plain_item["blob"] = bytes(plain_item["blob"])  # not boto3's Binary wrapper

    async def get() -> Any:
        return await table.get_item({"pk": "customer#42", "sk": 1})

    async def put() -> Any:
        return await table.put_item(plain_item)

    async def query() -> Any:
        return [i async for i in table.query(HashKey("pk", "customer#42"))]

    names = list(cases)
    cases[names[0]]["aiodynamo"] = get
    cases[names[1]]["aiodynamo"] = put
    cases[names[2]]["aiodynamo"] = query


def _blocking(fn: Callable[[], Any]) -> Call:
    """`fn` as a `Call`: run in the event loop's thread, which it blocks meanwhile."""

    async def call() -> Any:
        return fn()

    return call


def _add_boto3(cases: dict[str, dict[str, Call]], url: str) -> None:
    """boto3's synchronous client: the baseline's calls, without the event loop."""
    client = boto3.client("dynamodb", endpoint_url=url, **LOCAL_CREDENTIALS)
    deserializer = TypeDeserializer()

    def plain(raw: dict[str, Any]) -> dict[str, Any]:
        return {k: deserializer.deserialize(v) for k, v in raw.items()}

    def get() -> Any:
        response = client.get_item(
            TableName="orders", Key={"pk": {"S": "customer#42"}, "sk": {"N": "1"}}
        )
        return plain(response["Item"])

    def put() -> Any:
        return client.put_item(TableName="orders", Item=WIRE_ITEM)

    def query() -> Any:
        response = client.query(
            TableName="orders",
            KeyConditionExpression="#p = :p",
            ExpressionAttributeNames={"#p": "pk"},
            ExpressionAttributeValues={":p": {"S": "customer#42"}},
        )
        return [plain(i) for i in response["Items"]]

    found = get()
    assert (found["sk"], found["lines"][0]["sku"]) == (1, "A-1"), found
    assert len(query()) == QUERY_ITEMS
    names = list(cases)
    cases[names[0]]["boto3"] = _blocking(get)
    cases[names[1]]["boto3"] = _blocking(put)
    cases[names[2]]["boto3"] = _blocking(query)


def _add_pynamodb(cases: dict[str, dict[str, Call]], url: str) -> None:
    """PynamoDB, if installed: ``Model.get``, ``save`` and ``list(Model.query(...))``."""
    PynamoOrder = pynamodb_order_model(url)
    if PynamoOrder is None:  # the bench extra is not installed
        return
    # The item of the other puts, as botocore hands it over (binary already decoded).
    order = PynamoOrder.from_raw_data(copy.deepcopy(WIRE_ITEM))

    def get() -> Any:
        return PynamoOrder.get("customer#42", 1)

    def put() -> Any:
        return order.save()

    def query() -> Any:
        return list(PynamoOrder.query("customer#42"))

    found = get()
    assert (found.pk, found.sk, found.total, found.note) == ("customer#42", 1, 129.95, None)
    assert (found.tags, found.scores) == ({"gift", "priority", "fragile"}, {1, 2.5, 3})
    assert [(line.sku, line.qty) for line in found.lines] == [("A-1", 2), ("B-7", 1)]
    assert (found.address.city, found.blob) == ("Lisbon", bytes(range(8)))
    assert (found.created, found.version, found.paid) == (WIRE_ITEM["created"]["S"], 3, True)
    page = query()
    assert (len(page), page[-1].sk) == (QUERY_ITEMS, QUERY_ITEMS - 1)
    names = list(cases)
    cases[names[0]]["PynamoDB"] = _blocking(get)
    cases[names[1]]["PynamoDB"] = _blocking(put)
    cases[names[2]]["PynamoDB"] = _blocking(query)


def pynamodb_order_model(url: str) -> Any:
    """`Order` as a PynamoDB model served at `url`, or ``None`` without PynamoDB."""
    try:
        from pynamodb.attributes import (
            BinaryAttribute,
            BooleanAttribute,
            ListAttribute,
            MapAttribute,
            NumberAttribute,
            NumberSetAttribute,
            UnicodeAttribute,
            UnicodeSetAttribute,
        )
        from pynamodb.models import Model
    except ImportError:  # the bench extra is not installed
        return None

    class LineMap(MapAttribute):  # type: ignore[type-arg]
        sku = UnicodeAttribute()
        qty = NumberAttribute()

    class AddressMap(MapAttribute):  # type: ignore[type-arg]
        street = UnicodeAttribute()
        city = UnicodeAttribute()
        zip = UnicodeAttribute()

    class PynamoOrder(Model):
        """`Order` as a PynamoDB model: it reads the canned items as they are.

        ``created`` is a plain string: `UTCDateTimeAttribute` only parses its own
        ``%Y-%m-%dT%H:%M:%S.%f+0000`` format, not the item's ``+00:00`` ISO form.
        Numbers are PynamoDB's ints and floats (it has no Decimal), ``blob`` is
        `BinaryAttribute` without the legacy double base64 encoding, and ``note``
        (NULL) reads as an absent optional string. No `VersionAttribute`, so ``save``
        sends no condition, like the others' puts.
        """

        class Meta:
            table_name = "orders"
            host = url
            region = LOCAL_CREDENTIALS["region_name"]
            aws_access_key_id = LOCAL_CREDENTIALS["aws_access_key_id"]
            aws_secret_access_key = LOCAL_CREDENTIALS["aws_secret_access_key"]

        pk = UnicodeAttribute(hash_key=True)
        sk = NumberAttribute(range_key=True)
        name = UnicodeAttribute()
        status = UnicodeAttribute()
        total = NumberAttribute()
        quantity = NumberAttribute()
        paid = BooleanAttribute()
        note = UnicodeAttribute(null=True)
        tags = UnicodeSetAttribute()
        scores = NumberSetAttribute()
        lines = ListAttribute(of=LineMap)
        address = AddressMap()
        created = UnicodeAttribute()
        version = NumberAttribute()
        blob = BinaryAttribute(legacy_encoding=False)

    return PynamoOrder


async def calls_per_second(call: Call, calls: int, concurrency: int) -> float:
    """`calls` calls, `concurrency` at a time; calls per second."""
    per_worker = calls // concurrency

    async def worker() -> None:
        for _ in range(per_worker):
            await call()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return per_worker * concurrency / (time.perf_counter() - start)


class _Worker:
    """One implementation in a process of its own (forked): its heap, its garbage
    collections and its event loop are its own, so one peer's garbage never costs
    another its time. The parent asks for one measurement at a time (rounds stay
    interleaved), and the others wait, idle."""

    def __init__(self, url: str, name: str) -> None:
        context = multiprocessing.get_context("fork")
        self.name = name
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, url, name), daemon=True)
        self._process.start()
        self.cases: list[str] = self._conn.recv()

    def rate(self, case: str, calls: int, concurrency: int) -> float:
        """Calls per second of `case` in the worker."""
        self._conn.send((case, calls, concurrency))
        rate: float = self._conn.recv()
        return rate

    def stop(self) -> None:
        """End the worker."""
        self._conn.send(None)
        self._process.join(timeout=30)


def _serve(conn: Any, url: str, name: str) -> None:
    async def serve() -> None:
        async with AsyncExitStack() as stack:
            cases = {
                case: impls[name]
                for case, impls in (await setup(url, stack)).items()
                if name in impls
            }
            for call in cases.values():  # warm up: connections, caches, models
                await calls_per_second(call, 32, 1 if name in BLOCKING else 32)
            conn.send(list(cases))
            # The parent waits for each answer: blocking the loop here is harmless.
            while (request := conn.recv()) is not None:
                case, calls, concurrency = request
                conn.send(await calls_per_second(cases[case], calls, concurrency))

    asyncio.run(serve())


def measure(rounds: int, calls: int) -> list[tuple[str, int, str, float | None, float | None]]:
    """Rows of (case, concurrency, implementation, median calls/s, median ratio); the
    figures are ``None`` for a synchronous peer at a concurrency above 1."""
    rows: list[tuple[str, int, str, float | None, float | None]] = []
    with running_canned_server() as url:
        workers = [_Worker(url, name) for name in IMPLEMENTATIONS]
        try:
            workers = [w for w in workers if w.cases]  # an optional peer not installed
            for case in workers[0].cases:
                for concurrency in (1, 32):
                    measured = [w for w in workers if concurrency == 1 or w.name not in BLOCKING]
                    rates: dict[str, list[float]] = {w.name: [] for w in measured}
                    ratios: dict[str, list[float]] = {w.name: [] for w in measured}
                    for _ in range(rounds):
                        this = {w.name: w.rate(case, calls, concurrency) for w in measured}
                        for name, rate in this.items():
                            rates[name].append(rate)
                            ratios[name].append(rate / this["aiobotocore"])
                    for w in workers:
                        if w.name not in rates:
                            rows.append((case, concurrency, w.name, None, None))
                            continue
                        rows.append(
                            (
                                case,
                                concurrency,
                                w.name,
                                statistics.median(rates[w.name]),
                                statistics.median(ratios[w.name]),
                            )
                        )
        finally:
            for w in workers:
                w.stop()
    return rows


def main(argv: list[str] | None = None) -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--calls", type=int, default=320)
    args = parser.parse_args(argv)
    rows = measure(args.rounds, args.calls)
    print(f"{'case':<22} {'conc':>4} {'implementation':<16} {'calls/s':>9} {'vs aiobotocore':>15}")
    for case, concurrency, name, rate, ratio in rows:
        if rate is None or ratio is None:  # a synchronous peer, at concurrency 32
            print(f"{case:<22} {concurrency:>4} {name:<16} {'—':>9} {'—':>15}")
        else:
            print(f"{case:<22} {concurrency:>4} {name:<16} {rate:>9.0f} {ratio:>14.2f}x")


if __name__ == "__main__":
    main()
