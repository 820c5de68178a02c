"""Pages, cursors, limit, offset, first and count over 1,000 items of one partition.

The events are written once for the module with BatchWriteItem: 1,000 small ones in
partition "s1" (sort key ``seq`` 0..999), a few in "s2" next to it, and 40 large ones
(30 KB each) in "big", more than DynamoDB's (and moto's) 1 MB page, so reading them
takes several responses. In "rare", only the first 36 of 120 events are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import decimal
import string

import attrs
import pytest
import pytest_asyncio
from _query_helpers import new_tasks_left, seed, sent_requests

from dynamorm_async import (
    ConversionError,
    Database,
    InvalidCursor,
    Mapper,
    ValidationError,
    attr,
    query,
)
from dynamorm_async.testing import LOCAL_CREDENTIALS
from dynamorm_async.testing.pytest_plugin import open_test_database


@attrs.define
class Event:
    stream: str
    seq: int
    kind: str
    payload: str = ""


events = Mapper(Event, table="events", partition_key="stream", sort_key="seq")

N = 1000
SIZE = 37
S1 = [Event("s1", seq, "drop" if seq % 4 == 0 else "keep") for seq in range(N)]
KEPT = [e for e in S1 if e.kind == "keep"]  # 750 = 20 pages of 37, and 10
S2 = [Event("s2", seq, "keep") for seq in range(5)]
BIG = [Event("big", seq, "keep", "x" * 30_000) for seq in range(40)]
RARE = [Event("rare", seq, "keep" if seq < 36 else "drop") for seq in range(120)]

KEEP = attr("kind") == "keep"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared_db(dynamorm_endpoint):
    db = await open_test_database(dynamorm_endpoint, [events])
    try:
        await seed(db, events, [*S1, *S2, *BIG, *RARE])
        yield db
    finally:
        await db.schema.delete(events, wait=False)
        await db.close()


@pytest.fixture
def repo(shared_db):
    return shared_db.repository(events)


@pytest.fixture
def s1(repo):
    return repo.where("stream", "=", "s1")


async def read_pages(q, size, cursor=None, *, max_pages=100):
    """Every page of `q`, following cursors until there is none."""
    pages = []
    for _ in range(max_pages):
        page = await q.page(size=size, cursor=cursor)
        pages.append(page)
        cursor = page.next_cursor
        if cursor is None:
            return pages
    raise AssertionError(f"more than {max_pages} pages")


def seqs(items):
    return [e.seq for e in items]


# --- page() and cursors --------------------------------------------------------------------


async def test_pages_of_37_return_every_item_once_in_order(s1):
    pages = await read_pages(s1, SIZE)
    assert [len(p.items) for p in pages] == [SIZE] * 27 + [1]
    assert [e for p in pages for e in p.items] == S1
    assert all(p.next_cursor is not None for p in pages[:-1])


async def test_pages_descending(s1):
    pages = await read_pages(s1.order(descending=True), SIZE)
    assert [len(p.items) for p in pages] == [SIZE] * 27 + [1]
    assert [e for p in pages for e in p.items] == S1[::-1]


async def test_filtered_pages_are_full_but_the_last(s1, shared_db):
    q = s1.filter(KEEP)
    with sent_requests(shared_db) as sent:
        pages = await read_pages(q, SIZE)
    assert [len(p.items) for p in pages] == [SIZE] * 20 + [10]
    assert [e for p in pages for e in p.items] == KEPT
    # DynamoDB's Limit counts evaluated items, so filling a page takes several requests,
    # none evaluating more than the page still needs.
    assert len(sent) > len(pages)
    assert all(params["Limit"] <= SIZE for _, params in sent)


async def test_page_size_that_divides_the_partition(s1):
    pages = await read_pages(s1, 40)
    # DynamoDB may follow the last full page by an empty one; moto does not.
    sizes = [len(p.items) for p in pages]
    assert sizes[:25] == [40] * 25
    assert sizes[25:] in ([], [0])
    assert [e for p in pages for e in p.items] == S1


async def test_offset_applies_to_the_first_page_only(s1):
    q = s1.offset(5)
    first = await q.page(size=SIZE)
    assert seqs(first.items) == list(range(5, 5 + SIZE))
    second = await q.page(size=SIZE, cursor=first.next_cursor)
    assert seqs(second.items) == list(range(5 + SIZE, 5 + 2 * SIZE))
    rest = await read_pages(q, SIZE, first.next_cursor)
    assert [e for p in rest for e in p.items] == S1[5 + SIZE :]


async def test_offset_with_a_filter_on_pages(s1):
    q = s1.filter(KEEP).offset(3)
    pages = await read_pages(q, SIZE)
    assert [len(p.items) for p in pages] == [SIZE] * 20 + [7]
    assert [e for p in pages for e in p.items] == KEPT[3:]


async def test_page_without_size_is_the_limit(s1):
    q = s1.limit(50)
    first = await q.page()
    assert seqs(first.items) == list(range(50))
    assert first.next_cursor is None  # the limit is for all pages together


async def test_limit_is_for_all_pages_together(s1):
    q = s1.limit(10)
    pages = await read_pages(q, 4)
    assert [seqs(p.items) for p in pages] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert pages[-1].next_cursor is None
    # With a filter and an offset too.
    q = s1.filter(KEEP).offset(2).limit(9)
    pages = await read_pages(q, 4)
    assert [e for p in pages for e in p.items] == KEPT[2:11]


async def test_page_without_size_or_limit_is_one_response(repo):
    q = repo.where("stream", "=", "big")
    first = await q.page()
    # A response holds at most 1 MB: 40 items of 30 KB do not fit in one.
    assert 0 < len(first.items) < len(BIG)
    assert first.next_cursor is not None
    rest = await read_pages(q, None, first.next_cursor)
    assert [*first.items, *(e for p in rest for e in p.items)] == BIG


async def test_page_size_must_be_positive(s1):
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValidationError):
            await s1.page(size=bad)


async def test_a_selective_filter_does_not_cost_a_request_per_item(repo, shared_db):
    q = repo.where("stream", "=", "rare").filter(KEEP)
    with sent_requests(shared_db) as sent:
        page = await q.page(size=37)
    assert page.items == RARE[:36]
    assert page.next_cursor is None
    assert len(sent) <= 5  # 120 small items fit in one response


async def test_limit_caps_a_page(s1):
    page = await s1.limit(10).page(size=37)
    assert seqs(page.items) == list(range(10))


# --- limit, offset, first --------------------------------------------------------------------


async def test_limit(s1, shared_db):
    with sent_requests(shared_db) as sent:
        assert seqs(await s1.limit(50).all()) == list(range(50))
    # Without a filter exactly what is needed is asked for.
    assert [params["Limit"] for _, params in sent] == [50]
    assert seqs(await s1.order(descending=True).limit(3).all()) == [999, 998, 997]
    assert await s1.limit(5000).all() == S1


async def test_limit_with_a_filter_reads_on_until_enough_match(s1):
    assert await s1.filter(KEEP).limit(40).all() == KEPT[:40]
    assert await s1.where("seq", ">", 990).filter(KEEP).limit(40).all() == [
        e for e in S1[991:] if e.kind == "keep"
    ]


async def test_offset(s1):
    assert seqs(await s1.offset(990).all()) == list(range(990, 1000))
    assert seqs(await s1.offset(10).limit(5).all()) == list(range(10, 15))
    assert await s1.offset(N).all() == []
    assert await s1.offset(0).all() == S1
    assert await s1.filter(KEEP).offset(745).all() == KEPT[745:]


async def test_limit_and_offset_reject_bad_values(s1):
    for bad in (0, -1, "3", None):
        with pytest.raises(ValidationError):
            s1.limit(bad)
    with pytest.raises(ValidationError):
        s1.offset(-1)


async def test_first(s1, repo):
    assert await s1.first() == S1[0]
    assert await s1.order(descending=True).first() == S1[-1]
    assert await s1.filter(KEEP).first() == S1[1]
    assert await s1.where(attr("seq") > 500).first() == S1[501]
    assert await s1.offset(7).first() == S1[7]
    assert await s1.where(attr("seq") >= N).first() is None
    assert await s1.filter(attr("kind") == "other").first() is None
    assert await repo.where("stream", "=", "s3").first() is None


# --- count ------------------------------------------------------------------------------------


async def test_count(s1, repo, shared_db):
    with sent_requests(shared_db) as sent:
        assert await s1.count() == N
    assert [params["Select"] for _, params in sent] == ["COUNT"]
    assert await s1.filter(KEEP).count() == len(KEPT)
    assert await s1.limit(10).count() == 10
    assert await s1.offset(995).count() == 5
    assert await s1.offset(10).limit(5).count() == 5
    assert await s1.filter(KEEP).limit(100).count() == 100
    assert await s1.filter(KEEP).limit(800).count() == len(KEPT)
    assert await s1.where("seq", "between", 100, 199).count() == 100
    assert await repo.where("stream", "=", "s2").count() == len(S2)
    assert await repo.where("stream", "=", "nobody").count() == 0


async def test_count_over_several_responses(repo, shared_db):
    with sent_requests(shared_db) as sent:
        assert await repo.where("stream", "=", "big").count() == len(BIG)
    assert len(sent) >= 2  # Select=COUNT is limited to 1 MB evaluated too


# --- async for ----------------------------------------------------------------------------------


async def test_async_for_equals_all(s1):
    streamed = [e async for e in s1]
    assert streamed == await s1.all() == S1
    assert [e async for e in s1.filter(KEEP)] == KEPT
    assert [e async for e in s1.order(descending=True).limit(3)] == S1[:-4:-1]


async def test_async_for_over_several_responses(repo, shared_db):
    q = repo.where("stream", "=", "big")
    with sent_requests(shared_db) as sent:
        streamed = [e async for e in q]
    assert streamed == BIG
    assert len(sent) >= 2
    assert await q.all() == BIG


async def test_stopping_async_for_early_leaves_no_prefetch_running(repo):
    q = repo.where("stream", "=", "big")
    before = asyncio.all_tasks()
    async for event in q:  # the next response is being fetched while this one is read
        assert event == BIG[0]
        break
    assert await new_tasks_left(before) == set()
    items = q.__aiter__()
    async with contextlib.aclosing(items):
        assert await anext(items) == BIG[0]
        assert asyncio.all_tasks() - before  # the next response is being fetched
    assert await new_tasks_left(before) == set()


# --- cursors: bound to their query, checked ------------------------------------------------------


def edit(cursor: str, position: int) -> str:
    """`cursor` with the character at `position` replaced by another base64url one."""
    old = cursor[position]
    new = "A" if old != "A" else "B"
    return cursor[:position] + new + cursor[position + 1 :]


async def test_cursor_edited_by_one_character_is_refused(s1):
    page = await s1.page(size=SIZE)
    cursor = page.next_cursor
    body = cursor.split(".")[0]
    positions = [
        0,
        len(body) // 2,
        len(body) - 2,
        len(body) + 1,
        len(cursor) // 2 + 5,
        len(cursor) - 3,
    ]
    for position in positions:
        with pytest.raises(InvalidCursor):
            await s1.page(size=SIZE, cursor=edit(cursor, position))
    assert seqs((await s1.page(size=SIZE, cursor=cursor)).items) == list(range(SIZE, 2 * SIZE))


async def test_every_one_character_edit_of_a_cursor_is_refused(s1):
    # The last character of each base64url part carries unused bits: decoding must not
    # ignore them, or some one-character edits would be accepted (fixed in f405f7d).
    cursor = (await s1.page(size=SIZE)).next_cursor
    alphabet = string.ascii_letters + string.digits + "-_."
    accepted = []
    for position in range(len(cursor)):
        for char in alphabet:
            if char == cursor[position]:
                continue
            edited = cursor[:position] + char + cursor[position + 1 :]
            try:
                await s1.page(size=1, cursor=edited)
            except InvalidCursor:
                continue
            accepted.append(edited)
    assert accepted == []


async def test_malformed_cursors_are_refused(s1):
    cursor = (await s1.page(size=SIZE)).next_cursor
    body, tag = cursor.split(".")
    for bad in (
        "",
        "garbage",
        cursor[:-1],  # truncated
        cursor[:-4],
        cursor + "A",
        body,
        f"{body}.",
        f".{tag}",
        f"{body}.{tag}.{tag}",
        f"{body}!.{tag}",
    ):
        with pytest.raises(InvalidCursor):
            await s1.page(size=SIZE, cursor=bad)
    with pytest.raises(InvalidCursor):
        await s1.page(size=SIZE, cursor=12345)


OTHER_QUERIES = {
    "another partition": lambda repo, s1: repo.where("stream", "=", "s2"),
    "a filter": lambda repo, s1: s1.filter(KEEP),
    "another order": lambda repo, s1: s1.order(descending=True),
    "a sort key condition": lambda repo, s1: s1.where("seq", ">", 3),
    "a projection": lambda repo, s1: s1.project("kind"),
    "consistent": lambda repo, s1: s1.consistent(),
    "a scan": lambda repo, s1: repo.scan(),
}


@pytest.mark.parametrize("other", list(OTHER_QUERIES))
async def test_cursor_of_one_query_is_refused_by_another(s1, repo, other):
    cursor = (await s1.page(size=SIZE)).next_cursor
    with pytest.raises(InvalidCursor):
        await OTHER_QUERIES[other](repo, s1).page(size=SIZE, cursor=cursor)


async def test_cursor_is_taken_by_the_same_query_built_again(s1, repo):
    cursor = (await s1.page(size=SIZE)).next_cursor
    again = repo.where("stream", "=", "s1")
    assert seqs((await again.page(size=3, cursor=cursor)).items) == [37, 38, 39]
    # limit and offset are not part of the query's identity (offset: first page only).
    assert seqs((await s1.limit(2).offset(9).page(cursor=cursor)).items) == [37, 38]


async def test_forged_cursor_outside_the_partition_is_refused(s1, repo):
    # Without a secret anyone can make a well-formed cursor; the partition is still checked.
    plan = s1.plan()
    forged = query.encode_cursor({"stream": {"S": "s2"}, "seq": {"N": "1"}}, plan.fingerprint, None)
    with pytest.raises(InvalidCursor, match="outside this query's partition"):
        await s1.page(size=SIZE, cursor=forged)
    inside = query.encode_cursor(
        {"stream": {"S": "s1"}, "seq": {"N": "500"}}, plan.fingerprint, None
    )
    assert seqs((await s1.page(size=2, cursor=inside)).items) == [501, 502]
    wrong_keys = query.encode_cursor({"stream": {"S": "s1"}}, plan.fingerprint, None)
    with pytest.raises(InvalidCursor, match="keys"):
        await s1.page(size=SIZE, cursor=wrong_keys)


async def test_scan_pages_and_cursors(repo):
    q = repo.scan().filter(attr("stream") == "s2")
    assert sorted(seqs(await q.all())) == list(range(5))
    whole = await read_pages(repo.scan().project("kind"), 300)
    seen = [(e.stream, e.seq) for p in whole for e in p.items]
    assert len(seen) == len(set(seen)) == N + len(S2) + len(BIG) + len(RARE)
    with pytest.raises(InvalidCursor):
        await repo.where("stream", "=", "s1").page(size=3, cursor=whole[0].next_cursor)


# --- cursor secrets ---------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def same_tables(shared_db, endpoint, secret):
    """Another `Database` on `shared_db`'s tables, signing cursors with `secret`."""
    async with Database.connect(
        endpoint,
        mappers=[events],
        table_name_template=shared_db.table_name_template,
        cursor_secret=secret,
        **LOCAL_CREDENTIALS,
    ) as db:
        yield db


