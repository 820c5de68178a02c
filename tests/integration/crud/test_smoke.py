import attrs
import pytest

from dynamorm_async import Mapper


@attrs.define
class Thing:
    id: str
    n: int = 0


things = Mapper(Thing, table="things", partition_key="id")


@pytest.fixture
def dynamorm_mappers():
    return [things]


async def test_put_get(dynamorm_db):
    repo = dynamorm_db.repository(things)
    await repo.put(Thing("a", 1))
    assert await repo.get("a") == Thing("a", 1)
    assert await repo.get("b") is None
