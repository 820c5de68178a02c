"""Retries and the circuit breaker: how every call copes with a struggling service.

`RetryPolicy` (tenacity underneath) retries what may succeed on a second try,
throttling, 5xx, conflicts and dropped connections, with exponential backoff and
full jitter, within an attempt and a time budget. Validation and condition errors
are never retried. `CircuitBreaker` counts calls that failed in a row (after their
retries); past a threshold it fails calls fast for a cool-down, then lets one probe
through, and closes again when the probe succeeds.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Literal, TypeVar

import attrs
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
    wait_random_exponential,
)
from tenacity.stop import stop_base

from dynamorm_async.errors import (
    CircuitOpenError,
    DynamoDBError,
    DynamORMError,
    ThrottledError,
    TransportError,
    ValidationError,
)

__all__ = ["CircuitBreaker", "RetryPolicy", "is_retryable"]

R = TypeVar("R")

#: Error codes worth a second try besides throttling and HTTP 5xx.
RETRYABLE_CODES = frozenset(
    {
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionConflictException",
        "TransactionInProgressException",
    }
)


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 1


def is_retryable(error: BaseException) -> bool:
    """Whether `error` may go away on its own: throttling, 5xx, conflicts, connections."""
    if isinstance(error, CircuitOpenError):
        return False
    if isinstance(error, ThrottledError):
        return True
    if isinstance(error, DynamoDBError):
        return error.code in RETRYABLE_CODES or (error.http_status or 0) >= 500
    if isinstance(error, TransportError):
        return error.retryable
    return False


@attrs.define
class RetryPolicy:
    """How calls are retried: exponential backoff with full jitter, within budgets.

    Attributes:
        attempts: tries per call, the first included (1: no retry).
        base: the first backoff's upper bound, in seconds; each retry doubles it.
        max_backoff: the largest backoff, in seconds.
        deadline: seconds after which a call is not retried any more (``None``: no limit).
        retries: how many retries were made, over the policy's life.
        gave_up: how many calls still failed after their last retryable error.
    """

    attempts: int = 3
    base: float = 0.05
    max_backoff: float = 5.0
    deadline: float | None = None
    retries: int = attrs.field(default=0, init=False)
    gave_up: int = attrs.field(default=0, init=False)

    def __attrs_post_init__(self) -> None:
        if not _positive_int(self.attempts):
            raise ValidationError(f"attempts must be an int >= 1, not {self.attempts!r}")
        if not 0 < self.base <= self.max_backoff:
            raise ValidationError("a RetryPolicy needs 0 < base <= max_backoff")
        if self.deadline is not None and not self.deadline > 0:  # NaN fails too
            raise ValidationError(f"deadline must be > 0 seconds or None, not {self.deadline!r}")

    def retrying(
        self,
        attempts: int | None = None,
        retry_if: Callable[[BaseException], bool] | None = None,
        deadline: float | None = None,
    ) -> AsyncRetrying:
        """A tenacity controller with this policy's backoff: for one call by default,
        or for other loops (a batch's unprocessed items) with their own budget."""
        count = self.attempts if attempts is None else attempts
        if not _positive_int(count):
            raise ValidationError(f"attempts must be an int >= 1, not {count!r}")
        stop: stop_base = stop_after_attempt(count)
        deadline = deadline if deadline is not None else self.deadline
        if deadline is not None:
            # Not "after the deadline": no retry may *start* past it, backoff included.
            stop = stop | stop_before_delay(deadline)
        return AsyncRetrying(
            stop=stop,
            wait=wait_random_exponential(multiplier=self.base, max=self.max_backoff),
            retry=retry_if_exception(retry_if or is_retryable),
            before_sleep=self._count_retry,
            reraise=True,
        )

    def _count_retry(self, state: RetryCallState) -> None:
        self.retries += 1

    async def call(
        self,
        fn: Callable[[], Awaitable[R]],
        retry_if: Callable[[BaseException], bool] | None = None,
    ) -> R:
        """Run `fn`, retrying it on retryable errors (or those `retry_if` accepts).

        Like the AWS SDKs, every call is retried, writes included: a write whose
        response was lost may be applied twice, which puts, deletes and SETs survive;
        transactions carry a ClientRequestToken so that DynamoDB applies them once.
        An error raised after retries has ``attempts`` set to the tries made.
        """
        started = time.monotonic()
        try:
            return await fn()  # the usual case: no retry machinery at all
        except Exception as exc:
            failed: Exception | None = exc
        # The first try failed: tenacity takes over, from that failure, with the time
        # it took already spent from the deadline.
        deadline = self.deadline
        if deadline is not None:
            deadline = max(deadline - (time.monotonic() - started), 1e-9)
        tries = 1
        try:
            async for attempt in self.retrying(retry_if=retry_if, deadline=deadline):
                with attempt:
                    if failed is not None:
                        error, failed = failed, None
                        raise error
                    tries += 1
                    return await fn()
        except Exception as exc:
            if isinstance(exc, DynamORMError):
                exc.attempts = tries
            if is_retryable(exc):
                self.gave_up += 1
            raise
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises


State = Literal["closed", "open", "half-open"]


@attrs.define
class CircuitBreaker:
    """Fails calls fast after `threshold` calls in a row failed, for `cooldown` seconds.

    After the cool-down one probe call goes through (the others still fail fast);
    its success closes the breaker, its failure opens it again. Only failures that
    say the service is struggling count (throttling, 5xx, connections); a validation
    or condition error is an answer, and closes the count like a success.

    Attributes:
        threshold: failed calls in a row that open the breaker.
        cooldown: seconds the breaker stays open before letting a probe through.
        clock: the time source (``time.monotonic``; tests pass their own).
        state: ``"closed"``, ``"open"`` or ``"half-open"``.
        consecutive_failures: failed calls since the last success.
        opened: how many times the breaker has opened.
        rejected: how many calls it failed fast.
    """

    threshold: int = 10
    cooldown: float = 5.0
    clock: Callable[[], float] = attrs.field(default=time.monotonic, repr=False)
    state: State = attrs.field(default="closed", init=False)
    consecutive_failures: int = attrs.field(default=0, init=False)
    opened: int = attrs.field(default=0, init=False)
    rejected: int = attrs.field(default=0, init=False)
    _opened_at: float = attrs.field(default=0.0, init=False, repr=False)
    _probing: bool = attrs.field(default=False, init=False, repr=False)

    def __attrs_post_init__(self) -> None:
        if not _positive_int(self.threshold):
            raise ValidationError(f"threshold must be an int >= 1, not {self.threshold!r}")
        if not self.cooldown >= 0:
            raise ValidationError(f"cooldown must be >= 0, not {self.cooldown!r}")

    def before_call(self) -> bool:
        """Let a call through, or raise `CircuitOpenError`; True if it is the probe."""
        if self.state == "closed":
            return False
        remaining = self._opened_at + self.cooldown - self.clock()
        if self.state == "open" and remaining <= 0:
            self.state = "half-open"
        if self.state == "half-open" and not self._probing:
            self._probing = True
            return True
        self.rejected += 1
        if self.state == "half-open":  # a probe is out: its answer takes a while
            wait, retry_after = "a probe call is being made", max(self.cooldown, 0.1)
        else:
            wait, retry_after = f"calls fail fast for {remaining:.1f} s more", remaining
        raise CircuitOpenError(
            f"the circuit breaker is open after {self.consecutive_failures} failed calls in "
            f"a row; {wait}",
            retry_after=retry_after,
        )

    def release(self, *, probe: bool) -> None:
        """A call let through ended without a verdict (it was cancelled)."""
        if probe:
            self._probing = False

    def record(self, error: BaseException | None, *, probe: bool) -> None:
        """Count the outcome of a call let through by `before_call`.

        A success closes the breaker whenever it comes. A failure counts only while
        the breaker is closed, or from the current probe: a late failure of a call let
        through before the breaker opened says nothing new, and must not restart the
        cool-down.
        """
        probe = probe and self._probing  # a probe of an earlier opening is a late call
        if probe:
            self._probing = False
        if error is None or not is_retryable(error):
            self.consecutive_failures = 0
            self.state = "closed"
            self._probing = False  # a probe still in flight is just a late call now
            return
        if not probe and self.state != "closed":
            return
        self.consecutive_failures += 1
        if probe or self.consecutive_failures >= self.threshold:
            if self.state != "open":
                self.opened += 1
            self.state = "open"
            self._opened_at = self.clock()
            self._probing = False  # the next cool-down gets a probe of its own
