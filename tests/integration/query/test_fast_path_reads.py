"""Queries and scans read the same objects with the fast path on and off.

With the fast path, ``async for`` and ``.all()`` take a Query's or Scan's items as
orjson reads them (Binary values still base64, containers unchecked) and the codecs
decode them; ``page()`` and the rest get botocore's form. Here items holding Binary
values everywhere a class can put them (a field, a set, a list, a map, a nested class,
an ``Any`` field, the sort key) are read every way, by a database with the fast path
and one without, and must come back equal to what was written.
"""

from __future__ import annotations

from typing import Any

import attrs
import pytest
import pytest_asyncio

from dynamorm_async import ConversionError, Database, Mapper
from dynamorm_async.transport import DECODED_ITEMS


@attrs.define
class Part:
    code: bytes
    name: str = ""


@attrs.define
class Blob:
    owner: str
    key: bytes
    data: bytes = b""
    chunks: set[bytes] = attrs.Factory(set)
    pieces: list[bytes] = attrs.Factory(list)
    named: dict[str, bytes] = attrs.Factory(dict)
    part: Part | None = None
    parts: list[Part] = attrs.Factory(list)
    anything: Any = None


blobs = Mapper(Blob, table="fast_blobs", partition_key="owner", sort_key="key")


def blob(n: int) -> Blob:
    raw = bytes([n, 0, 255, n ^ 0x5A]) * (n % 3 + 1)
    return Blob(
        "o",
        key=bytes([n]) + b"\x00k",
        data=raw,
        chunks={raw, b"x" + raw} if n % 2 else set(),
        pieces=[raw, b""],
        named={"a": raw},
        part=Part(raw, "p") if n % 3 else None,
        parts=[Part(raw), Part(b"\xff")],
        anything={"b": raw, "l": [raw, 1]} if n % 4 else raw,
    )


WRITTEN = [blob(n) for n in range(12)]


@pytest.fixture
def dynamorm_mappers():
    return [blobs]


@pytest_asyncio.fixture
async def stored(dynamorm_db):
    repo = dynamorm_db.repository(blobs)
    for b in WRITTEN:
        await repo.put(b)
    return sorted(WRITTEN, key=lambda b: b.key)


@pytest_asyncio.fixture(params=[True, False], ids=["fast", "stock"])
async def db(request, dynamorm_db, stored):
    config = attrs.evolve(dynamorm_db.config, fast_path=request.param)
    async with Database(
        config, mappers=[blobs], table_name_template=dynamorm_db.table_name_template
    ) as other:
        assert other.config.fast_path is request.param
        yield other


async def test_async_for_and_all_read_what_was_written(db, stored):
    query = db.repository(blobs).where("owner", "=", "o")
    assert await query.all() == stored
    assert [b async for b in query] == stored


async def test_small_pages_and_cursors_read_what_was_written(db, stored):
    query = db.repository(blobs).where("owner", "=", "o")
    first = await query.page(size=5)
    assert first.items == stored[:5]
    second = await query.page(size=5, cursor=first.next_cursor)
    assert second.items == stored[5:10]
    paged = db.repository(blobs).where("owner", "=", "o")
    seen, cursor = [], None
    while True:
        page = await paged.page(size=4, cursor=cursor)
        seen += page.items
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == stored


async def test_a_binary_sort_key_condition_and_dicts(db, stored):
    repo = db.repository(blobs)
    after = stored[3].key
    found = await repo.where("owner", "=", "o").where("key", ">", after).all()
    assert found == [b for b in stored if b.key > after]
    dicts = await repo.where("owner", "=", "o").as_dicts().all()
    assert [d["data"] for d in dicts] == [b.data for b in stored]
    assert [d.get("chunks", set()) for d in dicts] == [b.chunks for b in stored]


async def test_scans_in_segments_read_what_was_written(db, stored):
    repo = db.repository(blobs)
    assert sorted(await repo.scan().all(), key=lambda b: b.key) == stored
    found = [b async for b in repo.scan().segments(3)]
    assert sorted(found, key=lambda b: b.key) == stored


async def test_pages_are_decoded_as_they_are_read_with_the_fast_path(db, stored):
    """With the fast path, a page comes back decoded (its wire items gone before
    garbage collection resumes); without it, botocore's items are decoded after."""
    repo = db.repository(blobs)
    request = repo.where("owner", "=", "o").plan().request
    response = await db.transport.call("Query", request, wire_items=blobs.decode)
    if db.config.fast_path:
        assert "Items" not in response
        assert response[DECODED_ITEMS] == stored
    else:
        assert DECODED_ITEMS not in response
        assert len(response["Items"]) == len(stored)


async def test_interceptors_see_and_change_the_items_of_iterated_pages(db, stored):
    """With interceptors, pages are not decoded as read: they get ``Items`` as before."""
    seen: list[int] = []

    async def keep_three(operation, request, send):
        response = await send(request)
        seen.append(len(response["Items"]))
        response["Items"] = response["Items"][:3]
        return response

    db.transport.interceptors.append(keep_three)
    try:
        found = await db.repository(blobs).where("owner", "=", "o").all()
        scanned = [b async for b in db.repository(blobs).scan().segments(2)]
    finally:
        db.transport.interceptors.remove(keep_three)
    assert found == stored[:3]
    assert seen[0] == len(stored)
    assert len(scanned) == sum(min(n, 3) for n in seen[1:])
    assert await db.repository(blobs).where("owner", "=", "o").all() == stored


async def test_an_item_that_fails_to_decode_is_explained_either_way(db, stored, dynamorm_db):
    """One bad item leaves the page as read; decoding it again names the item."""
    table = dynamorm_db.table_name_template.format(table="fast_blobs")
    await db.transport.client.put_item(
        TableName=table, Item={"owner": {"S": "o"}, "key": {"B": b"\x00"}, "data": {"S": "text"}}
    )
    with pytest.raises(ConversionError) as caught:
        await db.repository(blobs).where("owner", "=", "o").all()
    assert caught.value.key == {"owner": "o", "key": b"\x00"}
