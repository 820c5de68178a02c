"""Builder arguments are checked when given, with the table and operation named;
nothing here opens a connection."""

from __future__ import annotations

import attrs
import pytest

from dynamorm_async import Database, GlobalIndex, Mapper, ValidationError, attr


@attrs.define
class Order:
    customer: str
    number: int
    status: str = "open"


orders = Mapper(
    Order,
    table="orders",
    partition_key="customer",
    sort_key="number",
    indexes=[GlobalIndex("by-status", partition_key="status")],
)


@pytest.fixture
def repo():
    db = Database.connect("http://127.0.0.1:9", region_name="us-east-1", mappers=[orders])
    return db.repository(orders)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda q: q.index(["by-status"]), "has no index"),
        (lambda q: q.index("by-stats"), "did you mean 'by-status'"),
        (lambda q: q.project(123), "field names or attr"),
        (lambda q: q.project(), "at least one field"),
        (lambda q: q.order(descending="false"), "True or False"),
        (lambda q: q.consistent("no"), "True or False"),
        (lambda q: q.allow_scan(1), "True or False"),
        (lambda q: q.limit(0), "limit must be an int >= 1"),
        (lambda q: q.limit(True), "limit must be an int"),
        (lambda q: q.offset(-1), "offset must be an int >= 0"),
        (lambda q: q.where(123), "takes a condition"),
        (lambda q: q.where(("customer", "=", "c1")), "takes a condition"),
        (lambda q: q.explain(item_size=-5), "item_size must be an int >= 1"),
    ],
)
def test_builder_refuses_bad_arguments_naming_table_and_operation(repo, build, message):
    with pytest.raises(ValidationError, match=message) as info:
        build(repo.where("customer", "=", "c1"))
    if "takes a condition" not in message:
        assert info.value.table == "orders"
        assert info.value.operation == "Query"


def test_query_allow_scan_argument_must_be_a_bool(repo):
    with pytest.raises(ValidationError, match="True or False"):
        repo.query(allow_scan="no")  # type: ignore[arg-type]
    assert repo.query(allow_scan=True).spec.allow_scan is True


def test_scan_segments_bounds(repo):
    for bad in (0, -1, 1_000_001, 2.0):
        with pytest.raises(ValidationError, match="segments") as info:
            repo.scan(segments=bad)
        assert info.value.operation == "Scan"
    assert repo.scan(segments=1_000_000).spec.segments == 1_000_000


async def test_page_size_is_checked_before_sending(repo):
    with pytest.raises(ValidationError, match="page size must be an int >= 1") as info:
        await repo.where("customer", "=", "c1").page(size=0)
    assert info.value.table == "orders"


def test_builders_are_immutable(repo):
    base = repo.where("customer", "=", "c1")
    narrowed = base.where(attr("number") > 3).limit(2).order(descending=True)
    assert base.spec.limit is None
    assert len(base.spec.conditions) == 1
    assert len(narrowed.spec.conditions) == 2
    assert base.plan() is base.plan()  # planned once per builder
