"""A bounded load test against DynamoDB Local: many tasks, one `Database`, for a while.

``DYNAMORM_LOAD_TASKS`` tasks (64) share one `Database` for ``DYNAMORM_LOAD_SECONDS``
(30) and each loops until the deadline over a weighted random mix (a seeded
`random.Random` per task): gets and batch gets, puts and deletes, atomic increments
(``add=`` and ``set n = n + k``), upserts, queries of a partition (a few pages, a
count, an ``async for`` left early), transactions of 2-3 actions, units of work of
about 30 puts, reads and puts cut short by a timeout (cancelled, mid-request or
not), and conditional writes that are meant to fail (``create`` of a taken key, a
condition that cannot hold, a transaction whose condition fails). Those failures and
timeouts are counted apart; any other exception is an unexpected error, and the test
lists them.

At the end:

* no lost update: every counter holds the sum of the increments the tasks saw
  succeed (a transaction cancelled by its condition applied none of its actions);
* every item a unit of work or a ``create`` wrote is there;
* leaks: after the `Database` is closed, no task it started is left and no socket of
  this process is connected to the endpoint's port (``/proc/self/fd`` matched
  against ``/proc/net/tcp``); while running, never more connections than the pool
  size (``max_pool_connections``) in two samples 50 ms apart (the connection of a
  cancelled request closes asynchronously while its slot is reused);
* memory is flat: RSS is sampled every second, and after the first third (warm-up)
  the median of the last third is at most ``DYNAMORM_LOAD_RSS_MB`` (30) MB above the
  median of the second third.

It runs only against DynamoDB Local on a loopback address (elsewhere it is skipped),
stops by itself (a hang past the deadline plus 120 s fails it), and is skipped on moto:

    .ci/with-dynamodb-local .nox/.cache/dynamodb-local python -m pytest tests/load -q -s

A summary line (ops/s overall and per kind, p50/p99 latencies, expected failures,
peak connections, RSS) is printed, and written as JSON to ``DYNAMORM_LOAD_REPORT``
if set.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import math
import os
import random
import statistics
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import pytest
from _sockets import HAVE_PROC, socket_inodes, tcp_sockets_to
from aiobotocore.session import get_session

from dynamorm_async import (
    ConditionFailed,
    Database,
    DynamoDBError,
    ItemAlreadyExists,
    Mapper,
    TableNotFound,
    TransactionCanceled,
    attr,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS

pytestmark = pytest.mark.dynamodb_local_only

SECONDS = float(os.environ.get("DYNAMORM_LOAD_SECONDS", "30"))
TASKS = int(os.environ.get("DYNAMORM_LOAD_TASKS", "64"))
SEED = int(os.environ.get("DYNAMORM_LOAD_SEED", "0"))
RSS_BOUND_MB = float(os.environ.get("DYNAMORM_LOAD_RSS_MB", "30"))
POOL = 50  # Database.connect's default max_pool_connections, used as is

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@attrs.define
class Row:
    pk: str
    sk: int
    n: int = 0
    owner: str = ""
    payload: str = ""
    tags: frozenset[str] = frozenset()


rows = Mapper(Row, table="load", partition_key="pk", sort_key="sk")

# Shared partitions s00..s15: counters at sort keys 0-19 (seeded, only ever
# incremented), scratch items at 100-139 (put, deleted, upserted by anyone). Each task
# has its own partitions for what it must find again: u<task> (units of work) and
# c<task> (creates of fresh keys).
PARTITIONS = [f"s{p:02d}" for p in range(16)]
COUNTERS = [(p, s) for p in PARTITIONS for s in range(20)]
SCRATCH = range(100, 140)
UOW_SIZE = 30

# The mix: kind -> weight.
MIX = {
    "get": 26,
    "batch_get": 4,
    "put": 12,
    "delete": 3,
    "update": 20,
    "query": 12,
    "transaction": 9,
    "unit_of_work": 2,
    "create": 4,
    "conditional": 8,
    "cancelled": 3,
}

# --- measuring -------------------------------------------------------------------------


class Histogram:
    """Latencies in log buckets 4% wide: bounded memory however many ops are timed."""

    STEP = math.log(1.04)

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0

    def add(self, seconds: float) -> None:
        self.buckets[int(math.log(max(seconds, 1e-6) / 1e-6) / self.STEP)] += 1
        self.count += 1

    def quantile(self, q: float) -> float:
        """The upper bound of the bucket holding quantile `q`, in milliseconds."""
        rank = q * self.count
        seen = 0
        for bucket in sorted(self.buckets):
            seen += self.buckets[bucket]
            if seen >= rank:
                return 1e-3 * math.exp((bucket + 1) * self.STEP)
        return 0.0


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def connections_to(port: int, ignore: frozenset[int] = frozenset()) -> Counter[str]:
    """This process's TCP sockets whose remote port is `port` (but those of `ignore`,
    inodes of sockets open before), counted by state."""
    return Counter(state for inode, state in tcp_sockets_to(port).items() if inode not in ignore)


@attrs.define
class Stats:
    """What the tasks saw; everything is bounded, whatever the number of ops."""

    latency: dict[str, Histogram] = attrs.field(factory=lambda: {k: Histogram() for k in MIX})
    expected: Counter[str] = attrs.field(factory=Counter)
    contention: Counter[str] = attrs.field(factory=Counter)
    unexpected: Counter[str] = attrs.field(factory=Counter)
    examples: list[str] = attrs.field(factory=list)  # the first unexpected errors
    increments: Counter[tuple[str, int]] = attrs.field(factory=Counter)
    uow_items: Counter[str] = attrs.field(factory=Counter)  # per u<task> partition
    created: Counter[str] = attrs.field(factory=Counter)  # per c<task> partition
    peak_connections: int = 0
    peak_sockets: int = 0
    rss: list[tuple[float, int]] = attrs.field(factory=list)  # (seconds in, bytes)
    gc_seconds: float = 0.0
    max_stall: float = 0.0  # the longest the sampler woke up late: the loop was busy

    def unexpected_error(self, kind: str, error: BaseException) -> None:
        label = f"{kind}: {type(error).__name__}"
        self.unexpected[label] += 1
        if len(self.examples) < 20:
            self.examples.append(f"{label}: {error}")


class Unexpected(AssertionError):
    """An operation answered, but not as DynamoDB's semantics say it must."""


