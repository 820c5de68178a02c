"""`CircuitBreaker`: closed -> open -> half-open -> closed/open, on a fake clock.

The breaker alone is driven through `before_call` / `record` / `release`; its wiring
into `Transport.call` is checked with faults injected at our own `Transport` layer
(a subclass whose `_send` plays a script), never by mocking aiobotocore.
"""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    invariant,
    precondition,
    rule,
)

from dynamorm_async import (
    CircuitBreaker,
    CircuitOpenError,
    ConditionFailed,
    DynamoDBError,
    RetryPolicy,
    ThrottledError,
    TransportError,
    ValidationError,
)
from dynamorm_async.transport import ClientConfig, Transport, is_retryable


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def dropped() -> TransportError:
    return TransportError("connection refused", retryable=True)


def throttled() -> ThrottledError:
    return ThrottledError("slow down", code="ThrottlingException", http_status=400)


def make(threshold: int = 3, cooldown: float = 10.0) -> tuple[CircuitBreaker, FakeClock]:
    clock = FakeClock()
    return CircuitBreaker(threshold=threshold, cooldown=cooldown, clock=clock), clock


def fail(breaker: CircuitBreaker, error: BaseException | None = None, times: int = 1) -> None:
    """`times` calls let through, each failing with `error` (a dropped connection)."""
    for _ in range(times):
        probe = breaker.before_call()
        breaker.record(error or dropped(), probe=probe)


def open_breaker(threshold: int = 3, cooldown: float = 10.0) -> tuple[CircuitBreaker, FakeClock]:
    breaker, clock = make(threshold, cooldown)
    fail(breaker, times=threshold)
    assert breaker.state == "open"
    return breaker, clock


# --- closed -> open ----------------------------------------------------------------


def test_defaults():
    breaker = CircuitBreaker()
    assert (breaker.threshold, breaker.cooldown, breaker.clock) == (10, 5.0, time.monotonic)
    assert breaker.state == "closed"
    assert (breaker.consecutive_failures, breaker.opened, breaker.rejected) == (0, 0, 0)


def test_a_closed_breaker_lets_calls_through_as_non_probes():
    breaker, _ = make()
    for _ in range(20):
        assert breaker.before_call() is False
        breaker.record(None, probe=False)
    assert breaker.state == "closed"
    assert (breaker.opened, breaker.rejected) == (0, 0)


@pytest.mark.parametrize("threshold", [1, 2, 5])
@pytest.mark.parametrize(
    "error",
    [
        dropped(),
        throttled(),
        DynamoDBError("x", code="InternalServerError", http_status=500),
        DynamoDBError("x", code="Odd", http_status=503),
    ],
    ids=["dropped", "throttled", "500", "503"],
)
def test_opens_after_threshold_consecutive_retryable_failures(threshold, error):
    breaker, _ = make(threshold=threshold)
    fail(breaker, error, times=threshold - 1)
    assert breaker.state == "closed"
    assert breaker.consecutive_failures == threshold - 1
    assert breaker.before_call() is False  # still lets calls through
    breaker.record(error, probe=False)
    assert breaker.state == "open"
    assert breaker.consecutive_failures == threshold
    assert breaker.opened == 1


def test_a_success_resets_the_count():
    breaker, _ = make(threshold=3)
    fail(breaker, times=2)
    breaker.before_call()
    breaker.record(None, probe=False)
    assert breaker.consecutive_failures == 0
    fail(breaker, times=2)
    assert breaker.state == "closed"
    fail(breaker)
    assert breaker.state == "open"


@pytest.mark.parametrize(
    "error",
    [
        ValidationError("bad request"),
        ConditionFailed("condition false"),
        TransportError("no credentials"),  # not retryable: says nothing about the service
        DynamoDBError("x", code="Odd", http_status=400),
        CircuitOpenError("another breaker"),
        RuntimeError("a bug of ours"),
    ],
    ids=["validation", "condition", "transport-not-retryable", "4xx", "circuit-open", "runtime"],
)
def test_a_non_retryable_error_counts_as_a_success(error):
    assert not is_retryable(error)
    breaker, _ = make(threshold=3)
    fail(breaker, times=2)
    fail(breaker, error)
    assert breaker.consecutive_failures == 0
    assert breaker.state == "closed"
    fail(breaker, times=2)
    assert breaker.state == "closed"
    fail(breaker, error, times=10)
    assert breaker.state == "closed"
    assert breaker.opened == 0


