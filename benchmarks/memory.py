"""Memory of a large query: streamed with ``async for``, against ``await query.all()``.

``python -m benchmarks.memory``. The canned server's ``stream`` table answers a
`STREAM_ITEMS`-item Query in pages of `STREAM_PAGE` items (see `benchmarks._canned`).
Streaming decodes the page in hand while the next one is fetched, so its resident
memory should stay flat: bounded by the page size, not by the size of the result. ``.all()`` holds every item, for contrast.

Each case runs in a fresh interpreter (``python -m benchmarks.memory --case stream``
or ``--case all``, which print one JSON line), because the peak RSS is a process-wide
high-water mark and would otherwise carry over from one case to the other. RSS is
read from ``/proc/self/status`` (``VmRSS`` now, ``VmHWM`` the peak), or else from
``getrusage`` (the peak only).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks._canned import STREAM_ITEMS, STREAM_PAGE, running_canned_server
from benchmarks.calls import Order
from dynamorm_async import Database, Mapper
from dynamorm_async.testing import LOCAL_CREDENTIALS

#: The streamed items after which RSS is sampled.
EVERY = 10_000
#: The samples shown in the table.
SHOWN = (10_000, 50_000, 100_000)
CASES = ("stream", "all")

stream_orders = Mapper(Order, table="stream", partition_key="pk", sort_key="sk")


def _status(field: str) -> int | None:
    """A ``/proc/self/status`` figure in bytes (``VmRSS``, ``VmHWM``), if there is one."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def rss() -> int | None:
    """This process's resident memory now, in bytes (``None`` without ``/proc``)."""
    return _status("VmRSS")


def peak_rss() -> int:
    """This process's highest resident memory so far, in bytes."""
    peak = _status("VmHWM")
    if peak is not None:
        return peak
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maxrss if sys.platform == "darwin" else maxrss * 1024  # bytes there, KB here


async def run_case(case: str) -> dict[str, Any]:
    """Read the `STREAM_ITEMS` items one way (``stream`` or ``all``); the figures."""
    with running_canned_server() as url:
        async with Database.connect(url, mappers=[stream_orders], **LOCAL_CREDENTIALS) as db:
            query = db.repository(stream_orders).where("pk", "=", "customer#42")
            first = await query.first()  # warm up: connection, botocore's model, codecs
            assert first is not None
            assert first.sk == 0
            result: dict[str, Any] = {"case": case, "start": rss(), "samples": {}}
            began = time.perf_counter()
            if case == "stream":
                count = 0
                async for order in query:
                    assert order.sk == count  # every item, in order
                    count += 1
                    if count % EVERY == 0:
                        result["samples"][count] = rss()
            else:
                orders = await query.all()
                count = len(orders)
                assert orders[-1].sk == count - 1
                result["samples"][count] = rss()
            result["seconds"] = time.perf_counter() - began
            result["items"] = count
            result["peak"] = peak_rss()
    return result


def _measure(case: str) -> dict[str, Any]:
    """Run `case` in a fresh interpreter and return what it printed."""
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--case", case],
        cwd=root,
        check=True,
        stdout=subprocess.PIPE,
        text=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    result["samples"] = {int(k): v for k, v in result["samples"].items()}
    return result


def _mb(value: int | None) -> str:
    """Bytes as MiB for the table; ``—`` for no figure."""
    return "—" if value is None else f"{value / 2**20:.1f}"


def main(argv: list[str] | None = None) -> None:
    """Run both cases, each in its own interpreter, and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", choices=CASES, help="run one case here; print JSON")
    args = parser.parse_args(argv)
    if args.case:
        print(json.dumps(asyncio.run(run_case(args.case))))
        return
    results = [_measure(case) for case in CASES]
    print(
        f"Query of {STREAM_ITEMS:,} items in pages of {STREAM_PAGE:,}, each case in a fresh "
        "interpreter; RSS in MiB"
    )
    names = {"stream": "async for (streamed)", "all": "await .all()"}
    after = [f"after {n // 1000}k" for n in SHOWN]
    print(
        f"{'case':<21} {'items':>7} {'start':>7} "
        + " ".join(f"{a:>10}" for a in after)
        + f" {'peak':>7} {'peak-start':>10} {'seconds':>8} {'items/s':>8}"
    )
    for r in results:
        shown = [
            _mb(r["samples"].get(n)) if r["case"] == "stream" or n == r["items"] else "—"
            for n in SHOWN
        ]
        growth = r["peak"] - r["start"] if r["start"] is not None else None
        print(
            f"{names[r['case']]:<21} {r['items']:>7} {_mb(r['start']):>7} "
            + " ".join(f"{s:>10}" for s in shown)
            + f" {_mb(r['peak']):>7} {_mb(growth):>10} {r['seconds']:>8.1f}"
            f" {r['items'] / r['seconds']:>8.0f}"
        )
    stream = results[0]["samples"]
    if stream:
        values = [v for v in stream.values() if v is not None]
        if values:
            print(
                f"streamed: RSS sampled every {EVERY:,} items ranged "
                f"{_mb(min(values))} to {_mb(max(values))} MiB"
            )


if __name__ == "__main__":
    main()
