"""Conditions and updates: attr() paths, comparisons, functions, & | ~, update actions."""

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import attrs

from dynamorm_async import (
    Condition,
    ConditionFailed,
    Database,
    DynamORMError,
    Mapper,
    MappingError,
    ValidationError,
    attr,
    if_not_exists,
    size,
    where,
)
from dynamorm_async.expressions import Params
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb

E = TypeVar("E", bound=DynamORMError)


@attrs.define
class Dimensions:
    width: int
    height: int


@attrs.define
class Product:
    id: str
    name: str  # "name", "status" and "size" are DynamoDB reserved words: no problem
    status: str
    price: int
    stock: int = 0
    tags: frozenset[str] = frozenset()
    history: list[int] = attrs.Factory(list)
    size: Dimensions | None = None
    discount: int | None = None


products = Mapper(Product, table="products", partition_key="id")


def show(condition: Condition) -> str:
    """Compile a condition as a request does: the text, then the names and values."""
    params = Params()
    text = condition.compile(products, params)
    return f"{text}\n    names: {params.names}\n    values: {params.values}"


async def expect(error: type[E], pending: Awaitable[object]) -> E:
    """Await a call that must raise `error`; print and return the error."""
    try:
        await pending
    except error as exc:
        print(f"{type(exc).__name__}: {exc.message}")
        return exc
    raise AssertionError(f"{error.__name__} was not raised")


async def main() -> None:
    # Conditions are plain data until a request compiles them.
    live_and_cheap = (
        (attr("status") == "live") & (attr("price") < 20) & attr("tags").contains("book")
    )
    print("and:", show(live_and_cheap))
    print("or, not:", show((attr("stock") <= 0) | ~attr("discount").exists()))
    print("paths:", show(attr("size.width").between(10, 20) & (attr("history[0]") != 0)))
    print("size, type:", show((size("tags") > 1) & attr("name").attribute_type("S")))
    # The string form builds the same conditions.
    assert show(where("price", "between", 5, 10)) == show(attr("price").between(5, 10))

    # A condition has no truth value: `and`, `or`, `not` and chained comparisons
    # would silently drop part of it, so they raise TypeError.
    try:
        bool(attr("price") > 5)
    except TypeError as exc:
        print("TypeError:", exc)
    else:
        raise AssertionError("a condition was used as a bool")

    # Unknown fields fail before anything is sent, with a suggestion.
    try:
        show(attr("prise") > 5)
    except MappingError as exc:
        print("MappingError:", exc.message)
    else:
        raise AssertionError("an unknown field was accepted")

    async with (
        local_dynamodb() as url,
        Database.connect(url, mappers=[products], **LOCAL_CREDENTIALS) as db,
    ):
        await db.schema.ensure(products)
        repo = db.repository(products)
        lamp = Product(
            "p1",
            "Lamp",
            "live",
            30,
            stock=5,
            tags=frozenset({"home"}),
            history=[35, 32],
            size=Dimensions(20, 40),
        )
        await repo.put(lamp)

        # Conditions guard writes. Each comparison and function holds for the lamp:
        checks = [
            attr("price") >= 30,
            attr("status").is_in(["live", "draft"]),
            attr("name").begins_with("La"),
            attr("tags").contains("home"),
            attr("size.height") > 30,
            attr("history", 1) == 32,
            attr("discount").not_exists(),
            size("history") == 2,
            where("status", "in", ["live", "draft"]),
        ]
        for check in checks:
            await repo.put(lamp, condition=check)
        print("all conditions held")

        # A false condition raises ConditionFailed with the stored item and the
        # request's expressions (placeholders only: no values leak into logs).
        failed = await expect(
            ConditionFailed,
            repo.update("p1", set={"price": 10}, condition=attr("price") < 20),
        )
        assert failed.item == lamp
        print("    expressions:", failed.expressions)

        # Update actions: set (also nested paths and list elements), remove, add, delete.
        p = await repo.update(
            "p1",
            set={"price": 25, "size.width": 25, "history[0]": 36, "discount": None},
            add={"stock": -1, "tags": {"sale"}},
            remove=["history[1]"],
        )
        print("after update:", p)
        assert p is not None
        assert (p.price, p.stock, p.size, p.history) == (25, 4, Dimensions(25, 40), [36])
        assert p.tags == {"home", "sale"}

        p = await repo.update("p1", delete={"tags": {"home"}})
        assert p is not None
        assert p.tags == {"sale"}

        # An empty set removes the attribute (DynamoDB has no empty sets); it reads
        # back empty.
        p = await repo.update("p1", set={"tags": frozenset()})
        assert p is not None
        assert p.tags == frozenset()

        # Values computed by DynamoDB from the stored item, in the same request.
        p = await repo.update(
            "p1",
            set={
                "price": attr("price") - 5,
                "discount": if_not_exists("discount", 0) + 3,
                "history": attr("history").append([40]),
            },
        )
        assert p is not None
        assert (p.price, p.discount, p.history) == (20, 3, [36, 40])
        print("computed:", p)

        # Mistakes in an update are caught before sending.
        await expect(ValidationError, repo.update("p1", set={"id": "p2"}))  # a key field
        await expect(ValidationError, repo.update("p1", set={"price": 1}, add={"price": 1}))
        await expect(ValidationError, repo.update("p1", add={"name": "x"}))  # not a number


if __name__ == "__main__":
    asyncio.run(main())
