"""Interleaved timing: every implementation of a case runs once per round, so the
machine's noise hits all of them alike; medians and same-run ratios are printed."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

Cases = dict[str, dict[str, Callable[[], Any]]]


def time_call(fn: Callable[[], Any], budget: float = 0.02) -> float:
    """Seconds per call, measured over about `budget` seconds."""
    loops = 1
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            fn()
        elapsed = time.perf_counter() - start
        if elapsed >= budget:
            return elapsed / loops
        loops *= 2


def run(cases: Cases, baseline: str, rounds: int) -> None:
    """Time every case, round by round; ratios are to the `baseline` implementation."""
    print(f"{'case':<28} {'implementation':<30} {'µs/call':>10} {'ratio':>8}")
    for case, impls in cases.items():
        samples: dict[str, list[float]] = {name: [] for name in impls}
        for _ in range(rounds):
            for name, fn in impls.items():
                samples[name].append(time_call(fn))
        ours = statistics.median(samples[baseline])
        for name, values in samples.items():
            median = statistics.median(values)
            print(f"{case:<28} {name:<30} {median * 1e6:>10.1f} {median / ours:>7.2f}x")
