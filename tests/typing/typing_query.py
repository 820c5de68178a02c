"""Static checks of queries and scans, run by ``mypy --strict tests/typing``."""

from __future__ import annotations

from typing import Any

import attrs
from typing_extensions import assert_type

from dynamorm_async import (
    Database,
    Explain,
    GlobalIndex,
    Mapper,
    Page,
    Query,
    Scan,
    attr,
    if_not_exists,
    size,
    where,
)
from dynamorm_async.expressions import Arithmetic, Compare, Condition, IfNotExists, ListAppend, Size


@attrs.define
class Order:
    customer: str
    number: int
    status: str
    total: int = 0


orders = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="number",
    indexes=[GlobalIndex("by-status", partition_key="status")],
)

assert_type(size("tags"), Size)
assert_type(size("tags") > 2, Compare)
assert_type(where("total", "<", 20), Condition)
assert_type(attr("total") + 1, Arithmetic)
assert_type(if_not_exists("total", 0), IfNotExists)
assert_type(attr("items").append([1]), ListAppend)


async def queries(db: Database) -> None:
    repo = db.repository(orders)
    query = repo.where("customer", "=", "c1").where(attr("number") > 3)
    assert_type(query, Query[Order])
    assert_type(query.filter(attr("total") > 1).limit(3).order(descending=True), Query[Order])
    assert_type(await query.all(), list[Order])
    assert_type(await query.first(), Order | None)
    assert_type(await query.count(), int)
    page = await query.page(size=10)
    assert_type(page, Page[Order])
    assert_type(page.items, list[Order])
    assert_type(page.next_cursor, str | None)
    assert_type(query.explain(), Explain)
    assert_type(await query.as_dicts().all(), list[dict[str, Any]])
    async for order in query:
        assert_type(order, Order)

    scan = repo.scan(segments=4)
    assert_type(scan, Scan[Order])
    assert_type(scan.filter(attr("total") > 1), Scan[Order])
    assert_type(await scan.all(), list[Order])
    assert_type(await scan.as_dicts().first(), dict[str, Any] | None)
    assert_type(db.model(Order).where("status", "=", "open"), Query[Order])