# --- open: fail fast -----------------------------------------------------------------


def test_an_open_breaker_fails_fast_and_counts_rejections():
    breaker, clock = open_breaker(threshold=3, cooldown=10.0)
    seen = []
    for step in range(4):
        with pytest.raises(CircuitOpenError) as caught:
            breaker.before_call()
        seen.append(caught.value.retry_after)
        assert breaker.rejected == step + 1
        clock.advance(2.0)
    assert seen == pytest.approx([10.0, 8.0, 6.0, 4.0])
    assert breaker.state == "open"
    assert breaker.opened == 1


def test_circuit_open_error_is_a_non_retryable_transport_error():
    breaker, _ = open_breaker()
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    error = caught.value
    assert isinstance(error, TransportError)
    assert error.retryable is False
    assert not is_retryable(error)
    assert "3 failed calls" in str(error)
    assert "10.0 s" in str(error)


def test_the_cooldown_starts_when_the_breaker_opens():
    breaker, clock = make(threshold=2, cooldown=10.0)
    fail(breaker)
    clock.advance(7.0)  # time before the opening does not count
    fail(breaker)
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert caught.value.retry_after == pytest.approx(10.0)
    clock.advance(9.99)
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert caught.value.retry_after == pytest.approx(0.01)


# --- half-open: one probe ------------------------------------------------------------


def test_after_the_cooldown_exactly_one_probe_passes():
    breaker, clock = open_breaker(cooldown=10.0)
    clock.advance(10.0)
    assert breaker.before_call() is True
    assert breaker.state == "half-open"
    for step in range(5):
        with pytest.raises(CircuitOpenError) as caught:
            breaker.before_call()
        assert caught.value.retry_after == 10.0  # a probe is out: about a cool-down, not 0
        assert breaker.rejected == step + 1
        clock.advance(100.0)  # time alone does not free another probe


def test_a_successful_probe_closes_the_breaker():
    breaker, clock = open_breaker(cooldown=10.0)
    clock.advance(10.5)
    probe = breaker.before_call()
    assert probe is True
    breaker.record(None, probe=probe)
    assert breaker.state == "closed"
    assert breaker.consecutive_failures == 0
    for _ in range(5):
        assert breaker.before_call() is False
    assert (breaker.opened, breaker.rejected) == (1, 0)


def test_a_probe_answered_with_a_non_retryable_error_closes_the_breaker():
    breaker, clock = open_breaker()
    clock.advance(10.0)
    probe = breaker.before_call()
    breaker.record(ValidationError("bad"), probe=probe)
    assert breaker.state == "closed"
    assert breaker.before_call() is False


def test_a_failed_probe_reopens_the_breaker_for_a_new_cooldown():
    breaker, clock = open_breaker(threshold=3, cooldown=10.0)
    clock.advance(12.0)
    probe = breaker.before_call()
    clock.advance(1.0)  # the probe takes a second to fail
    breaker.record(throttled(), probe=probe)
    assert breaker.state == "open"
    assert breaker.opened == 2
    assert breaker.consecutive_failures == 4
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert caught.value.retry_after == pytest.approx(10.0)
    clock.advance(10.0)
    assert breaker.before_call() is True  # the next probe
    breaker.record(None, probe=True)
    assert breaker.state == "closed"
    assert breaker.opened == 2


def test_a_released_probe_lets_another_probe_through():
    breaker, clock = open_breaker()
    clock.advance(10.0)
    assert breaker.before_call() is True
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    breaker.release(probe=True)  # cancelled: no verdict
    assert breaker.state == "half-open"
    assert breaker.before_call() is True
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    assert breaker.opened == 1


def test_releasing_a_non_probe_changes_nothing():
    breaker, clock = open_breaker()
    clock.advance(10.0)
    assert breaker.before_call() is True
    breaker.release(probe=False)
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    closed, _ = make()
    closed.before_call()
    closed.release(probe=False)
    assert (closed.state, closed.consecutive_failures) == ("closed", 0)


