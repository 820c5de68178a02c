"""Which table or index a query reads, checked by the items the server returns.

One table of orders with a GSI (``by-status``), a sparse GSI (``by-region``: its key
is an optional field), a GSI projecting one attribute (``status-totals``), an LSI
projecting everything (``by-created``) and a keys-only LSI (``by-rank``). The orders
are written once for the module (tables made by the plugin's `open_test_database`);
every test only reads them. Expected results are computed from the seeded objects.
"""

from __future__ import annotations

import operator

import attrs
import pytest
import pytest_asyncio
from _query_helpers import keys, seed, sent_requests

from dynamorm_async import (
    GlobalIndex,
    InvalidCursor,
    LocalIndex,
    Mapper,
    NoIndexForQuery,
    Projection,
    ValidationError,
    attr,
    size,
)
from dynamorm_async.testing.pytest_plugin import open_test_database


@attrs.define
class Order:
    customer: str
    sk: str  # a date, as text: "2024-01-03"
    status: str
    total: int
    created: int
    rank: int
    region: str | None = None  # only some orders have one: a sparse index
    note: str = ""
    tags: list[str] = attrs.Factory(list)


orders = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="sk",
    indexes=[
        GlobalIndex("by-status", partition_key="status", sort_key="total"),
        GlobalIndex("by-region", partition_key="region", sort_key="sk"),
        GlobalIndex(
            "status-totals", partition_key="status", projection=Projection.include("total")
        ),
        LocalIndex("by-created", sort_key="created"),
        LocalIndex("by-rank", sort_key="rank", projection="KEYS_ONLY"),
    ],
)

INDEX_NAMES = ("table", "by-status", "by-region", "status-totals", "by-created", "by-rank")


def _orders() -> list[Order]:
    out = []
    # (customer, orders, year, total offset): sort keys and totals are unique overall.
    for customer, count, year, offset in (
        ("c1", 12, 2024, 0),
        ("c2", 5, 2023, 3),
        ("c3", 3, 2022, 7),
    ):
        for i in range(1, count + 1):
            out.append(
                Order(
                    customer=customer,
                    sk=f"{year}-{1 if i <= 6 else 2:02d}-{i:02d}",
                    status=("open", "shipped", "cancelled")[i % 3],
                    total=i * 10 + offset,
                    created=100 - i,  # the LSI's order is the reverse of the table's
                    rank=i % 4,
                    region={0: "eu", 1: "us"}.get(i % 4),
                    note=f"note {i}",
                    tags=["x"] * (i % 4) + (["y"] if i % 2 else []),
                )
            )
    return out


ORDERS = _orders()
C1 = sorted((o for o in ORDERS if o.customer == "c1"), key=lambda o: o.sk)


def matching(predicate, *, of=ORDERS, by="sk"):
    return sorted((o for o in of if predicate(o)), key=operator.attrgetter(by))


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared_db(dynamorm_endpoint):
    db = await open_test_database(dynamorm_endpoint, [orders])
    try:
        await seed(db, orders, ORDERS)
        yield db
    finally:
        await db.schema.delete(orders, wait=False)
        await db.close()


@pytest.fixture
def repo(shared_db):
    return shared_db.repository(orders)


# --- the table: partition key, and every sort key operator ----------------------------


async def test_partition_key_only_returns_the_partition_in_sort_key_order(repo):
    q = repo.where("customer", "=", "c2")
    explain = q.explain()
    assert (explain.operation, explain.index, explain.filter) == ("Query", None, None)
    assert await q.all() == matching(lambda o: o.customer == "c2")
    assert await repo.query(attr("customer") == "c3").all() == matching(
        lambda o: o.customer == "c3"
    )


async def test_unknown_partition_is_empty(repo):
    q = repo.where("customer", "=", "nobody")
    assert await q.all() == []
    assert await q.first() is None
    assert await q.count() == 0
    page = await q.page(size=5)
    assert (page.items, page.next_cursor) == ([], None)


