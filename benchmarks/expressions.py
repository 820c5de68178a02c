"""Building requests: compiling conditions and planning queries, against boto3.

boto3's `ConditionExpressionBuilder` (behind `Key(...)`/`Attr(...)` in its resource
API) is the peer: it also turns condition objects into expression text and
placeholder maps. Ours also resolves Python names to stored names and converts
values with each field's type. "emit" is our compile without the template cache.
"""

from __future__ import annotations

import datetime as dt
import itertools

import attrs
from boto3.dynamodb.conditions import Attr, ConditionExpressionBuilder, Key

from benchmarks._harness import Cases, run
from dynamorm_async import Database, GlobalIndex, Mapper, attr, size
from dynamorm_async.expressions import Condition, Params
from dynamorm_async.query import _plan

UTC = dt.timezone.utc


@attrs.define
class Order:
    """An order with a GSI on status."""

    customer: str
    number: int
    status: str
    total: int
    placed: dt.datetime
    tags: frozenset[str] = frozenset()


orders = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="number",
    indexes=[GlobalIndex("by-status", partition_key="status", sort_key="placed")],
)


def _cases() -> Cases:
    counter = itertools.count()
    builder = ConditionExpressionBuilder()
    # Not opened: planning sends nothing.
    repo = Database.connect("http://127.0.0.1:9", region_name="us-east-1").repository(orders)

    def ours() -> object:
        n = next(counter)
        condition = (attr("status") == f"s{n}") & (attr("total") > n) & attr("tags").contains("x")
        return condition.compile(orders, Params())

    def ours_emit() -> object:
        n = next(counter)
        condition = (attr("status") == f"s{n}") & (attr("total") > n) & attr("tags").contains("x")
        return condition.emit(orders, Params())

    def large(n: int) -> Condition:
        return (
            (attr("status") == f"s{n}")
            & (attr("total") > n)
            & attr("tags").contains("x")
            & ((attr("customer") == "a") | attr("number").between(1, n) | ~attr("placed").exists())
            & attr("status").is_in(["a", "b", "c", f"d{n}"])
            & (size("tags") > 3)
            & attr("customer").begins_with("x")
        )

    def boto3_large(n: int) -> object:
        return builder.build_expression(
            Attr("status").eq(f"s{n}")
            & Attr("total").gt(n)
            & Attr("tags").contains("x")
            & (Attr("customer").eq("a") | Attr("number").between(1, n) | ~Attr("placed").exists())
            & Attr("status").is_in(["a", "b", "c", f"d{n}"])
            & Attr("tags").size().gt(3)
            & Attr("customer").begins_with("x")
        )

    def boto3_condition() -> object:
        n = next(counter)
        condition = Attr("status").eq(f"s{n}") & Attr("total").gt(n) & Attr("tags").contains("x")
        return builder.build_expression(condition)

    def ours_plan() -> object:
        n = next(counter)
        since = dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=n)
        return (
            repo.where("status", "=", "open")
            .where(attr("placed") >= since)
            .filter(attr("total") > n)
            .plan()
            .request
        )

    def ours_plan_uncached() -> object:
        _plan._choices.clear()  # every plan chooses its index again
        return ours_plan()

    def boto3_query() -> object:
        n = next(counter)
        since = (dt.datetime(2026, 1, 1, tzinfo=UTC) + dt.timedelta(seconds=n)).isoformat()
        key = builder.build_expression(
            Key("status").eq("open") & Key("placed").gte(since), is_key_condition=True
        )
        flt = builder.build_expression(Attr("total").gt(n))
        return key, flt

    return {
        "compile a 3-part condition": {
            "dynamorm_async": ours,
            "dynamorm_async, no cache": ours_emit,
            "boto3 ConditionExpressionBuilder": boto3_condition,
        },
        "compile an 8-part condition": {
            "dynamorm_async": lambda: large(next(counter)).compile(orders, Params()),
            "dynamorm_async, no cache": lambda: large(next(counter)).emit(orders, Params()),
            "boto3 ConditionExpressionBuilder": lambda: boto3_large(next(counter)),
        },
        "plan a GSI query + filter": {
            "dynamorm_async": ours_plan,
            "dynamorm_async, no plan cache": ours_plan_uncached,
            "boto3 builder (no index choice)": boto3_query,
        },
    }


def main(rounds: int = 15) -> None:
    """Run every case, interleaved round by round, and print medians and ratios."""
    run(_cases(), "dynamorm_async", rounds)


if __name__ == "__main__":
    main()