def test_cooldown_zero_goes_half_open_at_once():
    breaker, _ = open_breaker(threshold=1, cooldown=0.0)
    assert breaker.before_call() is True
    with pytest.raises(CircuitOpenError) as caught:
        breaker.before_call()
    assert caught.value.retry_after == 0.1  # a probe is out: a short wait, never 0


def test_threshold_1_opens_on_the_first_failure():
    breaker, _ = make(threshold=1)
    fail(breaker)
    assert breaker.state == "open"
    assert breaker.opened == 1


def test_the_default_clock_is_monotonic_time():
    breaker = CircuitBreaker(threshold=1, cooldown=0.02)
    fail(breaker)
    with pytest.raises(CircuitOpenError):
        breaker.before_call()
    time.sleep(0.03)
    assert breaker.before_call() is True


# --- configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs",
    [
        pytest.param({"threshold": 0}, id="threshold-0"),
        pytest.param({"threshold": -3}, id="threshold-negative"),
        pytest.param({"threshold": 2.0}, id="threshold-float"),
        pytest.param({"threshold": True}, id="threshold-bool"),
        pytest.param({"threshold": None}, id="threshold-none"),
        pytest.param({"cooldown": -0.1}, id="cooldown-negative"),
        pytest.param({"cooldown": math.nan}, id="cooldown-nan"),
    ],
)
def test_invalid_configuration_is_refused(kwargs):
    with pytest.raises(ValidationError):
        CircuitBreaker(**kwargs)


# --- wired into Transport.call (faults injected at our Transport layer) -------------


class ScriptedTransport(Transport):
    """A Transport whose `_send` plays a script instead of talking to DynamoDB."""

    def __init__(self, *outcomes: Any, policy: RetryPolicy, breaker: CircuitBreaker | None) -> None:
        super().__init__(ClientConfig(), retry_policy=policy, breaker=breaker)
        self.outcomes = list(outcomes)
        self.sends = 0
        self.gate: asyncio.Event | None = None

    async def _send(self, operation, request, key):
        self.sends += 1
        if self.gate is not None:
            await self.gate.wait()
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        return outcome


def fast_policy(attempts: int = 3) -> RetryPolicy:
    return RetryPolicy(attempts=attempts, base=0.0001, max_backoff=0.0005)


async def test_a_call_counts_once_in_the_breaker_however_many_retries_it_made():
    breaker, _ = make(threshold=2)
    policy = fast_policy(attempts=3)
    transport = ScriptedTransport(dropped(), policy=policy, breaker=breaker)
    with pytest.raises(TransportError):
        await transport.call("GetItem", {"TableName": "t"})
    assert transport.sends == 3
    assert (breaker.consecutive_failures, breaker.state) == (1, "closed")
    with pytest.raises(TransportError):
        await transport.call("GetItem", {"TableName": "t"})
    assert (breaker.consecutive_failures, breaker.state) == (2, "open")
    with pytest.raises(CircuitOpenError):
        await transport.call("GetItem", {"TableName": "t"})
    assert transport.sends == 6  # failed fast: nothing sent
    assert (policy.retries, policy.gave_up, breaker.rejected) == (4, 2, 1)


async def test_a_call_that_succeeds_on_a_retry_is_a_success_for_the_breaker():
    breaker, _ = make(threshold=2)
    transport = ScriptedTransport(dropped(), policy=fast_policy(attempts=3), breaker=breaker)
    with pytest.raises(TransportError):
        await transport.call("GetItem", {})
    transport.outcomes = [throttled(), {"Item": {}}]
    assert await transport.call("GetItem", {}) == {"Item": {}}
    assert breaker.consecutive_failures == 0


async def test_a_validation_error_through_the_transport_does_not_open_the_breaker():
    breaker, _ = make(threshold=1)
    policy = fast_policy()
    transport = ScriptedTransport(ValidationError("bad"), policy=policy, breaker=breaker)
    for _ in range(5):
        with pytest.raises(ValidationError):
            await transport.call("GetItem", {})
    assert transport.sends == 5
    assert breaker.state == "closed"
    assert (policy.retries, breaker.opened) == (0, 0)


