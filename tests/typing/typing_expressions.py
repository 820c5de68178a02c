"""Static checks of conditions, specs and errors, run by ``mypy --strict tests/typing``."""

from __future__ import annotations

from typing import Any

from typing_extensions import assert_type

from dynamorm_async import (
    Condition,
    ConversionError,
    DynamORMError,
    GlobalIndex,
    ItemTooLarge,
    LocalIndex,
    Path,
    Projection,
    VersionConflict,
    attr,
)
from dynamorm_async.expressions import Between, Compare, Exists, Function, In

price = attr("price")
assert_type(price, Path)
assert_type(attr("address.city"), Path)
assert_type(attr("tags", 0), Path)

assert_type(price > 5, Compare)
assert_type(price == 5, Compare)
assert_type(price != 5, Compare)
assert_type(price.exists(), Exists)
assert_type(price.not_exists(), Exists)
assert_type(price.between(1, 2), Between)
assert_type(price.is_in([1, 2]), In)
assert_type(attr("name").begins_with("x"), Function)
assert_type(attr("tags").contains("x"), Function)

both = (price > 5) & attr("name").exists()
assert_type(both, Condition)
assert_type((price > 5) | (price < 1), Condition)
assert_type(~(price > 5), Condition)
condition: Condition = price > 5  # every specific condition is a Condition

assert_type(Projection.include("name"), Projection)
assert_type(GlobalIndex("by-category", partition_key="category").projection, Projection)
assert_type(LocalIndex("by-date", sort_key="date", projection="KEYS_ONLY").sort_key, str)


def errors(conflict: VersionConflict, conversion: ConversionError, size: ItemTooLarge) -> None:
    base: DynamORMError = conflict
    assert_type(base.key, dict[str, Any] | None)
    assert_type(base.table, str | None)
    assert_type(conversion.cls, type | None)
    assert_type(conversion.field, str | None)
    assert_type(size.size, int)