async def test_cursor_signed_with_another_secret_is_refused(shared_db, dynamorm_endpoint, s1):
    async with (
        same_tables(shared_db, dynamorm_endpoint, "first secret, 16+ bytes") as signed,
        same_tables(shared_db, dynamorm_endpoint, b"second secret, 16+ bytes") as other,
        same_tables(shared_db, dynamorm_endpoint, "first secret, 16+ bytes") as again,
    ):
        q = signed.repository(events).where("stream", "=", "s1")
        pages = await read_pages(q, 100)
        assert [e for p in pages for e in p.items] == S1  # signed cursors page as usual
        cursor = pages[0].next_cursor
        same_query_other_secret = other.repository(events).where("stream", "=", "s1")
        with pytest.raises(InvalidCursor):
            await same_query_other_secret.page(size=100, cursor=cursor)
        with pytest.raises(InvalidCursor):
            await s1.page(size=100, cursor=cursor)  # no secret
        unsigned = (await s1.page(size=100)).next_cursor
        with pytest.raises(InvalidCursor):
            await q.page(size=100, cursor=unsigned)
        # The same secret on another instance takes it (as across app servers).
        same_secret = again.repository(events).where("stream", "=", "s1")
        assert seqs((await same_secret.page(size=3, cursor=cursor)).items) == [100, 101, 102]