async def test_a_probe_through_the_transport_closes_or_reopens_the_breaker():
    breaker, clock = make(threshold=1, cooldown=5.0)
    transport = ScriptedTransport(dropped(), policy=fast_policy(attempts=2), breaker=breaker)
    with pytest.raises(TransportError):
        await transport.call("GetItem", {})
    clock.advance(5.0)
    with pytest.raises(TransportError):  # the probe, retried too, still fails
        await transport.call("GetItem", {})
    assert transport.sends == 4
    assert (breaker.state, breaker.opened) == ("open", 2)
    clock.advance(5.0)
    transport.outcomes = [{"ok": 1}]
    assert await transport.call("GetItem", {}) == {"ok": 1}
    assert breaker.state == "closed"


async def test_a_cancelled_probe_is_released():
    breaker, clock = make(threshold=1, cooldown=5.0)
    transport = ScriptedTransport(dropped(), policy=fast_policy(), breaker=breaker)
    with pytest.raises(TransportError):
        await transport.call("GetItem", {})
    clock.advance(5.0)
    transport.gate = asyncio.Event()  # the probe hangs
    probe = asyncio.create_task(transport.call("GetItem", {}))
    await asyncio.sleep(0.01)
    assert breaker.state == "half-open"
    with pytest.raises(CircuitOpenError):  # the probe is in flight
        await transport.call("GetItem", {})
    probe.cancel()
    with pytest.raises(asyncio.CancelledError):
        await probe
    assert breaker.state == "half-open"  # no verdict
    assert breaker.opened == 1
    transport.gate = None
    transport.outcomes = [{"ok": 1}]
    assert await transport.call("GetItem", {}) == {"ok": 1}  # a new probe went through
    assert breaker.state == "closed"


async def test_a_cancelled_call_is_not_counted_as_a_failure():
    breaker, _ = make(threshold=1)
    transport = ScriptedTransport({"ok": 1}, policy=fast_policy(), breaker=breaker)
    transport.gate = asyncio.Event()
    task = asyncio.create_task(transport.call("GetItem", {}))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert (breaker.state, breaker.consecutive_failures) == ("closed", 0)


async def test_without_a_breaker_calls_are_only_retried():
    policy = fast_policy(attempts=2)
    transport = ScriptedTransport(dropped(), policy=policy, breaker=None)
    for _ in range(20):
        with pytest.raises(TransportError) as caught:
            await transport.call("GetItem", {})
        assert not isinstance(caught.value, CircuitOpenError)
    assert transport.sends == 40
    assert (policy.retries, policy.gave_up) == (20, 20)


def test_a_transport_has_no_breaker_and_the_configured_attempts_by_default():
    transport = Transport(ClientConfig(max_attempts=4))
    assert transport.breaker is None
    assert transport.retry_policy.attempts == 4


def test_after_a_later_cooldown_a_probe_passes_even_if_an_old_probe_is_in_flight():
    breaker, clock = make(threshold=2, cooldown=5.0)
    assert breaker.before_call() is False  # a, b, c start while closed
    assert breaker.before_call() is False
    assert breaker.before_call() is False
    breaker.record(dropped(), probe=False)  # a and b fail: open
    breaker.record(dropped(), probe=False)
    clock.advance(5.0)
    assert breaker.before_call() is True  # the probe starts, and hangs (read timeout...)
    breaker.record(None, probe=False)  # c, sent before the opening, succeeds: closed
    assert breaker.state == "closed"
    fail(breaker, times=2)  # the service fails again: open
    assert breaker.state == "open"
    clock.advance(5.0)  # a full cool-down later, one probe should go through
    assert breaker.before_call() is True


# --- property: the breaker against a reference model ---------------------------------