# --- the operations -------------------------------------------------------------------


def _contended(error: BaseException) -> bool:
    """A conflict with a concurrent transaction, still there after the retries."""
    if isinstance(error, TransactionCanceled):
        return bool(error.failed) and all(r.code == "TransactionConflict" for r in error.failed)
    return isinstance(error, DynamoDBError) and error.code == "TransactionConflictException"


class Worker:
    """One task of the load: a seeded mix of operations until the deadline."""

    def __init__(self, number: int, db: Database, stats: Stats, deadline: float) -> None:
        self.name = f"w{number:02d}"
        self.rng = random.Random(SEED * 10_007 + number)
        self.db = db
        self.repo = db.repository(rows)
        self.stats = stats
        self.deadline = deadline
        self.uow_next = 0
        self.created_next = 0
        self.ops: dict[str, Callable[[], Awaitable[str | None]]] = {
            kind: getattr(self, kind) for kind in MIX
        }

    async def run(self) -> None:
        kinds, weights = list(MIX), list(MIX.values())
        stats = self.stats
        while time.monotonic() < self.deadline:
            kind = self.rng.choices(kinds, weights)[0]
            started = time.perf_counter()
            try:
                expected = await self.ops[kind]()
            except Exception as error:
                # A conflict with a transaction that outlasted the retries is legitimate
                # DynamoDB behaviour, but DynamoDB Local serialises its writes and never
                # showed one: counted apart, and still an unexpected error.
                if _contended(error):
                    stats.contention[f"{kind}: {type(error).__name__}"] += 1
                stats.unexpected_error(kind, error)
            else:
                if expected is not None:
                    stats.expected[f"{kind}: {expected}"] += 1
            stats.latency[kind].add(time.perf_counter() - started)

    def counter(self) -> tuple[str, int]:
        return self.rng.choice(COUNTERS)

    def scratch(self) -> tuple[str, int]:
        return self.rng.choice(PARTITIONS), self.rng.choice(SCRATCH)

    def check_counter(self, row: Row | None, key: tuple[str, int]) -> None:
        if row is None or (row.pk, row.sk) != key or row.n < 0:
            raise Unexpected(f"counter {key} read back as {row!r}")

    # Reads.

    async def get(self) -> None:
        if self.rng.random() < 0.6:
            key = self.counter()
            self.check_counter(await self.repo.get(key, consistent=self.rng.random() < 0.5), key)
        else:
            key = self.scratch()
            row = await self.repo.get(key)
            if row is not None and (row.pk, row.sk) != key:
                raise Unexpected(f"get({key}) returned {row!r}")

    async def batch_get(self) -> None:
        keys = self.rng.sample(COUNTERS, 8)
        found = await self.repo.batch_get(keys)
        for key, row in zip(keys, found, strict=True):
            self.check_counter(row, key)

    async def query(self) -> None:
        partition = self.rng.choice(PARTITIONS)
        q = self.repo.where("pk", "=", partition)
        roll = self.rng.random()
        if roll < 0.6:  # a few pages, following the cursors
            size = self.rng.randint(5, 15)
            cursor, seen = None, []
            for _ in range(self.rng.randint(1, 3)):
                page = await q.page(size=size, cursor=cursor)
                if len(page.items) > size:
                    raise Unexpected(f"a page of {size} held {len(page.items)} items")
                seen += [(r.pk, r.sk) for r in page.items]
                cursor = page.next_cursor
                if cursor is None:
                    break
            if seen[:20] != [(partition, s) for s in range(min(20, len(seen)))]:
                raise Unexpected(f"query of {partition} began {seen[:20]}")
            if seen != sorted(seen) or len(set(seen)) != len(seen):
                raise Unexpected(f"query of {partition} out of order: {seen}")
        elif roll < 0.8:
            total = await q.count()
            if total < len(COUNTERS) // len(PARTITIONS):
                raise Unexpected(f"count of {partition} is {total}")
        else:  # an async for that stops early (closed, as it should be)
            wanted = self.rng.randint(1, 30)
            seen_sks = []
            async with contextlib.aclosing(q.__aiter__()) as items:
                async for row in items:
                    seen_sks.append(row.sk)
                    if len(seen_sks) == wanted:
                        break
            if seen_sks[:20] != list(range(min(20, len(seen_sks)))):
                raise Unexpected(f"async for over {partition} began {seen_sks[:20]}")

    # Writes.

    async def put(self) -> None:
        pk, sk = self.scratch()
        row = Row(pk, sk, owner=self.name, payload="x" * self.rng.randint(0, 2000))
        if self.rng.random() < 0.3:
            row.tags = frozenset(self.rng.sample(["a", "b", "c", "d"], 2))
        stored = await self.repo.put(row)
        if stored != row:
            raise Unexpected(f"put returned {stored!r}")

    async def delete(self) -> None:
        await self.repo.delete(self.scratch())

    async def update(self) -> None:
        roll = self.rng.random()
        if roll < 0.45:
            key, k = self.counter(), self.rng.randint(1, 5)
            row = await self.repo.update(key, add={"n": k})
            self.stats.increments[key] += k
            if row is None or row.n < k:
                raise Unexpected(f"after add {k}, {key} is {row!r}")
        elif roll < 0.8:
            key, k = self.counter(), self.rng.randint(1, 5)
            await self.repo.update(key, set={"n": attr("n") + k}, return_values="NONE")
            self.stats.increments[key] += k
        else:
            key = self.scratch()
            row = await self.repo.update(
                key, set={"owner": self.name, "payload": "upserted"}, upsert=True
            )
            if row is None or (row.pk, row.sk, row.owner) != (*key, self.name):
                raise Unexpected(f"upsert of {key} returned {row!r}")

    async def transaction(self) -> str | None:
        keys = self.rng.sample(COUNTERS, self.rng.randint(2, 3))
        steps = [(key, self.rng.randint(1, 5)) for key in keys]
        doomed = self.rng.random() < 0.15  # a condition that cannot hold: nothing applies
        with_put = self.rng.random() < 0.3

        async def fill(tx: Any) -> None:
            for i, (key, k) in enumerate(steps):
                condition = attr("n") < 0 if doomed and i == len(steps) - 1 else None
                tx.update(key, mapper=rows, add={"n": k}, condition=condition)
            if with_put:
                pk, sk = self.scratch()
                tx.put(Row(pk, sk, owner=self.name, payload="tx"))

        try:
            if self.rng.random() < 0.5:
                async with self.db.transaction() as tx:
                    await fill(tx)
            else:
                await self.db.transaction(fill)
        except TransactionCanceled as canceled:
            codes = [r.code for r in canceled.failed]
            if doomed and codes == ["ConditionalCheckFailed"]:
                return "cancelled by its condition"
            raise
        if doomed:
            raise Unexpected(f"a transaction with the condition n < 0 on {keys[-1]} committed")
        for key, k in steps:
            self.stats.increments[key] += k
        return None

    async def unit_of_work(self) -> None:
        partition = f"u{self.name}"
        first = self.uow_next
        async with self.db.unit_of_work() as uow:
            for sk in range(first, first + UOW_SIZE):
                uow.put(Row(partition, sk, owner=self.name, payload=f"uow {sk}"))
        self.uow_next += UOW_SIZE
        self.stats.uow_items[partition] += UOW_SIZE

    async def create(self) -> str | None:
        if self.rng.random() < 0.5:  # a fresh key: it must succeed
            partition = f"c{self.name}"
            row = Row(partition, self.created_next, owner=self.name)
            self.created_next += 1
            await self.repo.create(row)
            self.stats.created[partition] += 1
            return None
        key = self.counter()
        try:
            await self.repo.create(Row(*key))
        except ItemAlreadyExists as taken:
            self.check_counter(taken.item, key)
            return "ItemAlreadyExists"
        raise Unexpected(f"create of the taken key {key} succeeded")

    async def conditional(self) -> str:
        roll = self.rng.random()
        try:
            if roll < 0.5:
                await self.repo.update(self.counter(), add={"n": 1}, condition=attr("n") < 0)
            else:  # whether the item exists or not, its owner is never "nobody"
                pk, sk = self.scratch()
                await self.repo.put(Row(pk, sk), condition=attr("owner") == "nobody")
        except ConditionFailed as failed:
            return type(failed).__name__
        raise Unexpected("a write whose condition cannot hold succeeded")

    async def cancelled(self) -> str | None:
        """A read or an idempotent put cut short by a timeout, mid-request or not."""
        roll = self.rng.random()
        if roll < 0.3:
            work: Awaitable[Any] = self.get()
        elif roll < 0.6:
            work = self.query()
        else:
            work = self.put()
        try:
            await asyncio.wait_for(work, self.rng.uniform(0.001, 0.2))
        except asyncio.TimeoutError:
            return "timed out"
        return None