SORT_KEY_CASES = {
    "=": (("=", "2024-01-03"), attr("sk") == "2024-01-03", lambda s: s == "2024-01-03"),
    "<": (("<", "2024-01-03"), attr("sk") < "2024-01-03", lambda s: s < "2024-01-03"),
    "<=": (("<=", "2024-01-03"), attr("sk") <= "2024-01-03", lambda s: s <= "2024-01-03"),
    ">": ((">", "2024-02-10"), attr("sk") > "2024-02-10", lambda s: s > "2024-02-10"),
    ">=": ((">=", "2024-02-10"), attr("sk") >= "2024-02-10", lambda s: s >= "2024-02-10"),
    "between": (
        ("between", "2024-01-05", "2024-02-08"),
        attr("sk").between("2024-01-05", "2024-02-08"),
        lambda s: "2024-01-05" <= s <= "2024-02-08",
    ),
    "begins_with": (
        ("begins_with", "2024-02"),
        attr("sk").begins_with("2024-02"),
        lambda s: s.startswith("2024-02"),
    ),
}


@pytest.mark.parametrize("form", ["string", "attr"])
@pytest.mark.parametrize("case", list(SORT_KEY_CASES))
async def test_sort_key_operator(repo, case, form):
    args, condition, predicate = SORT_KEY_CASES[case]
    q = repo.where("customer", "=", "c1")
    q = q.where("sk", *args) if form == "string" else q.where(condition)
    explain = q.explain()
    assert explain.index is None
    assert explain.filter is None  # the sort key condition is part of the key condition
    assert explain.considered[0][1].startswith("chosen: key condition on customer = and sk ")
    expected = matching(lambda o: predicate(o.sk), of=C1)
    assert expected  # the case selects something, and not everything
    assert len(expected) < len(C1)
    assert await q.all() == expected
    assert await q.order(descending=True).all() == expected[::-1]


async def test_ge_and_le_on_the_sort_key_become_one_between(repo):
    q = (
        repo.where("customer", "=", "c1")
        .where("sk", ">=", "2024-01-04")
        .where("sk", "<=", "2024-02-09")
    )
    assert "BETWEEN" in q.explain().key_condition
    assert q.explain().filter is None
    assert await q.all() == matching(lambda o: "2024-01-04" <= o.sk <= "2024-02-09", of=C1)


async def test_descending_order(repo):
    q = repo.where("customer", "=", "c1").order(descending=True)
    assert q.explain().request["ScanIndexForward"] is False
    assert await q.all() == C1[::-1]
    assert await q.first() == C1[-1]
    assert await q.order(descending=False).all() == C1


# --- filters -----------------------------------------------------------------------------

FILTER_CASES = {
    "compare": (attr("total") > 60, lambda o: o.total > 60),
    "string-form": (("note", "begins_with", "note 1"), lambda o: o.note.startswith("note 1")),
    "between": (attr("total").between(30, 80), lambda o: 30 <= o.total <= 80),
    "size": (size("tags") > 2, lambda o: len(o.tags) > 2),
    "attribute_type": (attr("region").attribute_type("S"), lambda o: o.region is not None),
    "not_exists": (attr("region").not_exists(), lambda o: o.region is None),
    "contains": (attr("tags").contains("y"), lambda o: "y" in o.tags),
    "not-contains": (~attr("tags").contains("x"), lambda o: "x" not in o.tags),
    "is_in": (attr("status").is_in(["open", "cancelled"]), lambda o: o.status != "shipped"),
    "or": (
        (attr("status") == "open") | (attr("total") > 100),
        lambda o: o.status == "open" or o.total > 100,
    ),
}


@pytest.mark.parametrize("how", ["filter", "where"])
@pytest.mark.parametrize("case", list(FILTER_CASES))
async def test_condition_on_a_non_key_attribute_is_a_filter(repo, case, how):
    condition, predicate = FILTER_CASES[case]
    args = condition if isinstance(condition, tuple) else (condition,)
    q = getattr(repo.where("customer", "=", "c1"), how)(*args)
    explain = q.explain()
    assert explain.index is None  # the table serves it; the condition is a FilterExpression
    assert explain.filter is not None
    assert explain.key_condition.count(" AND ") == 0  # only the partition key equality
    expected = matching(predicate, of=C1)
    assert expected
    assert len(expected) < len(C1)
    assert await q.all() == expected
    assert await q.count() == len(expected)


async def test_filter_and_sort_key_condition_together(repo):
    q = (
        repo.where("customer", "=", "c1")
        .where("sk", "begins_with", "2024-01")
        .filter(size("tags") >= 2)
    )
    assert await q.all() == matching(
        lambda o: o.sk.startswith("2024-01") and len(o.tags) >= 2, of=C1
    )