class Model:
    """The breaker as documented, written as "open until" rather than "opened at".

    Results of calls let through in an earlier state (a success arriving after the
    breaker opened, say) are counted as the implementation counts them: any success
    closes it, any retryable failure (re)opens it once the threshold is reached.
    """

    def __init__(self, threshold: int, cooldown: float) -> None:
        self.threshold = threshold
        self.cooldown = cooldown
        self.state = "closed"
        self.failures = 0
        self.open_until = 0.0
        self.probe_out = False
        self.opened = 0
        self.rejected = 0

    def before_call(self, now: float) -> bool | float:
        """True/False: let through (probe or not); a float: rejected, retry_after."""
        if self.state == "closed":
            return False
        if self.state == "open" and now >= self.open_until:
            self.state = "half-open"
        if self.state == "half-open" and not self.probe_out:
            self.probe_out = True
            return True
        self.rejected += 1
        if self.state == "half-open":
            return max(self.cooldown, 0.1)
        return self.open_until - now

    def record(self, now: float, outcome: str, probe: bool) -> None:
        probe = probe and self.probe_out  # a probe of an earlier opening is late
        if probe:
            self.probe_out = False
        if outcome != "retryable":
            self.failures = 0
            self.state = "closed"
            self.probe_out = False  # a probe still out is only a late call now
            return
        if not probe and self.state != "closed":
            return  # a late failure: no news, no new cool-down
        self.failures += 1
        if probe or self.failures >= self.threshold:
            if self.state != "open":
                self.opened += 1
            self.state = "open"
            self.open_until = now + self.cooldown
            self.probe_out = False  # the next cool-down has a probe of its own

    def release(self, probe: bool) -> None:
        if probe:
            self.probe_out = False


OUTCOMES = {
    "success": lambda: None,
    "retryable": dropped,
    "throttled": throttled,
    "fatal": lambda: ValidationError("bad"),
}


class BreakerMachine(RuleBasedStateMachine):
    """Calls start (before_call), stay in flight, and end (record/release) in any
    order, while the clock moves; the breaker must match the model at every step."""

    calls = Bundle("calls")

    def __init__(self) -> None:
        super().__init__()
        self.clock = FakeClock()
        self.breaker: CircuitBreaker | None = None
        self.model: Model | None = None
        # Calls let through: [probe?, the breaker's opening count when let through].
        self.in_flight: list[list[Any]] = []

    @precondition(lambda self: self.breaker is None)
    @rule(threshold=st.integers(1, 4), cooldown=st.sampled_from([0.0, 1.0, 5.0]))
    def configure(self, threshold, cooldown):
        self.breaker = CircuitBreaker(threshold=threshold, cooldown=cooldown, clock=self.clock)
        self.model = Model(threshold, cooldown)

    @precondition(lambda self: self.breaker is not None)
    @rule(target=calls)
    def start_call(self):
        expected = self.model.before_call(self.clock.now)
        if isinstance(expected, bool):
            probe = self.breaker.before_call()
            assert probe is expected
            call = [probe, self.breaker.opened]
            self.in_flight.append(call)
            return call
        with pytest.raises(CircuitOpenError) as caught:
            self.breaker.before_call()
        assert caught.value.retry_after == pytest.approx(expected)
        assert 0.0 <= caught.value.retry_after <= max(self.model.cooldown, 0.1)
        return None  # rejected: nothing to end

    @precondition(lambda self: self.breaker is not None)
    @rule(call=consumes(calls), outcome=st.sampled_from(sorted(OUTCOMES)))
    def end_call(self, call, outcome):
        if call is None:
            return
        self.in_flight = [c for c in self.in_flight if c is not call]
        error = OUTCOMES[outcome]()
        self.breaker.record(error, probe=call[0])
        kind = "retryable" if error is not None and is_retryable(error) else "ok"
        self.model.record(self.clock.now, kind, call[0])

    @precondition(lambda self: self.breaker is not None)
    @rule(call=consumes(calls))
    def cancel_call(self, call):
        if call is None:
            return
        self.in_flight = [c for c in self.in_flight if c is not call]
        self.breaker.release(probe=call[0])
        self.model.release(call[0])

    @precondition(lambda self: self.breaker is not None)
    @rule(seconds=st.sampled_from([0.25, 0.5, 1.0, 2.5, 5.0]))
    def advance(self, seconds):
        self.clock.advance(seconds)

    @invariant()
    def matches_the_model(self):
        if self.breaker is None:
            return
        b, m = self.breaker, self.model
        assert b.state == m.state
        assert b.consecutive_failures == m.failures
        assert (b.opened, b.rejected) == (m.opened, m.rejected)

    @invariant()
    def at_most_one_probe_per_opening(self):
        # A probe of an earlier opening may still be out (a late call); the current
        # opening lets at most one through.
        if self.breaker is None:
            return
        current = [c for c in self.in_flight if c[0] and c[1] == self.breaker.opened]
        assert len(current) <= 1


BreakerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestBreakerAgainstModel = BreakerMachine.TestCase