# --- the test -------------------------------------------------------------------------


async def sample(
    stats: Stats, port: int, ignore: frozenset[int], started: float, stop: asyncio.Event
) -> None:
    """Connections every 50 ms; RSS every second (after a gc once warmed up)."""
    every = min(1.0, SECONDS / 15)  # short runs get enough samples too
    next_rss = started
    previous: Counter[str] = Counter()
    while not stop.is_set():
        states = connections_to(port, ignore)
        # A cancelled request's connection is closed asynchronously while its pool slot
        # is reused at once, so a socket may outlive its slot by a moment: only what two
        # samples 50 ms apart both see counts against the pool.
        lasting = min(states["ESTABLISHED"], previous["ESTABLISHED"])
        stats.peak_connections = max(stats.peak_connections, lasting)
        stats.peak_sockets = max(
            stats.peak_sockets, min(sum(states.values()), sum(previous.values()))
        )
        previous = states
        now = time.monotonic()
        if now >= next_rss:
            if now - started >= SECONDS / 3:
                t0 = time.perf_counter()
                gc.collect()
                stats.gc_seconds += time.perf_counter() - t0
            stats.rss.append((now - started, rss_bytes()))
            next_rss += every
        asked = time.monotonic()
        await asyncio.sleep(0.05)
        stats.max_stall = max(stats.max_stall, time.monotonic() - asked - 0.05)