async def test_where_on_gsi_partition_key_with_the_table_key_stays_on_the_table(repo):
    # Both the table and by-status fit; neither has its sort key constrained: the table wins.
    q = repo.where("customer", "=", "c1").where("status", "=", "open")
    explain = q.explain()
    assert explain.index is None
    assert explain.filter is not None
    assert await q.all() == matching(lambda o: o.status == "open", of=C1)


async def test_a_constrained_gsi_sort_key_wins_and_the_table_key_becomes_a_filter(repo):
    q = repo.where("customer", "=", "c1").where("status", "=", "open").where("total", ">", 50)
    explain = q.explain()
    assert explain.index == "by-status"
    assert explain.filter is not None  # customer = c1, a filter on the index
    assert await q.all() == matching(
        lambda o: o.customer == "c1" and o.status == "open" and o.total > 50, by="total"
    )


# --- global indexes ----------------------------------------------------------------------


async def test_gsi_chosen_automatically(repo):
    q = repo.where("status", "=", "shipped")
    explain = q.explain()
    assert explain.operation == "Query"
    assert explain.index == "by-status"
    assert explain.request["IndexName"] == "by-status"
    expected = matching(lambda o: o.status == "shipped", by="total")
    assert {o.customer for o in expected} == {"c1", "c2", "c3"}  # across partitions
    assert await q.all() == expected
    assert await q.order(descending=True).all() == expected[::-1]
    assert await q.count() == len(expected)
    assert await q.first() == expected[0]


async def test_gsi_with_its_sort_key_constrained(repo):
    q = repo.where("status", "=", "open").where(attr("total").between(25, 90))
    assert q.explain().index == "by-status"
    assert q.explain().filter is None
    assert await q.all() == matching(
        lambda o: o.status == "open" and 25 <= o.total <= 90, by="total"
    )


async def test_gsi_pages_follow_cursors(repo):
    q = repo.where("status", "=", "cancelled")
    expected = matching(lambda o: o.status == "cancelled", by="total")
    seen, cursor = [], None
    while True:
        page = await q.page(size=2, cursor=cursor)
        seen.extend(page.items)
        if page.next_cursor is None:
            break
        assert len(page.items) == 2
        cursor = page.next_cursor
    assert seen == expected


async def test_sparse_gsi_holds_only_items_with_the_key(repo):
    q = repo.where("region", "=", "eu")
    assert q.explain().index == "by-region"
    assert await q.all() == matching(lambda o: o.region == "eu")
    # A scan of the whole index: the orders without a region are not in it at all.
    whole = repo.scan().index("by-region")
    expected = matching(lambda o: o.region is not None)
    assert len(expected) < len(ORDERS)
    assert sorted(await whole.all(), key=lambda o: o.sk) == expected
    assert await whole.count() == len(expected)
    assert all([o.region is not None async for o in whole])


async def test_gsi_projecting_one_attribute_serves_only_what_it_holds(repo):
    hinted = repo.where("status", "=", "open").index("status-totals")
    with pytest.raises(NoIndexForQuery) as info:
        hinted.explain()  # objects need fields the index does not project
    assert "does not project" in str(info.value)
    rows = await hinted.project("total").as_dicts().all()
    expected = matching(lambda o: o.status == "open")
    # The table's and the index's keys are always read (a page can resume from them).
    assert sorted(rows, key=lambda r: r["sk"]) == [
        {"customer": o.customer, "sk": o.sk, "status": o.status, "total": o.total} for o in expected
    ]
    # Without a projection, dicts hold what the index projects: keys, status and total.
    rows = await hinted.as_dicts().all()
    assert sorted(rows, key=lambda r: r["sk"]) == [
        {"customer": o.customer, "sk": o.sk, "status": o.status, "total": o.total} for o in expected
    ]
    # A filter on an attribute the index does not project rules it out.
    with pytest.raises(NoIndexForQuery):
        hinted.project("total").as_dicts().filter(attr("note") == "note 3").explain()


# --- local indexes -----------------------------------------------------------------------


async def test_lsi_chosen_when_its_sort_key_is_constrained(repo):
    q = repo.where("customer", "=", "c1").where("created", ">=", 93)
    explain = q.explain()
    assert explain.index == "by-created"
    assert explain.filter is None
    expected = matching(lambda o: o.created >= 93, of=C1, by="created")
    assert [o.created for o in expected] == [93, 94, 95, 96, 97, 98, 99]
    assert await q.all() == expected
    assert await q.order(descending=True).all() == expected[::-1]
    assert await q.count() == 7