async def test_cursor_secret_as_a_plain_attribute(shared_db, s1):
    unsigned = (await s1.page(size=10)).next_cursor
    shared_db.cursor_secret = b"a secret of sixteen+ bytes"
    try:
        signed = (await s1.page(size=10)).next_cursor
        assert signed != unsigned
        with pytest.raises(InvalidCursor):
            await s1.page(size=10, cursor=unsigned)
        assert seqs((await s1.page(size=1, cursor=signed)).items) == [10]
    finally:
        shared_db.cursor_secret = None
    with pytest.raises(InvalidCursor):
        await s1.page(size=10, cursor=signed)


def test_cursor_secret_must_be_long_enough():
    with pytest.raises(ValidationError, match="16 bytes"):
        Database.connect("http://127.0.0.1:1", cursor_secret="short")


# --- number partition keys ----------------------------------------------------------------------------


@attrs.define
class Measure:
    sensor: decimal.Decimal
    seq: int


measures = Mapper(Measure, table="measures", partition_key="sensor", sort_key="seq")


@pytest.fixture
def dynamorm_mappers():
    return [measures]


async def test_cursor_of_a_number_partition_key_given_in_another_form(dynamorm_db):
    repo = dynamorm_db.repository(measures)
    for seq in range(5):
        await repo.put(Measure(decimal.Decimal("1.50"), seq))
    q = repo.where("sensor", "=", decimal.Decimal("1.5"))  # the same number
    first = await q.page(size=2)
    assert seqs(first.items) == [0, 1]  # the query matches the items...
    second = await q.page(size=2, cursor=first.next_cursor)  # ...but its cursor is refused
    assert seqs(second.items) == [2, 3]


