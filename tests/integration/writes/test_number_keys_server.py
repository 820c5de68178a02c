"""Number keys spelled two ways (1.5 and 1.50, 1.0 and 1) name one item.

DynamoDB compares numbers by value: ``{"N": "1.50"}`` and ``{"N": "1.5"}`` are the same
key (moto's GetItem agrees), and DynamoDB stores and returns the number normalized
("1.5"). Batch reads, units of work and transactions must recognise an item by its
key's value, not its wire text: a batch read finds the item GetItem finds, a unit of
work sends one item once in a request, and a transaction refuses two actions on it.
"""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest
from _writes_helpers import operations, sent_requests

from dynamorm_async import Mapper, ValidationError


@attrs.define
class Price:
    amount: Decimal
    label: str = ""


prices = Mapper(Price, table="prices", partition_key="amount")


@attrs.define
class Reading:
    value: float
    label: str = ""


readings = Mapper(Reading, table="readings", partition_key="value")

NUMBERS = pytest.mark.parametrize(
    ("mapper", "cls", "stored", "other"),
    [
        (prices, Price, Decimal("1.5"), Decimal("1.50")),
        (readings, Reading, 1.0, 1),  # a float field given an int: "1.0" and "1"
    ],
    ids=["decimal", "float"],
)


@pytest.fixture
def dynamorm_mappers():
    return [prices, readings]


@NUMBERS
async def test_get_finds_the_item_by_either_spelling(dynamorm_db, mapper, cls, stored, other):
    repo = dynamorm_db.repository(mapper)
    await repo.put(cls(stored, "a"))
    assert mapper.key(stored) != mapper.key(other)  # two spellings on the wire...
    assert await repo.get(other) == cls(stored, "a")  # ...of one item


@NUMBERS
async def test_batch_get_finds_the_item_by_either_spelling(dynamorm_db, mapper, cls, stored, other):
    repo = dynamorm_db.repository(mapper)
    await repo.put(cls(stored, "a"))
    assert await repo.batch_get([other]) == [cls(stored, "a")]


@NUMBERS
async def test_unit_of_work_collapses_both_spellings(dynamorm_db, mapper, cls, stored, other):
    with sent_requests(dynamorm_db) as sent:
        async with dynamorm_db.unit_of_work() as uow:
            uow.put(cls(stored, "first"))
            uow.put(cls(other, "last"))
    assert operations(sent) == ["BatchWriteItem"]
    (entries,) = sent[0][1]["RequestItems"].values()
    assert len(entries) == 1


@NUMBERS
async def test_transaction_refuses_the_other_spelling(dynamorm_db, mapper, cls, stored, other):
    async with dynamorm_db.transaction() as tx:
        tx.put(cls(stored, "a"))
        with pytest.raises(ValidationError, match="one action per item"):
            tx.update(other, set={"label": "b"}, mapper=mapper)


@NUMBERS
async def test_transact_get_refuses_the_other_spelling(dynamorm_db, mapper, cls, stored, other):
    with pytest.raises(ValidationError, match="repeat"):
        await dynamorm_db.transact_get([(mapper, stored), (mapper, other)])