async def test_lsi_consistent_read(repo):
    q = repo.where("customer", "=", "c1").where("created", "<", 92).consistent()
    assert q.explain().index == "by-created"
    assert q.explain().request["ConsistentRead"] is True
    assert await q.all() == matching(lambda o: o.created < 92, of=C1, by="created")


async def test_keys_only_lsi_with_projected_fields(repo):
    # moto does not fetch what an LSI does not project (DynamoDB does): read only keys here.
    q = repo.where("customer", "=", "c1").where("rank", "=", 2).project("rank").as_dicts()
    assert q.explain().index == "by-rank"
    rows = await q.all()
    assert sorted(rows, key=lambda r: r["sk"]) == [
        {"customer": "c1", "sk": o.sk, "rank": 2} for o in C1 if o.rank == 2
    ]


async def test_lsi_pages_follow_cursors_in_index_order(repo):
    q = repo.where("customer", "=", "c1").index("by-created")
    seen, cursor = [], None
    for _ in range(10):
        page = await q.page(size=5, cursor=cursor)
        seen.extend(page.items)
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(C1, key=lambda o: o.created)


# --- index hints ---------------------------------------------------------------------------


async def test_index_hint_reads_that_index(repo):
    q = repo.where("customer", "=", "c1").index("by-created")
    assert q.explain().index == "by-created"
    items = await q.all()
    assert items == sorted(C1, key=lambda o: o.created)
    assert items != C1  # the LSI's order, not the table's
    # Without the hint the table serves the same conditions.
    assert repo.where("customer", "=", "c1").explain().index is None


async def test_index_hint_that_cannot_serve_raises_and_sends_nothing(repo, shared_db):
    q = repo.where("customer", "=", "c1").index("by-status")
    with sent_requests(shared_db) as sent:
        with pytest.raises(NoIndexForQuery) as info:
            await q.all()
        with pytest.raises(NoIndexForQuery):
            await q.allow_scan().all()  # a hint is never turned into a scan
    assert sent == []
    exc = info.value
    assert [name for name, _ in exc.rejected] == ["by-status"]
    assert "equality condition (=) on its partition key 'status'" in exc.rejected[0][1]
    assert "'by-status' cannot serve this query" in str(exc)


async def test_unknown_index_hint_is_a_validation_error(repo):
    with pytest.raises(ValidationError) as info:
        await repo.where("customer", "=", "c1").index("by-stat").all()
    assert type(info.value) is ValidationError
    assert "did you mean 'by-status'" in str(info.value)


async def test_consistent_read_on_a_gsi_is_refused(repo, shared_db):
    with sent_requests(shared_db) as sent:
        with pytest.raises(ValidationError) as info:
            await repo.where("status", "=", "open").consistent().all()
        assert isinstance(info.value, NoIndexForQuery)
        assert dict(info.value.rejected)["by-status"] == (
            "a global index does not support consistent reads"
        )
        with pytest.raises(ValidationError, match="consistent"):
            await repo.where("status", "=", "open").index("by-status").consistent().first()
        with pytest.raises(ValidationError, match="consistent"):
            await repo.scan().index("by-status").consistent().all()
    assert sent == []


async def test_consistent_read_on_the_table(repo, shared_db):
    q = repo.where("customer", "=", "c2").consistent()
    with sent_requests(shared_db) as sent:
        assert await q.all() == matching(lambda o: o.customer == "c2")
    assert [(op, params.get("ConsistentRead")) for op, params in sent] == [("Query", True)]


# --- no index: NoIndexForQuery, or a scan when allowed ---------------------------------------


async def test_no_index_for_query_sends_nothing(repo, shared_db):
    q = repo.where(attr("total") > 100)
    with sent_requests(shared_db) as sent:
        for run in (q.all, q.first, q.count, q.page):
            with pytest.raises(NoIndexForQuery) as info:
                await run()
        with pytest.raises(NoIndexForQuery):
            async for _ in q:
                pass
    assert sent == []
    assert [name for name, _ in info.value.rejected] == list(INDEX_NAMES)
    assert "allow_scan=True" in str(info.value)