async def test_cursor_of_a_number_partition_key_in_its_stored_form(dynamorm_db):
    repo = dynamorm_db.repository(measures)
    for seq in range(5):
        await repo.put(Measure(decimal.Decimal("2"), seq))
    q = repo.where("sensor", "=", decimal.Decimal("2"))
    pages = await read_pages(q, 2)
    assert [seqs(p.items) for p in pages] == [[0, 1], [2, 3], [4]]


@pytest.mark.parametrize(
    "seq",
    [{"N": "nan"}, {"N": "1_0"}, {"N": " 5 "}, {"N": "1e999999"}, {"S": "5"}, {"B": b"5"}],
    ids=["nan", "underscore", "padded", "huge-exponent", "string", "binary"],
)
async def test_an_unsigned_cursor_with_a_bad_key_value_is_refused_before_sending(
    s1, shared_db, seq
):
    plan = s1.plan()
    forged = query.encode_cursor({"stream": {"S": "s1"}, "seq": seq}, plan.fingerprint, None)
    with sent_requests(shared_db) as sent, pytest.raises(InvalidCursor):
        await s1.page(size=5, cursor=forged)
    assert sent == []


async def test_a_limit_beyond_one_response_reads_on_asking_for_the_rest(repo, shared_db):
    # 40 items of 30 KB: a response holds at most 1 MB, so 38 items take two requests.
    with sent_requests(shared_db) as sent:
        items = await repo.where("stream", "=", "big").limit(38).all()
    assert items == BIG[:38]
    limits = [params.get("Limit") for _, params in sent]
    assert len(limits) == 2
    assert limits[0] == 38
    assert 0 < limits[1] < 38  # only what the first response did not bring


async def test_an_item_that_does_not_fit_the_class_names_table_operation_and_key(repo, shared_db):
    table = shared_db.table_name(events)
    await shared_db.client.put_item(
        TableName=table,
        Item={"stream": {"S": "bad"}, "seq": {"N": "1"}, "kind": {"N": "5"}},
    )
    try:
        with pytest.raises(ConversionError) as info:
            await repo.where("stream", "=", "bad").all()
        assert info.value.table == table
        assert info.value.operation == "Query"
        assert info.value.key == {"stream": "bad", "seq": "1"}
        # The same item read as dicts: what is there, by Python name.
        rows = await repo.where("stream", "=", "bad").as_dicts().all()
        assert rows == [{"stream": "bad", "seq": 1, "kind": 5}]
    finally:
        await shared_db.client.delete_item(
            TableName=table, Key={"stream": {"S": "bad"}, "seq": {"N": "1"}}
        )
