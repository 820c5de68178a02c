"""``python -m dynamorm_async demo``: a tour of mapping, conversion, CRUD, queries,
units of work and transactions.

Runs against `endpoint_url` when given, else starts the embedded local DynamoDB.
Everything it does is printed; it creates one table and deletes it at the end.
"""

from __future__ import annotations

import datetime as dt
import enum
import time
import typing
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Annotated, Any, Literal

import attrs

from dynamorm_async.convert import EpochSeconds
from dynamorm_async.db import Database
from dynamorm_async.errors import ConditionFailed, ItemAlreadyExists
from dynamorm_async.expressions import attr
from dynamorm_async.mapping import Mapper
from dynamorm_async.specs import GlobalIndex

__all__ = ["run_demo"]


class Status(enum.Enum):
    """An Enum field: stored as its value."""

    DRAFT = "draft"
    LIVE = "live"


@attrs.define
class Dimensions:
    """A nested attrs class: stored as a map."""

    width_mm: int
    height_mm: int
    weight_g: float | None = None


@attrs.define
class Product:
    """The demo's mapped class: every kind of field DynamoDB can hold."""

    id: uuid.UUID
    sku: str
    category: str
    price: Decimal
    rating: float
    stock: int
    active: bool
    thumbnail: bytes
    tags: frozenset[str]
    sizes: set[int]
    released: dt.date
    updated_at: dt.datetime
    restock_at: Annotated[dt.datetime, EpochSeconds]
    status: Status
    channel: Literal["web", "store"]
    dimensions: Dimensions
    history: list[int]
    attributes: dict[str, str]
    note: str | None = None
    version: int = 0


products = Mapper(
    Product,
    table="demo-products",
    partition_key="id",
    sort_key="sku",
    indexes=[GlobalIndex("by-category", partition_key="category", sort_key="price")],
    field_names={"updated_at": "updatedAt"},
    version_attribute="version",
)


@asynccontextmanager
async def _connect(endpoint_url: str | None, echo: Callable[[str], Any]) -> AsyncIterator[Database]:
    if endpoint_url is not None:
        echo(f"DynamoDB endpoint: {endpoint_url}")
        async with Database.connect(endpoint_url, mappers=[products]) as db:
            yield db
        return
    from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb

    async with local_dynamodb() as url:
        echo(f"DynamoDB endpoint: {url} (the embedded moto server)")
        async with Database.connect(url, mappers=[products], **LOCAL_CREDENTIALS) as db:
            yield db


async def run_demo(endpoint_url: str | None = None, echo: Callable[[str], Any] = print) -> None:
    """Run the demo against `endpoint_url` (or the embedded server), printing each step."""
    started = time.perf_counter()
    async with _connect(endpoint_url, echo) as db:
        created = await db.schema.ensure(products)
        echo(f"table {db.table_name(products)!r}: {'created' if created else 'exists'}")
        try:
            await _tour(db, echo)
        finally:
            if created:  # never drop a table this run did not make
                await db.schema.delete(products)
                echo(f"table {db.table_name(products)!r}: deleted")
    echo(f"done in {time.perf_counter() - started:.1f}s")


