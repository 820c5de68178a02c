"""Projections: objects built from the projected fields (defaults for the rest), a
projection that leaves out a required field refused before sending, and dicts of the
fields read, by Python name, from a mapper whose stored names differ.
"""

from __future__ import annotations

import attrs
import pytest
import pytest_asyncio
from _query_helpers import seed, sent_requests

from dynamorm_async import GlobalIndex, Mapper, MappingError, Projection, ValidationError, attr
from dynamorm_async.testing.pytest_plugin import open_test_database


@attrs.define
class Dims:
    width: int
    height: int


@attrs.define
class Member:
    org: str
    user_id: str
    display_name: str
    email: str
    age: int = 0
    city: str = "unknown"
    dims: Dims | None = None
    tags: frozenset[str] = frozenset()


members = Mapper(
    Member,
    table="members",
    partition_key="org",
    sort_key="user_id",
    field_names={
        "org": "OrgId",
        "user_id": "UserId",
        "display_name": "DisplayName",
        "city": "City",
        "dims": "Dims",
    },
    indexes=[
        GlobalIndex("by-city", partition_key="city", projection=Projection.include("display_name"))
    ],
)

MEMBERS = [
    Member(
        "acme",
        f"u{i}",
        f"Name {i}",
        f"u{i}@acme.test",
        age=20 + i,
        city=("Paris", "Oslo")[i % 2],
        dims=Dims(i, 2 * i),
        tags=frozenset({"admin"} if i % 3 == 0 else {"staff", f"t{i}"}),
    )
    for i in range(1, 9)
] + [Member("other", "u1", "Other", "o@other.test", city="Paris")]
ACME = [m for m in MEMBERS if m.org == "acme"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def shared_db(dynamorm_endpoint):
    db = await open_test_database(dynamorm_endpoint, [members])
    try:
        await seed(db, members, MEMBERS)
        yield db
    finally:
        await db.schema.delete(members, wait=False)
        await db.close()


@pytest.fixture
def repo(shared_db):
    return shared_db.repository(members)


@pytest.fixture
def acme(repo):
    return repo.where("org", "=", "acme")


async def test_items_are_stored_under_their_stored_names(repo, shared_db):
    response = await shared_db.client.get_item(
        TableName=repo.table, Key={"OrgId": {"S": "acme"}, "UserId": {"S": "u1"}}
    )
    assert set(response["Item"]) == {
        "OrgId",
        "UserId",
        "DisplayName",
        "email",
        "age",
        "City",
        "Dims",
        "tags",
    }


async def test_projected_objects_take_defaults_for_the_rest(acme, shared_db):
    q = acme.project("display_name", "email")
    with sent_requests(shared_db) as sent:
        items = await q.all()
    assert items == [Member(m.org, m.user_id, m.display_name, m.email) for m in ACME]
    (_, request), *_ = sent
    names = set(request["ExpressionAttributeNames"].values())
    assert names == {"OrgId", "UserId", "DisplayName", "email"}  # stored names are sent


async def test_projection_given_as_a_list_and_as_paths(acme):
    expected = [Member(m.org, m.user_id, m.display_name, m.email, age=m.age) for m in ACME]
    assert await acme.project(["display_name", "email", "age"]).all() == expected
    assert await acme.project(attr("display_name"), attr("email"), "age").all() == expected


async def test_projection_missing_a_required_field_is_refused_before_sending(acme, shared_db):
    with sent_requests(shared_db) as sent:
        with pytest.raises(ValidationError) as info:
            await acme.project("age", "city").all()
        with pytest.raises(ValidationError):
            await acme.project("email").first()
        with pytest.raises(ValidationError):
            await acme.project("email").page(size=2)
        with pytest.raises(ValidationError):
            acme.project("display_name").explain()
    assert sent == []
    assert "display_name" in str(info.value)
    assert "email" in str(info.value)
    assert ".as_dicts()" in str(info.value)


async def test_projection_of_an_unknown_field_is_refused(acme):
    with pytest.raises(MappingError, match="did you mean 'user_id'"):
        acme.project("userid")
    with pytest.raises(ValidationError):
        acme.project()


async def test_as_dicts_has_projected_fields_and_keys_by_python_name(acme):
    rows = await acme.project("display_name", "city").as_dicts().all()
    assert rows == [
        {"org": "acme", "user_id": m.user_id, "display_name": m.display_name, "city": m.city}
        for m in ACME
    ]
    # A projection leaving out required fields is fine for dicts.
    rows = await acme.project("age").as_dicts().all()
    assert rows == [{"org": "acme", "user_id": m.user_id, "age": m.age} for m in ACME]


async def test_as_dicts_without_projection_has_every_field_by_python_name(acme):
    rows = await acme.as_dicts().all()
    assert rows == [attrs.asdict(m, recurse=False) for m in ACME]
    assert isinstance(rows[0]["dims"], Dims)  # each value read as its field's type
    assert isinstance(rows[0]["tags"], frozenset)


async def test_nested_projection(acme):
    objects = await acme.project("display_name", "email", "dims").all()
    assert [m.dims for m in objects] == [m.dims for m in ACME]
    rows = await acme.project("dims.width").as_dicts().all()
    # Half a Dims cannot be a Dims: the value is given as plain data.
    assert rows == [
        {"org": "acme", "user_id": m.user_id, "dims": {"width": m.dims.width}} for m in ACME
    ]


async def test_filter_reads_fields_the_projection_leaves_out(acme):
    q = acme.project("display_name", "email").filter(attr("age") > 25)
    items = await q.all()
    assert [m.user_id for m in items] == [m.user_id for m in ACME if m.age > 25]
    assert {m.age for m in items} == {0}  # not projected: the default
    filtered = acme.filter(attr("tags").contains("admin")).project("tags").as_dicts()
    assert await filtered.all() == [
        {"org": "acme", "user_id": m.user_id, "tags": frozenset({"admin"})}
        for m in ACME
        if "admin" in m.tags
    ]


async def test_gsi_include_projection_read_as_dicts_by_python_name(repo):
    q = repo.where("city", "=", "Paris").as_dicts()
    assert q.explain().index == "by-city"
    rows = await q.all()
    expected = [m for m in MEMBERS if m.city == "Paris"]
    assert sorted(rows, key=lambda r: (r["org"], r["user_id"])) == [
        {"org": m.org, "user_id": m.user_id, "city": "Paris", "display_name": m.display_name}
        for m in expected
    ]
    projected = await repo.where("city", "=", "Oslo").project("display_name").as_dicts().all()
    assert sorted(r["display_name"] for r in projected) == sorted(
        m.display_name for m in MEMBERS if m.city == "Oslo"
    )


async def test_scan_projection_by_python_name(repo):
    rows = await repo.scan().project("city").as_dicts().all()
    assert sorted(rows, key=lambda r: (r["org"], r["user_id"])) == [
        {"org": m.org, "user_id": m.user_id, "city": m.city} for m in MEMBERS
    ]


async def test_projection_on_pages(acme):
    q = acme.project("display_name", "email")
    first = await q.page(size=3)
    second = await q.page(size=3, cursor=first.next_cursor)
    assert [m.user_id for m in [*first.items, *second.items]] == [m.user_id for m in ACME[:6]]
    assert all(m.age == 0 for m in second.items)