def growth_mb(samples: list[tuple[float, int]], seconds: float) -> tuple[float, float, float]:
    """(median RSS of the second third, of the last third, growth), in MB."""
    second = [rss for t, rss in samples if seconds / 3 <= t < 2 * seconds / 3]
    last = [rss for t, rss in samples if t >= 2 * seconds / 3]
    assert second, f"too few RSS samples: {samples}"
    assert last, f"too few RSS samples: {samples}"
    mid, end = statistics.median(second) / 2**20, statistics.median(last) / 2**20
    return mid, end, end - mid


def write_report(report: dict[str, Any]) -> None:
    path = os.environ.get("DYNAMORM_LOAD_REPORT")
    if path:
        with open(path, "w") as out:
            json.dump(report, out, indent=1)


def open_database(endpoint: str, prefix: str) -> Database:
    credentials: dict[str, Any] = dict(LOCAL_CREDENTIALS)
    if os.environ.get("AWS_ACCESS_KEY_ID"):  # as the plugin does: the usual chain
        credentials = {}
    return Database.connect(
        endpoint,
        mappers=[rows],
        table_name_template=prefix + "-{table}",
        session=get_session(),
        max_pool_connections=POOL,
        **credentials,
    )


async def seed(db: Database) -> None:
    async with db.unit_of_work() as uow:
        for pk, sk in COUNTERS:
            uow.put(Row(pk, sk, owner="seed"))