async def _tour(db: Database, echo: Callable[[str], Any]) -> None:
    repo = db.repository(products)
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=123456)
    product = Product(
        id=uuid.UUID("12345678-1234-5678-1234-567812345678"),
        sku="DDIA-1",
        category="books",
        price=Decimal("39.90"),
        rating=4.75,
        stock=12,
        active=True,
        thumbnail=b"\x89PNG\r\n",
        tags=frozenset({"databases", "distributed"}),
        sizes=set(),
        released=dt.date(2017, 3, 16),
        updated_at=now,
        restock_at=now + dt.timedelta(days=7),
        status=Status.LIVE,
        channel="web",
        dimensions=Dimensions(width_mm=178, height_mm=233),
        history=[45, 42, 39],
        attributes={"author": "Martin Kleppmann", "publisher": "O'Reilly"},
    )

    echo("\n== conversion: each field and how DynamoDB stores it ==")
    item = products.encode(product)
    for field in attrs.fields(Product):
        stored = products.stored_name(field.name)
        shown = item.get(stored, "(left out: None or an empty set)")
        echo(f"  {field.name:<12} {_type_label(field.type):<34} -> {stored}: {shown}")

    echo("\n== put (versioned: expects no item yet) ==")
    product = await repo.put(product)
    echo(f"  stored, version is now {product.version}")

    echo("\n== get ==")
    loaded = await repo.get((product.id, product.sku), consistent=True)
    echo(f"  read back equal to what was written: {loaded == product}")
    assert loaded is not None

    echo("\n== create (fails: the key exists) ==")
    try:
        await repo.create(attrs.evolve(product, version=0))
    except ItemAlreadyExists as exc:
        echo(f"  ItemAlreadyExists: {exc}")

    echo("\n== update with a condition ==")
    updated = await repo.update(
        loaded,
        set={"price": Decimal("34.90"), "note": "spring sale"},
        add={"stock": -2, "tags": {"sale"}},
        condition=attr("stock") > 0,
    )
    assert updated is not None
    echo(
        f"  price {updated.price}, stock {updated.stock}, tags {sorted(updated.tags)}, "
        f"version {updated.version}"
    )

    echo("\n== a stale write is refused (optimistic locking) ==")
    try:
        await repo.put(attrs.evolve(loaded, stock=0))
    except ConditionFailed as exc:
        echo(f"  {type(exc).__name__}: {exc.message}")

    echo("\n== bad input is refused before anything is sent ==")
    attempts: list[tuple[str, Callable[[], Awaitable[Any]]]] = [
        ("empty key", lambda: repo.get((product.id, ""))),
        ("NaN", lambda: repo.put(attrs.evolve(updated, rating=float("nan")))),
        ("39 digits", lambda: repo.put(attrs.evolve(updated, price=Decimal("1." + "1" * 38)))),
        ("unknown field", lambda: repo.update(updated, set={"prise": 1})),
    ]
    for label, attempt in attempts:
        try:
            await attempt()
        except Exception as exc:  # the demo shows whichever typed error each one raises
            echo(f"  {label:<14} {type(exc).__name__}: {exc}")

    echo("\n== a unit of work: 20 more books, sent together on commit ==")
    async with db.unit_of_work() as uow:
        for n in range(20):
            uow.put(
                attrs.evolve(
                    updated,
                    sku=f"BOOK-{n:02d}",
                    price=Decimal(10 + n),
                    note=None,
                    version=0,
                )
            )
    echo(f"  committed: {uow.state.value}")

    echo("\n== a query: the index is chosen from the conditions ==")
    cheap = repo.where("category", "=", "books").where(attr("price") < 15)
    echo("  " + str(cheap.explain()).replace("\n", "\n  "))
    echo(f"  found: {[p.sku for p in await cheap.all()]}")
    page = await repo.where("category", "=", "books").page(size=8)
    echo(f"  a page of {len(page.items)}, next cursor {page.next_cursor!r:.40}...")

    echo("\n== a transaction: both writes, or neither ==")
    first = await cheap.first()
    assert first is not None
    async with db.transaction() as tx:
        tx.update(first, add={"stock": -1}, condition=attr("stock") > 0)
        tx.update(updated, add={"stock": 1})
    echo("  moved one unit of stock between two books")

    echo("\n== delete ==")
    await repo.delete((updated.id, updated.sku))
    echo(f"  gone: {await repo.get((product.id, product.sku)) is None}")


def _type_label(tp: Any) -> str:
    if typing.get_origin(tp) is Annotated:
        base, *marks = typing.get_args(tp)
        return f"{_type_label(base)} ({', '.join(getattr(m, '__name__', repr(m)) for m in marks)})"
    if isinstance(tp, type):
        return tp.__name__
    return repr(tp).replace("typing.", "").replace("datetime.", "")
