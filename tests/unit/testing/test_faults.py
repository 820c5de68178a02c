"""The fault injector's own behaviour: plans, determinism, what each fault looks like.

`send` here is a plain function standing for the next layer, so that each decision is
seen exactly; the campaigns in tests/integration/faults run the injector against a
real server.
"""

from __future__ import annotations

import copy
import random
from collections import Counter

import attrs
import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, ReadTimeoutError

from dynamorm_async import ValidationError
from dynamorm_async.testing.faults import DATA_OPERATIONS, FaultInjector, FaultPlan


class Server:
    """Records what reached it; answers batches as if everything was processed."""

    def __init__(self) -> None:
        self.received: list[dict] = []

    async def __call__(self, request: dict) -> dict:
        self.received.append(copy.deepcopy(request))
        if "RequestItems" in request:
            if all(isinstance(v, list) for v in request["RequestItems"].values()):
                return {"UnprocessedItems": {}}
            return {
                "Responses": {t: list(v["Keys"]) for t, v in request["RequestItems"].items()},
                "UnprocessedKeys": {},
            }
        return {"Item": {"id": {"S": "1"}}}


def get(n: int) -> dict:
    return {"TableName": "prod-things", "Key": {"id": {"S": str(n)}}}


def batch_write(count: int, table: str = "prod-things") -> dict:
    return {
        "RequestItems": {
            table: [{"PutRequest": {"Item": {"id": {"S": str(i)}}}} for i in range(count)]
        }
    }


def batch_get(count: int) -> dict:
    return {
        "RequestItems": {
            "prod-things": {
                "Keys": [{"id": {"S": str(i)}} for i in range(count)],
                "ProjectionExpression": "#n0",
                "ExpressionAttributeNames": {"#n0": "id"},
                "ConsistentRead": True,
            }
        }
    }


async def outcome(injector: FaultInjector, operation: str, request: dict) -> str:
    try:
        await injector(operation, request, Server())
    except ClientError as exc:
        return exc.response["Error"]["Code"]
    except (ConnectionClosedError, ReadTimeoutError) as exc:
        return type(exc).__name__
    return "ok"


# --- plans ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        {"throttle": 1.5},
        {"unprocessed": -0.1},
        {"slow": "often"},
        {"throttle": 0.6, "reset_after": 0.6},
        {"delay": -1},
    ],
)
def test_a_plan_refuses_impossible_chances(kwargs):
    with pytest.raises(ValidationError, match="FaultPlan"):
        FaultPlan(**kwargs)


def test_a_plan_applies_to_the_data_operations_by_default():
    assert FaultPlan().operations == DATA_OPERATIONS
    assert "CreateTable" not in DATA_OPERATIONS
    assert FaultPlan(operations=["GetItem"]).operations == frozenset({"GetItem"})


async def test_operations_outside_the_plan_pass_untouched():
    server = Server()
    injector = FaultInjector(FaultPlan(throttle=1.0, operations={"PutItem"}))
    assert await injector("GetItem", get(1), server) == {"Item": {"id": {"S": "1"}}}
    assert server.received == [get(1)]
    assert injector.faults == []
    assert injector.requests == Counter()


# --- each fault ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "codes", "reaches_server"),
    [
        ("throttle", {"ThrottlingException", "ProvisionedThroughputExceededException"}, False),
        ("server_error", {"InternalServerError", "ServiceUnavailable"}, False),
        ("reset_before", {"ConnectionClosedError"}, False),
        ("reset_after", {"ConnectionClosedError"}, True),
        ("timeout", {"ReadTimeoutError"}, True),
    ],
)
async def test_each_error_fails_as_botocore_would_and_reaches_the_server_or_not(
    kind, codes, reaches_server
):
    seen = set()
    statuses: dict[str, int] = {}
    for seed in range(20):
        server = Server()
        injector = FaultInjector(FaultPlan(seed=seed, delay=0, **{kind: 1.0}))
        try:
            await injector("GetItem", get(seed), server)
        except ClientError as exc:
            code = exc.response["Error"]["Code"]
            seen.add(code)
            statuses[code] = exc.response["ResponseMetadata"]["HTTPStatusCode"]
        except (ConnectionClosedError, ReadTimeoutError) as exc:
            seen.add(type(exc).__name__)
        else:
            pytest.fail("no fault injected")
        assert bool(server.received) is reaches_server
        assert [(f.kind, f.applied) for f in injector.faults] == [(kind, reaches_server)]
    assert seen == codes  # every variant shows up
    expected = {"InternalServerError": 500, "ServiceUnavailable": 503}
    assert all(status == expected.get(code, 400) for code, status in statuses.items())


async def test_a_transaction_conflict_names_one_action():
    injector = FaultInjector(FaultPlan(seed=3, conflict=1.0))
    request = {"TransactItems": [{"Put": {}}, {"Put": {}}, {"Delete": {}}]}
    with pytest.raises(ClientError) as caught:
        await injector("TransactWriteItems", request, Server())
    response = caught.value.response
    assert response["Error"]["Code"] == "TransactionCanceledException"
    codes = [r["Code"] for r in response["CancellationReasons"]]
    assert sorted(codes) == ["None", "None", "TransactionConflict"]