@pytest.mark.parametrize("how", ["argument", "builder"])
async def test_allow_scan_falls_back_to_a_filtered_scan(repo, shared_db, how):
    if how == "argument":
        q = repo.query(attr("total") > 100, allow_scan=True)
    else:
        q = repo.where(attr("total") > 100).allow_scan()
    explain = q.explain()
    assert (explain.operation, explain.index) == ("Scan", None)
    assert explain.considered[0] == (
        "scan",
        "chosen: the whole table, as no table or index fits (allow_scan=True)",
    )
    expected = matching(lambda o: o.total > 100)
    with sent_requests(shared_db) as sent:
        assert sorted(await q.all(), key=lambda o: o.sk) == expected
    assert {op for op, _ in sent} == {"Scan"}
    assert await q.count() == len(expected)


async def test_allow_scan_is_not_used_when_an_index_fits(repo):
    assert repo.where("status", "=", "open").allow_scan().explain().operation == "Query"


async def test_consistent_query_on_a_gsi_key_falls_back_to_a_consistent_scan(repo):
    q = repo.where("status", "=", "shipped").consistent().allow_scan()
    explain = q.explain()
    assert (explain.operation, explain.request["ConsistentRead"]) == ("Scan", True)
    assert sorted(await q.all(), key=lambda o: o.total) == matching(
        lambda o: o.status == "shipped", by="total"
    )


async def test_a_second_sort_key_condition_moves_the_query_to_an_lsi(repo):
    # Surprising but by the rules: != on the table's sort key rules the table out, and the
    # LSI (same partition key) serves it with a filter, so the order is the LSI's.
    q = repo.where("customer", "=", "c1").where("sk", "!=", "2024-01-03")
    assert q.explain().index == "by-created"
    items = await q.all()
    assert items == sorted((o for o in C1 if o.sk != "2024-01-03"), key=lambda o: o.created)


# --- explain ---------------------------------------------------------------------------------


async def test_explain_sends_nothing_and_reads_well(repo, shared_db):
    with sent_requests(shared_db) as sent:
        text = str(repo.where("status", "=", "shipped").where("total", ">", 20).explain())
        scan_text = str(repo.where("note", "=", "x").allow_scan().explain())
    assert sent == []
    assert "Query on" in text
    assert "using index 'by-status'" in text
    assert "by-status: chosen: key condition on status = and total >" in text
    assert "table: rejected: it needs an equality condition (=) on its partition key" in text
    assert "Scan on" in scan_text
    assert "scan: chosen: the whole table" in scan_text


async def test_a_gsi_cursor_does_not_fit_the_table_query(repo):
    gsi = await repo.where("status", "=", "open").page(size=1)
    with pytest.raises(InvalidCursor):
        await repo.where("customer", "=", "c1").page(size=1, cursor=gsi.next_cursor)


# --- the roadmap's example -----------------------------------------------------------------


@attrs.define
class User:
    ID: str
    Status: str
    Name: str = ""


users = Mapper(User, table="users", partition_key="ID")


@pytest.fixture
def dynamorm_mappers():
    return [users]


async def test_roadmap_where_id_and_status(dynamorm_db):
    repo = dynamorm_db.model(User)
    for user in (
        User("123", "active", "Ada"),
        User("124", "active", "Bob"),
        User("125", "disabled", "Cy"),
    ):
        await repo.put(user)

    q = dynamorm_db.model(User).where("ID", "=", "123").where("Status", "=", "active")
    explain = q.explain()
    assert (explain.operation, explain.index) == ("Query", None)
    assert explain.names == {"#n0": "ID", "#n1": "Status"}
    assert explain.key_condition == "#n0 = :v0"
    assert explain.filter == "#n1 = :v1"
    assert await q.all() == [User("123", "active", "Ada")]
    assert await q.first() == User("123", "active", "Ada")
    assert await q.count() == 1

    # The conditions in the other order, and a user whose status does not match.
    swapped = dynamorm_db.model(User).where("Status", "=", "active").where("ID", "=", "123")
    assert await swapped.all() == [User("123", "active", "Ada")]
    disabled = dynamorm_db.model(User).where("ID", "=", "125").where("Status", "=", "active")
    assert await disabled.all() == []
    assert await disabled.first() is None
    assert keys(await dynamorm_db.model(User).where("ID", "=", "125").all(), "ID", "Status") == [
        ("125", "disabled")
    ]
