"""A tree (a class holding itself) is written, read and queried on the server."""

from __future__ import annotations

import attrs
import pytest

from dynamorm_async import Mapper


@attrs.define
class Folder:
    owner: str
    path: str
    children: list[Folder] = attrs.Factory(list)


folders = Mapper(Folder, table="tree_folders", partition_key="owner", sort_key="path")


@pytest.fixture
def dynamorm_mappers():
    return [folders]


async def test_a_tree_is_stored_and_read_back(dynamorm_db):
    repo = dynamorm_db.repository(folders)
    root = Folder("o", "/", [Folder("o", "/a", [Folder("o", "/a/b")]), Folder("o", "/c")])
    await repo.put(root)
    await repo.put(Folder("o", "/z"))
    assert await repo.get(("o", "/")) == root
    assert await repo.where("owner", "=", "o").all() == [root, Folder("o", "/z")]
