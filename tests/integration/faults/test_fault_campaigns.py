"""Fault campaigns: units of work, transactions, batch reads and paged queries against a
real server, while `dynamorm_async.testing.faults` fails requests on a seeded schedule.

What must hold, whatever the faults:

* **unit of work**: every write is applied, or listed once in the error's failures;
  retrying those failures (faults gone) leaves exactly the intended state;
* **transactions** (versioned transfers between accounts): each transfer is applied
  exactly once (balances and versions add up), also when a response was lost after
  the server applied it, thanks to the ClientRequestToken (DynamoDB Local; moto
  ignores the token, so there only faults before the server are injected);
* **batch reads**: the result is complete and right, or `BatchGetError` says exactly
  which keys were not read and what was;
* **paged queries**: resuming from the last cursor after a failed page neither skips
  nor repeats an item.

Hypothesis draws the workloads and plans, derandomized: CI replays the same cases. The
``faults`` nox session runs many more (``DYNAMORM_FAULT_EXAMPLES``, random seeds). With
``DYNAMORM_FAULT_REPORT`` set, the totals (cases, faults, items written, lost) are
written there as JSON.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import Counter

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dynamorm_async import (
    BatchGetError,
    DynamORMError,
    Mapper,
    RetryPolicy,
    TransactionCanceled,
    UnitOfWorkError,
    attr,
)
from dynamorm_async.testing.faults import FaultPlan, inject

BACKEND = os.environ.get("DYNAMORM_TEST_BACKEND", "moto")
EXAMPLES = int(os.environ.get("DYNAMORM_FAULT_EXAMPLES", "8"))
campaign = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize="DYNAMORM_FAULT_EXAMPLES" not in os.environ,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
_runs = itertools.count(1)
TOTALS: Counter[str] = Counter()


@attrs.define
class Note:
    topic: str
    n: int
    text: str = ""


notes = Mapper(Note, table="notes", partition_key="topic", sort_key="n")


@attrs.define
class Account:
    id: str
    balance: int = 0
    version: int = 0


accounts = Mapper(Account, table="accounts", partition_key="id", version_attribute="version")


@pytest.fixture
def dynamorm_mappers():
    return [notes, accounts]


@pytest.fixture(scope="module", autouse=True)
def report():
    yield
    path = os.environ.get("DYNAMORM_FAULT_REPORT")
    if path:
        with open(path, "a") as out:
            out.write(json.dumps({"backend": BACKEND, **TOTALS}) + "\n")


def fast(db, attempts: int = 4) -> None:
    db.transport.retry_policy = RetryPolicy(attempts=attempts, base=0.001, max_backoff=0.005)


def tally(faults) -> None:
    TOTALS["cases"] += 1
    TOTALS["faults"] += len(faults.faults)
    TOTALS["requests"] += sum(faults.requests.values())


# Faults before the request reaches the server, and (where the server keeps tokens)
# after it applied the request.
BEFORE = {"throttle", "server_error", "reset_before", "conflict"}
AFTER = {"reset_after", "timeout"} if BACKEND == "dynamodb-local" else set()


@st.composite
def plans(
    draw,
    kinds,
    *,
    batches: bool = False,
    bounded: bool | None = None,
    totals: tuple[float, ...] = (0.1, 0.25, 0.5),
) -> FaultPlan:
    """A plan failing requests with some of `kinds`, `totals` the chance that one fails."""
    chosen = draw(st.lists(st.sampled_from(sorted(kinds)), unique=True, max_size=len(kinds)))
    total = draw(st.sampled_from(totals))
    chances = {kind: total / len(chosen) for kind in chosen}
    if bounded is None:
        bounded = draw(st.booleans())
    return FaultPlan(
        seed=draw(st.integers(0, 2**32 - 1)),
        **chances,
        slow=draw(st.sampled_from([0.0, 0.1])),
        delay=0.002,
        unprocessed=draw(st.sampled_from([0.0, 0.3, 0.8])) if batches else 0.0,
        stuck=draw(st.sampled_from([0.0, 0.0, 0.1])) if batches and not bounded else 0.0,
        max_per_request=2 if bounded else None,
    )


# --- units of work ------------------------------------------------------------------------------


@campaign
@given(
    writes=st.lists(
        st.tuples(st.integers(0, 39), st.sampled_from(["put", "put", "delete"])),
        min_size=1,
        max_size=60,
    ),
    plan=plans(BEFORE | {"reset_after", "timeout"}, batches=True),
)
async def test_a_unit_of_work_writes_everything_or_reports_what_it_did_not(
    dynamorm_db, writes, plan
):
    db = dynamorm_db
    fast(db)
    topic = f"r{next(_runs)}"
    repo = db.repository(notes)
    async with db.unit_of_work() as seed:
        for n in range(0, 40, 3):
            seed.put(Note(topic, n, "before"))
    before = {n.n: n for n in await repo.where("topic", "=", topic).all()}

    wanted: dict[int, Note | None] = dict(before)
    uow = db.unit_of_work(attempts=3, deadline=5)
    with inject(db, plan) as faults:
        try:
            async with uow:
                for position, (n, action) in enumerate(writes):
                    if action == "put":
                        uow.put(Note(topic, n, f"w{position}"))
                        wanted[n] = Note(topic, n, f"w{position}")
                    else:
                        uow.delete(Note(topic, n))
                        wanted[n] = None
            failures = ()
        except UnitOfWorkError as error:
            failures = error.failures
    tally(faults)
    touched = {n for n, _ in writes}
    reported = [int(f.key["n"]) for f in failures]
    assert len(reported) == len(set(reported)), "a write is reported twice"
    assert set(reported) <= touched
    assert all(isinstance(f.error, DynamORMError) for f in failures)

    stored = {n.n: n for n in await repo.where("topic", "=", topic).consistent().all()}
    for n in touched - set(reported):  # not reported: applied
        assert stored.get(n) == wanted[n], n
    for n in set(before) - touched:  # not in the unit: untouched
        assert stored.get(n) == before[n], n
    TOTALS["items written"] += len(touched)

    # With the faults gone, the reported writes retried complete the unit.
    if failures:
        async with db.unit_of_work() as again:
            again.retry(failures)
    stored = {n.n: n for n in await repo.where("topic", "=", topic).consistent().all()}
    assert stored == {n: v for n, v in wanted.items() if v is not None}
    TOTALS["lost"] += sum(stored.get(n) != wanted[n] for n in touched)


# --- transactions -------------------------------------------------------------------------------

ACCOUNTS = 5


@campaign
@given(
    transfers=st.lists(
        st.tuples(
            st.integers(0, ACCOUNTS - 1), st.integers(0, ACCOUNTS - 1), st.integers(1, 9)
        ).filter(lambda t: t[0] != t[1]),
        min_size=1,
        max_size=8,
    ),
    plan=plans(BEFORE | AFTER, bounded=True),
)
async def test_each_transfer_is_applied_exactly_once(dynamorm_db, transfers, plan):
    db = dynamorm_db
    fast(db)
    run = next(_runs)
    repo = db.repository(accounts)
    ids = [f"r{run}-{i}" for i in range(ACCOUNTS)]
    for id_ in ids:
        await repo.put(Account(id_, 100))

    with inject(db, plan) as faults:
        for src, dst, amount in transfers:
            a = await repo.get(ids[src], consistent=True)
            b = await repo.get(ids[dst], consistent=True)
            assert a is not None
            assert b is not None
            async with db.transaction(attempts=5) as tx:
                tx.put(attrs.evolve(a, balance=a.balance - amount))
                tx.put(attrs.evolve(b, balance=b.balance + amount))
    tally(faults)

    final = {id_: await repo.get(id_, consistent=True) for id_ in ids}
    moved = Counter[int]()
    touches = Counter[int]()
    for src, dst, amount in transfers:
        moved[src] -= amount
        moved[dst] += amount
        touches[src] += 1
        touches[dst] += 1
    for i, id_ in enumerate(ids):
        account = final[id_]
        assert account is not None
        assert account.balance == 100 + moved[i], (id_, faults.counts)
        assert account.version == 1 + touches[i], (id_, faults.counts)
    TOTALS["items written"] += 2 * len(transfers)


@campaign
@given(amount=st.integers(1, 50), plan=plans(BEFORE | AFTER, bounded=False, totals=(0.5, 0.9)))
async def test_a_transaction_that_fails_says_whether_it_can_be_resent(dynamorm_db, amount, plan):
    """Unbounded faults: the commit may fail. A cancellation applied nothing; any other
    error leaves `tx.token`, and resending the same writes with it applies them once."""
    db = dynamorm_db
    fast(db, attempts=2)
    run = next(_runs)
    repo = db.repository(accounts)
    a = await repo.put(Account(f"r{run}-a", 100))
    b = await repo.put(Account(f"r{run}-b", 100))

    def writes(tx) -> None:
        tx.put(attrs.evolve(a, balance=a.balance - amount))
        tx.put(attrs.evolve(b, balance=b.balance + amount))

    tx = db.transaction(attempts=2)
    with inject(db, plan) as faults:
        try:
            async with tx:
                writes(tx)
            outcome, codes = "committed", set()
        except TransactionCanceled as error:
            outcome, codes = "cancelled", {r.code for r in error.failed}
        except DynamORMError:
            outcome, codes = "unknown", set()
    tally(faults)
    assert codes <= {"TransactionConflict"}  # only the injected conflicts
    TOTALS[f"transactions {outcome}"] += 1
    if outcome == "unknown" and BACKEND == "dynamodb-local":
        # The outcome is unknown: resend with the same token, faults gone.
        async with db.transaction(token=tx.token) as again:
            writes(again)
        outcome = "committed"
    got_a = await repo.get(a.id, consistent=True)
    got_b = await repo.get(b.id, consistent=True)
    assert got_a is not None
    assert got_b is not None
    assert got_a.balance + got_b.balance == 200
    if outcome == "committed":
        assert (got_a.balance, got_a.version) == (100 - amount, 2)
        assert (got_b.balance, got_b.version) == (100 + amount, 2)
    elif outcome == "cancelled":
        assert (got_a.balance, got_b.balance) == (100, 100)
    else:  # moto, outcome unknown: all or nothing
        assert got_a.balance in (100, 100 - amount)
    TOTALS["items written"] += 2


# --- batch reads --------------------------------------------------------------------------------


@campaign
@given(
    count=st.integers(1, 180),
    offset=st.integers(0, 179),
    plan=plans(
        {"throttle", "server_error", "reset_before", "reset_after", "timeout"}, batches=True
    ),
)
async def test_a_batch_read_is_complete_or_lists_exactly_what_it_did_not_read(
    dynamorm_db, count, offset, plan
):
    db = dynamorm_db
    wanted = [(offset + 7 * i) % 180 for i in range(count)]  # distinct: 7 and 180 are coprime
    fast(db)
    topic = f"r{next(_runs)}"
    async with db.unit_of_work() as uow:
        for n in range(0, 180, 2):  # the odd ones are missing
            uow.put(Note(topic, n, f"n{n}"))
    expected = {n: (Note(topic, n, f"n{n}") if n % 2 == 0 else None) for n in wanted}
    repo = db.repository(notes)
    with inject(db, plan) as faults:
        try:
            found = await repo.batch_get([(topic, n) for n in wanted])
            assert found == [expected[n] for n in wanted]
        except BatchGetError as error:
            missing = {int(key["n"]) for _, key in error.unprocessed}
            assert missing
            assert missing <= set(wanted)
            for n, obj in zip(wanted, error.found, strict=True):
                assert obj == (None if n in missing else expected[n]), n
            TOTALS["keys reported unread"] += len(missing)
        except DynamORMError:
            TOTALS["batch reads failed"] += 1  # a request failed past its retries
    tally(faults)
    TOTALS["keys read"] += len(wanted)


# --- paged queries ------------------------------------------------------------------------------


@campaign
@given(
    size=st.integers(2, 25),
    plan=plans({"throttle", "server_error", "reset_before", "reset_after", "timeout"}),
)
async def test_resuming_a_paged_query_after_a_failure_skips_and_repeats_nothing(
    dynamorm_db, size, plan
):
    db = dynamorm_db
    fast(db, attempts=2)
    topic = f"r{next(_runs)}"
    async with db.unit_of_work() as uow:
        for n in range(40):
            uow.put(Note(topic, n, "x" * (n % 7)))
    query = db.repository(notes).where("topic", "=", topic).filter(attr("text") != "xxx")
    expected = [n for n in range(40) if n % 7 != 3]

    seen: list[int] = []
    cursor = None
    failures = 0
    with inject(db, plan) as faults:
        while True:
            try:
                page = await query.page(size=size, cursor=cursor)
            except DynamORMError:
                failures += 1
                assert failures < 200, "no progress"
                continue  # resume from the same cursor
            seen.extend(note.n for note in page.items)
            assert len(page.items) <= size
            cursor = page.next_cursor
            if cursor is None:
                break
    tally(faults)
    assert seen == expected
    TOTALS["pages resumed"] += failures