async def verify(db: Database, stats: Stats) -> dict[str, int]:
    """Check what the load left against what the tasks saw; returns some counts."""
    repo = db.repository(rows)
    lost: list[str] = []
    for partition in PARTITIONS:
        stored = {
            r.sk: r.n
            async for r in repo.where("pk", "=", partition).where(attr("sk") < 100).consistent()
        }
        for pk, sk in COUNTERS:
            if pk == partition and stored.get(sk) != stats.increments[pk, sk]:
                lost.append(
                    f"{(pk, sk)}: stored {stored.get(sk)}, added {stats.increments[pk, sk]}"
                )
    assert not lost, f"{len(lost)} counters lost (or gained) updates: {lost[:10]}"
    uow_found = 0
    for partition, expected in stats.uow_items.items():
        found = await repo.where("pk", "=", partition).consistent().count()
        assert found == expected, f"{partition}: {found} items stored, {expected} written"
        uow_found += found
    created_found = 0
    for partition, expected in stats.created.items():
        found = await repo.where("pk", "=", partition).consistent().count()
        assert found == expected, f"{partition}: {found} items stored, {expected} created"
        created_found += found
    return {
        "counters": len(COUNTERS),
        "increments": sum(stats.increments.values()),
        "uow_items": uow_found,
        "created_items": created_found,
    }


