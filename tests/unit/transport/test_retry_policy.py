"""`RetryPolicy` and `is_retryable`: what is retried, how often, how long, and counted.

No network here: the function a policy runs is a plain coroutine that fails on cue.
Backoffs are kept in milliseconds (base=0.001, max_backoff<=0.01) so the file is fast.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import time
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamorm_async import (
    CircuitOpenError,
    ConditionFailed,
    ConversionError,
    DynamoDBError,
    ItemNotFound,
    MappingError,
    RetryPolicy,
    TableNotFound,
    ThrottledError,
    TransactionCanceled,
    TransportError,
    ValidationError,
)
from dynamorm_async.transport import is_retryable

FAST = {"base": 0.001, "max_backoff": 0.01}


class Script:
    """A coroutine function that plays `outcomes` in order: an exception is raised,
    anything else returned; it counts its calls and when each one started."""

    def __init__(self, *outcomes: Any, delay: float = 0.0) -> None:
        self.outcomes = list(outcomes)
        self.delay = delay
        self.calls = 0
        self.started: list[float] = []

    async def __call__(self) -> Any:
        self.started.append(time.monotonic())
        outcome = self.outcomes[min(self.calls, len(self.outcomes) - 1)]
        self.calls += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def throttled() -> ThrottledError:
    return ThrottledError("slow down", code="ThrottlingException", http_status=400)


def dropped() -> TransportError:
    return TransportError("connection reset", retryable=True)


# --- is_retryable -----------------------------------------------------------------

RETRYABLE = [
    pytest.param(throttled(), id="throttled-400"),
    pytest.param(
        ThrottledError("x", code="ProvisionedThroughputExceededException"), id="throttled-no-status"
    ),
    pytest.param(ThrottledError("x", code="Whatever", http_status=200), id="throttled-any-code"),
    pytest.param(DynamoDBError("x", code="InternalServerError"), id="internal-server-error"),
    pytest.param(DynamoDBError("x", code="ServiceUnavailable"), id="service-unavailable"),
    pytest.param(DynamoDBError("x", code="TransactionConflictException"), id="tx-conflict"),
    pytest.param(DynamoDBError("x", code="TransactionInProgressException"), id="tx-in-progress"),
    pytest.param(DynamoDBError("x", code="Odd", http_status=500), id="any-code-500"),
    pytest.param(DynamoDBError("x", code="Odd", http_status=503), id="any-code-503"),
    pytest.param(DynamoDBError("x", code="Odd", http_status=599), id="any-code-599"),
    pytest.param(TransportError("reset", retryable=True), id="transport-retryable"),
]

NOT_RETRYABLE = [
    pytest.param(DynamoDBError("x", code="Odd"), id="unknown-code-no-status"),
    pytest.param(DynamoDBError("x", code="Odd", http_status=400), id="unknown-code-400"),
    pytest.param(DynamoDBError("x", code="Odd", http_status=499), id="unknown-code-499"),
    pytest.param(DynamoDBError("x", code="LimitExceededException", http_status=400), id="limit"),
    pytest.param(DynamoDBError("x", code="internalservererror"), id="code-is-case-sensitive"),
    pytest.param(TransportError("no credentials"), id="transport-default"),
    pytest.param(TransportError("no region", retryable=False), id="transport-not-retryable"),
    pytest.param(CircuitOpenError("open", retry_after=1.0), id="circuit-open"),
    # A circuit-open error is never retried, even if it claims to be retryable.
    pytest.param(CircuitOpenError("open", retryable=True), id="circuit-open-retryable-flag"),
    pytest.param(ValidationError("bad"), id="validation"),
    pytest.param(ConditionFailed("no"), id="condition-failed"),
    pytest.param(TransactionCanceled("cancelled"), id="transaction-canceled"),
    pytest.param(TableNotFound("gone"), id="table-not-found"),
    pytest.param(ItemNotFound("gone"), id="item-not-found"),
    pytest.param(ConversionError("bad value"), id="conversion"),
    pytest.param(MappingError("bad mapping"), id="mapping"),
    pytest.param(RuntimeError("boom"), id="runtime-error"),
    pytest.param(ConnectionResetError("raw os error"), id="raw-os-error"),
    pytest.param(asyncio.CancelledError(), id="cancelled"),
    pytest.param(KeyboardInterrupt(), id="keyboard-interrupt"),
]


@pytest.mark.parametrize("error", RETRYABLE)
def test_is_retryable_yes(error):
    assert is_retryable(error) is True


@pytest.mark.parametrize("error", NOT_RETRYABLE)
def test_is_retryable_no(error):
    assert is_retryable(error) is False


# --- retrying then succeeding, giving up, not retrying ---------------------------------


@pytest.mark.parametrize("error", RETRYABLE)
async def test_a_retryable_error_is_retried_then_the_call_succeeds(error):
    policy = RetryPolicy(attempts=3, **FAST)
    fn = Script(error, error, "ok")
    assert await policy.call(fn) == "ok"
    assert fn.calls == 3
    assert (policy.retries, policy.gave_up) == (2, 0)


async def test_success_on_the_first_try_is_not_retried():
    policy = RetryPolicy(**FAST)
    fn = Script({"Item": {}})
    assert await policy.call(fn) == {"Item": {}}
    assert fn.calls == 1
    assert (policy.retries, policy.gave_up) == (0, 0)


async def test_different_retryable_errors_in_a_row_share_one_budget():
    policy = RetryPolicy(attempts=4, **FAST)
    fn = Script(throttled(), dropped(), DynamoDBError("x", code="Odd", http_status=502), "ok")
    assert await policy.call(fn) == "ok"
    assert fn.calls == 4
    assert policy.retries == 3


@pytest.mark.parametrize("attempts", [1, 2, 3, 5])
async def test_gives_up_after_attempts_and_raises_the_last_error(attempts):
    policy = RetryPolicy(attempts=attempts, **FAST)
    errors = [TransportError(f"reset {i}", retryable=True) for i in range(attempts)]
    fn = Script(*errors, "never reached")
    with pytest.raises(TransportError) as caught:
        await policy.call(fn)
    assert caught.value is errors[-1]  # the error itself, not a tenacity RetryError
    assert fn.calls == attempts
    assert (policy.retries, policy.gave_up) == (attempts - 1, 1)


async def test_counters_add_up_over_the_policys_life():
    policy = RetryPolicy(attempts=2, **FAST)
    assert await policy.call(Script(throttled(), "a")) == "a"
    with pytest.raises(ThrottledError):
        await policy.call(Script(throttled()))
    assert await policy.call(Script("b")) == "b"
    with pytest.raises(ValidationError):
        await policy.call(Script(ValidationError("bad")))
    assert (policy.retries, policy.gave_up) == (2, 1)


@pytest.mark.parametrize("error", NOT_RETRYABLE[:-2])  # Exceptions; BaseExceptions below
async def test_a_non_retryable_error_is_raised_at_once(error):
    policy = RetryPolicy(attempts=5, **FAST)
    fn = Script(error, "never reached")
    with pytest.raises(type(error)) as caught:
        await policy.call(fn)
    assert caught.value is error
    assert fn.calls == 1
    assert (policy.retries, policy.gave_up) == (0, 0)


async def test_a_non_retryable_error_after_retries_stops_them_and_is_not_a_give_up():
    policy = RetryPolicy(attempts=5, **FAST)
    bad = ValidationError("bad")
    fn = Script(throttled(), bad, "never reached")
    with pytest.raises(ValidationError) as caught:
        await policy.call(fn)
    assert caught.value is bad
    assert fn.calls == 2
    assert (policy.retries, policy.gave_up) == (1, 0)


async def test_keyboard_interrupt_is_not_retried_and_propagates():
    policy = RetryPolicy(attempts=5, **FAST)
    fn = Script(KeyboardInterrupt())
    with pytest.raises(KeyboardInterrupt):
        await policy.call(fn)
    assert fn.calls == 1
    assert (policy.retries, policy.gave_up) == (0, 0)


async def test_cancelling_a_call_during_an_attempt_propagates_without_retry():
    policy = RetryPolicy(attempts=5, **FAST)
    fn = Script("never returned", delay=30)
    task = asyncio.create_task(policy.call(fn))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fn.calls == 1
    assert (policy.retries, policy.gave_up) == (0, 0)


async def test_cancelling_a_call_during_its_backoff_propagates_without_another_attempt():
    policy = RetryPolicy(attempts=5, base=5.0, max_backoff=5.0)
    fn = Script(dropped())
    task = asyncio.create_task(policy.call(fn))
    for _ in range(100):  # until the first attempt failed and the backoff began
        await asyncio.sleep(0.001)
        if policy.retries:
            break
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert fn.calls == 1
    assert (policy.retries, policy.gave_up) == (1, 0)


async def test_a_timeout_around_the_call_is_not_turned_into_a_retry():
    policy = RetryPolicy(attempts=5, **FAST)
    fn = Script("never returned", delay=30)
    with pytest.raises(asyncio.TimeoutError):  # TimeoutError itself from 3.11
        await asyncio.wait_for(policy.call(fn), 0.02)
    assert fn.calls == 1


# --- the deadline ------------------------------------------------------------------


async def test_the_deadline_stops_retries_before_the_attempts_run_out():
    policy = RetryPolicy(attempts=10_000, deadline=0.08, **FAST)
    fn = Script(dropped())
    start = time.monotonic()
    with pytest.raises(TransportError):
        await policy.call(fn)
    elapsed = time.monotonic() - start
    # No retry starts past the deadline, so the last one ends within a backoff of it.
    assert 0.08 - 0.01 <= elapsed < 1.0
    assert 2 <= fn.calls < 10_000
    assert policy.retries == fn.calls - 1
    assert policy.gave_up == 1


async def test_with_slow_attempts_the_deadline_counts_their_time_too():
    policy = RetryPolicy(attempts=100, deadline=0.1, **FAST)
    fn = Script(dropped(), delay=0.06)
    with pytest.raises(TransportError):
        await policy.call(fn)
    # 0.06 s < 0.1 s: one retry; after the second attempt (>= 0.12 s) no more.
    assert fn.calls == 2
    assert (policy.retries, policy.gave_up) == (1, 1)


async def test_a_deadline_does_not_affect_a_call_that_succeeds_in_time():
    policy = RetryPolicy(attempts=5, deadline=10.0, **FAST)
    fn = Script(throttled(), throttled(), "ok")
    assert await policy.call(fn) == "ok"
    assert fn.calls == 3


async def test_the_attempts_still_bound_a_call_with_a_generous_deadline():
    policy = RetryPolicy(attempts=3, deadline=60.0, **FAST)
    fn = Script(dropped())
    with pytest.raises(TransportError):
        await policy.call(fn)
    assert fn.calls == 3


async def test_no_retry_starts_after_the_deadline():
    # Each first attempt ends 10 ms before the 50 ms deadline; the backoff is drawn
    # from [0, 100 ms], so a retry lands past the deadline ~90% of the time: over five
    # calls, virtually always at least once.
    late = []
    for _ in range(5):
        policy = RetryPolicy(attempts=10, base=0.1, max_backoff=0.1, deadline=0.05)
        fn = Script(dropped(), delay=0.04)
        start = time.monotonic()
        with pytest.raises(TransportError):
            await policy.call(fn)
        late += [t - start for t in fn.started[1:] if t - start > 0.05 + 0.005]
    assert late == []


# --- backoff -----------------------------------------------------------------------


async def test_backoffs_are_capped_by_max_backoff():
    # Uncapped, the 11 backoffs would be drawn from [0, 1 ms * 2**n]: ~1 s on average.
    # Capped at 5 ms they total at most 55 ms.
    policy = RetryPolicy(attempts=12, base=0.001, max_backoff=0.005)
    fn = Script(dropped())
    start = time.monotonic()
    with pytest.raises(TransportError):
        await policy.call(fn)
    elapsed = time.monotonic() - start
    assert fn.calls == 12
    assert policy.retries == 11
    assert elapsed < 0.4  # generous: scheduling slack only
    gaps = [b - a for a, b in itertools.pairwise(fn.started)]
    assert all(0 <= gap < 0.005 + 0.05 for gap in gaps)


async def test_the_first_backoff_is_at_most_base():
    # Full jitter: each backoff is uniform in [0, min(base * 2**n, max_backoff)].
    policy = RetryPolicy(attempts=2, base=0.01, max_backoff=5.0)
    fn = Script(dropped(), "ok")
    for _ in range(5):
        fn.calls = 0
        fn.started.clear()
        assert await policy.call(fn) == "ok"
        assert fn.started[1] - fn.started[0] < 0.01 + 0.05


async def test_backoffs_are_jittered():
    policy = RetryPolicy(attempts=2, base=0.02, max_backoff=0.02)
    gaps = []
    for _ in range(6):
        fn = Script(dropped(), "ok")
        await policy.call(fn)
        gaps.append(fn.started[1] - fn.started[0])
    assert max(gaps) - min(gaps) > 0.001  # not one fixed delay


# --- retrying(): the controller for other loops --------------------------------------


class Loop:
    """A loop driven by a tenacity controller whose body always raises `error()`."""

    def __init__(self, error: Any) -> None:
        self.error = error
        self.calls = 0

    async def run(self, retrying: Any) -> None:
        async for attempt in retrying:
            with attempt:
                self.calls += 1
                raise self.error()


async def test_retrying_takes_its_own_attempts_and_predicate_and_counts_retries():
    policy = RetryPolicy(attempts=2, **FAST)
    loop = Loop(lambda: KeyError("unprocessed"))
    with pytest.raises(KeyError):
        await loop.run(policy.retrying(attempts=4, retry_if=lambda e: isinstance(e, KeyError)))
    assert loop.calls == 4
    assert policy.retries == 3
    assert policy.gave_up == 0  # only call() counts calls given up


async def test_retrying_with_its_own_predicate_does_not_retry_other_errors():
    policy = RetryPolicy(attempts=5, **FAST)
    loop = Loop(throttled)
    with pytest.raises(ThrottledError):
        await loop.run(policy.retrying(retry_if=lambda e: isinstance(e, KeyError)))
    assert loop.calls == 1


async def test_retrying_defaults_to_the_policys_budget_and_predicate():
    policy = RetryPolicy(attempts=3, **FAST)
    loop = Loop(dropped)
    with pytest.raises(TransportError):
        await loop.run(policy.retrying())
    assert loop.calls == 3
    assert policy.retries == 2


async def test_retrying_deadline_overrides_the_policys():
    policy = RetryPolicy(attempts=10_000, deadline=60.0, **FAST)
    loop = Loop(dropped)
    start = time.monotonic()
    with pytest.raises(TransportError):
        await loop.run(policy.retrying(deadline=0.03))
    assert time.monotonic() - start < 1.0
    assert 2 <= loop.calls < 10_000


# --- configuration -------------------------------------------------------------------


def test_defaults():
    policy = RetryPolicy()
    assert (policy.attempts, policy.base, policy.max_backoff, policy.deadline) == (
        3,
        0.05,
        5.0,
        None,
    )
    assert (policy.retries, policy.gave_up) == (0, 0)


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"attempts": 0}, id="attempts-0"),
        pytest.param({"attempts": -1}, id="attempts-negative"),
        pytest.param({"attempts": 2.0}, id="attempts-float"),
        pytest.param({"attempts": True}, id="attempts-bool"),
        pytest.param({"attempts": "3"}, id="attempts-str"),
        pytest.param({"attempts": None}, id="attempts-none"),
        pytest.param({"base": 0}, id="base-0"),
        pytest.param({"base": -0.1}, id="base-negative"),
        pytest.param({"base": math.nan}, id="base-nan"),
        pytest.param({"base": 1.0, "max_backoff": 0.5}, id="base-over-max"),
        pytest.param({"max_backoff": 0}, id="max-backoff-0"),
        pytest.param({"max_backoff": math.nan}, id="max-backoff-nan"),
    ],
)
def test_invalid_configuration_is_refused(kwargs):
    with pytest.raises(ValidationError):
        RetryPolicy(**kwargs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"attempts": 1},
        {"attempts": 100},
        {"base": 0.5, "max_backoff": 0.5},
        {"base": 1e-6, "max_backoff": 60.0},
        {"deadline": 0.5},
        {"deadline": 3600},
    ],
)
def test_valid_configurations(kwargs):
    policy = RetryPolicy(**kwargs)
    for name, value in kwargs.items():
        assert getattr(policy, name) == value


async def test_attempts_1_means_no_retry():
    policy = RetryPolicy(attempts=1, **FAST)
    fn = Script(throttled(), "never reached")
    with pytest.raises(ThrottledError):
        await policy.call(fn)
    assert fn.calls == 1
    assert (policy.retries, policy.gave_up) == (0, 1)


@pytest.mark.parametrize("deadline", [-1.0, math.nan], ids=["negative", "nan"])
def test_invalid_deadline_is_refused(deadline):
    with pytest.raises(ValidationError):
        RetryPolicy(deadline=deadline)


# --- property: a policy against a simple model ---------------------------------------

OK, RETRY, FAIL = "ok", "retryable", "fatal"

outcome_kinds = st.sampled_from([OK, RETRY, FAIL])
retryable_errors = st.sampled_from(
    [
        lambda i: ThrottledError(f"t{i}", code="ThrottlingException", http_status=400),
        lambda i: DynamoDBError(f"d{i}", code="InternalServerError", http_status=500),
        lambda i: DynamoDBError(f"s{i}", code="Odd", http_status=503),
        lambda i: TransportError(f"r{i}", retryable=True),
    ]
)
fatal_errors = st.sampled_from(
    [
        lambda i: ValidationError(f"v{i}"),
        lambda i: ConditionFailed(f"c{i}"),
        lambda i: TransportError(f"n{i}"),
        lambda i: DynamoDBError(f"x{i}", code="Odd", http_status=400),
        lambda i: CircuitOpenError(f"o{i}"),
    ]
)


@st.composite
def scripts(draw):
    kinds = draw(st.lists(outcome_kinds, min_size=1, max_size=8))
    outcomes: list[Any] = []
    for i, kind in enumerate(kinds):
        if kind == OK:
            outcomes.append(f"result {i}")
        elif kind == RETRY:
            outcomes.append(draw(retryable_errors)(i))
        else:
            outcomes.append(draw(fatal_errors)(i))
    return outcomes


def model(outcomes: list[Any], attempts: int) -> tuple[int, Any, int, int]:
    """(calls, final outcome, retries, gave_up) as the policy should produce them.
    The script repeats its last outcome once it runs out."""
    calls = 0
    while True:
        outcome = outcomes[min(calls, len(outcomes) - 1)]
        calls += 1
        if not isinstance(outcome, BaseException):
            return calls, outcome, calls - 1, 0
        if not is_retryable(outcome):
            return calls, outcome, calls - 1, 0
        if calls == attempts:
            return calls, outcome, calls - 1, 1


@settings(max_examples=150, deadline=None)
@given(outcomes=scripts(), attempts=st.integers(1, 6))
async def test_policy_matches_the_model(outcomes, attempts):
    policy = RetryPolicy(attempts=attempts, base=0.0001, max_backoff=0.0005)
    fn = Script(*outcomes)
    calls, final, retries, gave_up = model(outcomes, attempts)
    if isinstance(final, BaseException):
        with pytest.raises(type(final)) as caught:
            await policy.call(fn)
        assert caught.value is final
    else:
        assert await policy.call(fn) == final
    assert fn.calls == calls
    assert (policy.retries, policy.gave_up) == (retries, gave_up)