async def test_a_single_write_conflict_is_a_transaction_conflict_exception():
    injector = FaultInjector(FaultPlan(conflict=1.0))
    assert await outcome(injector, "PutItem", {"TableName": "t"}) == "TransactionConflictException"
    # Reads are never in conflict.
    assert await outcome(injector, "GetItem", get(1)) == "ok"


async def test_no_conflict_is_injected_on_the_replay_of_an_applied_token():
    plan = FaultPlan(seed=1, reset_after=0.5, conflict=0.5, max_per_request=None)
    injector = FaultInjector(plan)
    request = {"TransactItems": [{"Put": {}}], "ClientRequestToken": "t1"}
    results = [await outcome(injector, "TransactWriteItems", request) for _ in range(30)]
    first_applied = results.index("ConnectionClosedError")
    assert "TransactionCanceledException" not in results[first_applied:]


async def test_a_slow_response_is_delayed_then_answered():
    injector = FaultInjector(FaultPlan(slow=1.0, delay=0.01))
    assert await outcome(injector, "GetItem", get(1)) == "ok"
    assert [f.kind for f in injector.faults] == ["slow"]


# --- unprocessed items ---------------------------------------------------------------


async def test_held_back_writes_are_returned_as_unprocessed_and_never_sent():
    server = Server()
    injector = FaultInjector(FaultPlan(seed=5, unprocessed=0.5))
    response = await injector("BatchWriteItem", batch_write(25), server)
    sent = [
        e["PutRequest"]["Item"]["id"]["S"]
        for e in server.received[0]["RequestItems"]["prod-things"]
    ]
    back = [e["PutRequest"]["Item"]["id"]["S"] for e in response["UnprocessedItems"]["prod-things"]]
    assert sorted(sent + back, key=int) == [str(i) for i in range(25)]
    assert sent
    assert back
    assert not set(sent) & set(back)
    assert injector.faults[0].held_back == len(back)


async def test_held_back_keys_keep_the_tables_read_settings():
    server = Server()
    injector = FaultInjector(FaultPlan(seed=2, unprocessed=0.5))
    response = await injector("BatchGetItem", batch_get(40), server)
    back = response["UnprocessedKeys"]["prod-things"]
    assert back["ProjectionExpression"] == "#n0"
    assert back["ConsistentRead"] is True
    got = {k["id"]["S"] for k in response["Responses"]["prod-things"]}
    held = {k["id"]["S"] for k in back["Keys"]}
    assert got | held == {str(i) for i in range(40)}
    assert not got & held


async def test_when_every_item_is_held_back_nothing_is_sent():
    server = Server()
    injector = FaultInjector(FaultPlan(unprocessed=1.0))
    response = await injector("BatchWriteItem", batch_write(3), server)
    assert server.received == []
    assert len(response["UnprocessedItems"]["prod-things"]) == 3
    assert injector.faults[0].applied is False


async def test_stuck_items_are_held_back_on_every_attempt():
    injector = FaultInjector(FaultPlan(seed=9, stuck=0.3))
    held = []
    for _ in range(5):
        response = await injector("BatchWriteItem", batch_write(25), Server())
        held.append(
            {
                e["PutRequest"]["Item"]["id"]["S"]
                for e in response["UnprocessedItems"]["prod-things"]
            }
        )
    assert held[0]
    assert all(h == held[0] for h in held)


# --- determinism -----------------------------------------------------------------------


async def run_schedule(plan: FaultPlan, table: str, order: list[int]) -> dict[int, list[str]]:
    injector = FaultInjector(plan, table_names={table: "things"})
    out: dict[int, list[str]] = {}
    for n in order:
        request = {"TableName": table, "Key": {"id": {"S": str(n)}}}
        out.setdefault(n, []).append(await outcome(injector, "GetItem", request))
    return out


async def test_the_same_seed_gives_the_same_faults_in_any_order_and_under_any_prefix():
    plan = FaultPlan(seed=42, throttle=0.3, reset_before=0.2)
    order = [n for n in range(40) for _ in range(3)]
    shuffled = order[:]
    random.Random(1).shuffle(shuffled)
    first = await run_schedule(plan, "prod-things", order)
    again = await run_schedule(plan, "test-123-things", shuffled)
    assert first == again
    other = await run_schedule(attrs.evolve(plan, seed=43), "prod-things", order)
    assert other != first


async def test_the_transaction_token_does_not_change_the_decisions():
    plan = FaultPlan(seed=4, throttle=0.5)
    a, b = FaultInjector(plan), FaultInjector(plan)
    results = []
    for injector, token in ((a, "x"), (b, "y")):
        request = {"TransactItems": [{"Put": {"TableName": "t"}}], "ClientRequestToken": token}
        results.append([await outcome(injector, "TransactWriteItems", request) for _ in range(8)])
    assert results[0] == results[1]


async def test_max_per_request_lets_the_retries_through():
    injector = FaultInjector(FaultPlan(throttle=1.0, max_per_request=2))
    results = [await outcome(injector, "GetItem", get(1)) for _ in range(4)]
    assert results[2:] == ["ok", "ok"]
    assert injector.counts == Counter({"throttle": 2})
    assert injector.requests == Counter({"GetItem": 4})