async def test_bounded_load(dynamorm_endpoint: str) -> None:
    url = urllib.parse.urlsplit(dynamorm_endpoint)
    if url.hostname not in LOOPBACK or url.port is None:
        pytest.skip(f"the load test runs only on a loopback endpoint, not {dynamorm_endpoint}")
    if not HAVE_PROC:
        pytest.skip("the leak checks read /proc (Linux)")
    port = url.port
    baseline_tasks = asyncio.all_tasks()
    # Sockets another test left open (if any) are not this test's to count.
    before = frozenset(socket_inodes())
    rss_start = rss_bytes()
    stats = Stats()
    db = open_database(dynamorm_endpoint, f"load{os.getpid()}-{time.time_ns() % 10**6}")
    wall = time.monotonic()
    async with db:
        try:
            await db.schema.ensure(rows)
            await seed(db)
            stop = asyncio.Event()
            started, cpu = time.monotonic(), time.process_time()
            deadline = started + SECONDS
            sampler = asyncio.ensure_future(sample(stats, port, before, started, stop))
            workers = [Worker(i, db, stats, deadline) for i in range(TASKS)]
            # What exists now (botocore's models...) is left out of the collections the
            # sampler makes: a full collection of it would stall every task ~0.2 s.
            gc.freeze()
            try:
                # Bounded: the tasks stop at the deadline; a hang fails the test.
                await asyncio.wait_for(asyncio.gather(*(w.run() for w in workers)), SECONDS + 120)
            finally:
                elapsed = time.monotonic() - started
                cpu = time.process_time() - cpu
                stop.set()
                await sampler
                gc.unfreeze()
            while_open = connections_to(port, before)
            counts = await verify(db, stats)
        finally:
            with contextlib.suppress(TableNotFound):
                await db.schema.delete(rows, wait=False)
    # Closing the Database closes every connection, and leaves no task behind.
    after_close = connections_to(port, before)
    left_tasks = [t for t in asyncio.all_tasks() - baseline_tasks if not t.done()]
    gc.collect()
    rss_end = rss_bytes()

    mid, end, growth = growth_mb(stats.rss, SECONDS)
    total_ops = sum(h.count for h in stats.latency.values())
    report = {
        "seconds": round(elapsed, 2),
        "tasks": TASKS,
        "ops": total_ops,
        "ops_per_s": round(total_ops / elapsed, 1),
        "kinds": {
            kind: {
                "ops": h.count,
                "ops_per_s": round(h.count / elapsed, 1),
                "p50_ms": round(h.quantile(0.5), 2),
                "p99_ms": round(h.quantile(0.99), 2),
            }
            for kind, h in stats.latency.items()
        },
        "expected_failures": dict(stats.expected),
        "contention": dict(stats.contention),
        "unexpected_errors": dict(stats.unexpected),
        "retries": db.transport.retry_policy.retries,
        "gave_up": db.transport.retry_policy.gave_up,
        "pool_size": POOL,
        "peak_connections": stats.peak_connections,
        "peak_sockets": stats.peak_sockets,
        "connections_before_close": dict(while_open),
        "connections_after_close": dict(after_close),
        "tasks_left": len(left_tasks),
        "rss_start_mb": round(rss_start / 2**20, 1),
        "rss_second_third_mb": round(mid, 1),
        "rss_last_third_mb": round(end, 1),
        "rss_growth_mb": round(growth, 1),
        "rss_end_mb": round(rss_end / 2**20, 1),
        "rss_samples": len(stats.rss),
        "gc_seconds": round(stats.gc_seconds, 3),
        "max_loop_stall_ms": round(1000 * stats.max_stall),
        "client_cpu_percent": round(100 * cpu / elapsed),
        "verified": counts,
        "wall_seconds": round(time.monotonic() - wall, 1),
    }
    per_kind = ", ".join(
        f"{k} {v['ops_per_s']}/s p50 {v['p50_ms']} p99 {v['p99_ms']} ms"
        for k, v in report["kinds"].items()
    )
    print(
        f"\nLOAD {TASKS} tasks {report['seconds']} s: {total_ops} ops, "
        f"{report['ops_per_s']} ops/s [{per_kind}]; expected failures "
        f"{sum(stats.expected.values())}, "
        f"contention {sum(stats.contention.values())}, unexpected "
        f"{sum(stats.unexpected.values())}; peak connections {stats.peak_connections}/{POOL}; "
        f"RSS start {report['rss_start_mb']} MB, 2nd third {report['rss_second_third_mb']} MB, "
        f"last third {report['rss_last_third_mb']} MB, end {report['rss_end_mb']} MB"
    )
    print(json.dumps(report, indent=1))
    write_report(report)

    assert not stats.unexpected, f"unexpected errors: {dict(stats.unexpected)}: {stats.examples}"
    assert all(stats.latency[kind].count for kind in MIX), "some kind of operation never ran"
    assert stats.expected, "no conditional write failed: the expected failures never ran"
    assert stats.peak_connections <= POOL, f"{stats.peak_connections} connections > pool {POOL}"
    assert stats.peak_sockets <= POOL, f"{stats.peak_sockets} sockets > pool {POOL}"
    assert not after_close, f"sockets to the endpoint still open after close: {after_close}"
    assert not left_tasks, f"tasks left after close: {left_tasks}"
    assert growth < RSS_BOUND_MB, f"RSS grew {growth:.1f} MB (bound {RSS_BOUND_MB} MB)"
