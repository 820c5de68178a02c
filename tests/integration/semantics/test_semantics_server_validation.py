"""DynamoDB's own validation, which moto lacks, and the library's matching checks.

Each test shows, with the raw aiobotocore client (``db.client``), that the server
refuses a request, and then, through the library, that such a request is never sent:
the library splits it, refuses it with a typed error before sending, or never builds
it (requests are inspected through a `Transport` interceptor). See docs/backends.md.

* (a) BatchWriteItem of more than 25 requests (across tables too): a unit of work
  sends chunks of at most 25;
* (b) numbers of more than 38 significant digits, or out of range: `ConversionError`
  before sending; the library and the server agree on which numbers are valid;
* (c) ExpressionAttributeValues or ExpressionAttributeNames a request does not use:
  none of the library's requests carries one (nor an empty map);
* (d) a ProjectionExpression in TransactGetItems is applied by DynamoDB Local (moto
  ignores it); `db.transact_get` takes no projection, so this is the raw client only.

These run on DynamoDB Local only (moto accepts most of these requests).
"""

from __future__ import annotations

import contextlib
import copy
import inspect
import re
from collections.abc import Awaitable
from decimal import Decimal
from typing import Any

import attrs
import pytest
from botocore.exceptions import ClientError

from dynamorm_async import (
    ConditionFailed,
    ConversionError,
    GlobalIndex,
    LocalIndex,
    Mapper,
    ValidationError,
    attr,
    if_not_exists,
    size,
)

pytestmark = pytest.mark.dynamodb_local_only


@attrs.define
class Doc:
    pk: str
    sk: int
    n: int = 0
    note: str | None = None
    status: str = "new"
    tags: frozenset[str] = frozenset()
    scores: list[int] = attrs.field(factory=list)
    amount: Decimal = Decimal(0)


docs = Mapper(
    Doc,
    table="sem_docs",
    partition_key="pk",
    sort_key="sk",
    indexes=[
        GlobalIndex("by-status", partition_key="status", sort_key="n"),
        LocalIndex("by-n", sort_key="n"),
    ],
)


@attrs.define
class Tag:
    id: str
    label: str = ""


tags = Mapper(Tag, table="sem_tags", partition_key="id")


@attrs.define
class Account:
    id: str
    balance: int = 0
    version: int = 0


accounts = Mapper(Account, table="sem_accounts", partition_key="id", version_attribute="version")


@pytest.fixture
def dynamorm_mappers():
    return [docs, tags, accounts]


class Recorder:
    """An interceptor recording every request sent (each attempt)."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, operation: str, request: dict[str, Any], send: Any) -> Any:
        self.requests.append((operation, copy.deepcopy(request)))
        return await send(request)

    def operations(self) -> list[str]:
        return [operation for operation, _ in self.requests]


@pytest.fixture
def sent(dynamorm_db):
    recorder = Recorder()
    dynamorm_db.transport.interceptors.append(recorder)
    yield recorder
    dynamorm_db.transport.interceptors.remove(recorder)


async def assert_refused(request: Awaitable[Any], message: str) -> None:
    """The server refuses `request` (a call of the raw client) with a
    ValidationException whose message says `message`."""
    with pytest.raises(ClientError) as info:
        await request
    error = info.value.response["Error"]
    assert error["Code"] == "ValidationException", error
    assert message in error["Message"], error


# --- (a) BatchWriteItem of more than 25 requests ---------------------------------------------


async def test_the_server_refuses_a_batch_write_of_26_requests(dynamorm_db):
    db = dynamorm_db
    entries = [{"PutRequest": {"Item": tags.encode(Tag(f"t{i}"))}} for i in range(26)]
    await assert_refused(
        db.client.batch_write_item(RequestItems={db.table_name(tags): entries}),
        "Too many items requested for the BatchWriteItem call",
    )
    # 13 + 13 in two tables: the limit is on the whole request.
    half = [{"PutRequest": {"Item": docs.encode(Doc("d", i))}} for i in range(13)]
    await assert_refused(
        db.client.batch_write_item(
            RequestItems={db.table_name(tags): entries[:13], db.table_name(docs): half}
        ),
        "Too many items requested for the BatchWriteItem call",
    )
    # Sent through the library's transport as is, the refusal is a typed error.
    with pytest.raises(ValidationError, match="Too many items"):
        await db.transport.call("BatchWriteItem", {"RequestItems": {db.table_name(tags): entries}})
    scanned = await db.client.scan(TableName=db.table_name(tags), Select="COUNT")
    assert scanned["Count"] == 0  # nothing of it was written


async def test_a_unit_of_work_sends_batches_of_at_most_25_requests(dynamorm_db, sent):
    db = dynamorm_db
    async with db.unit_of_work() as uow:
        for i in range(26):
            uow.put(Tag(f"t{i}"))
        for i in range(26):  # a second table: 52 writes, counted across tables
            uow.put(Doc("d", i))
    batches = [r for op, r in sent.requests if op == "BatchWriteItem"]
    sizes = sorted(sum(len(e) for e in r["RequestItems"].values()) for r in batches)
    assert sizes == [2, 25, 25]  # 52 writes: never more than 25 in one request
    assert len(await db.repository(tags).scan().consistent().all()) == 26
    assert len(await db.repository(docs).where("pk", "=", "d").consistent().all()) == 26


# --- (b) numbers DynamoDB cannot hold ----------------------------------------------------------

DIGITS_39 = "123456789012345678901234567890123456789"
DIGITS_38 = DIGITS_39[:-1]

# (number, what DynamoDB and the library say of it)
NUMBERS = [
    (DIGITS_38, "valid"),
    (DIGITS_39, "too many digits"),
    ("-" + DIGITS_39, "too many digits"),
    ("0." + DIGITS_39, "too many digits"),
    ("1" + "0" * 39, "valid"),  # 40 digits, but 1 significant
    ("1." + "0" * 38, "valid"),  # trailing zeros are not significant
    ("0." + "0" * 40 + DIGITS_38, "valid"),
    ("9.9999999999999999999999999999999999999E+125", "valid"),
    ("1E+126", "out of range"),
    ("1E-130", "valid"),
    ("1E-131", "out of range"),
]


async def raw_put_number(db, text: str) -> str:
    """What DynamoDB says of `text` as a number (raw client): "accepted", or the
    error code it refused it with."""
    item = docs.encode(Doc("raw", 1))
    try:
        await db.client.put_item(
            TableName=db.table_name(docs), Item={**item, "amount": {"N": text}}
        )
    except ClientError as exc:
        return str(exc.response["Error"]["Code"])
    return "accepted"


@pytest.mark.parametrize(("number", "verdict"), NUMBERS)
async def test_the_library_and_the_server_agree_on_which_numbers_are_valid(
    dynamorm_db, sent, number, verdict
):
    db = dynamorm_db
    expected = "accepted" if verdict == "valid" else "ValidationException"
    assert await raw_put_number(db, number) == expected
    sent.requests.clear()
    repo = db.repository(docs)
    if verdict == "valid":
        await repo.put(Doc("lib", 1, amount=Decimal(number)))
        stored = await repo.get(("lib", 1), consistent=True)
        assert stored.amount == Decimal(number)  # by value: DynamoDB normalises the text
    else:
        with pytest.raises(ConversionError) as info:
            await repo.put(Doc("lib", 1, amount=Decimal(number)))
        assert info.value.value == Decimal(number)  # the offending value is named
        assert ("significant digits" if verdict == "too many digits" else "range") in str(
            info.value
        )
        assert sent.operations() == []  # refused before sending


async def test_a_39_digit_number_is_refused_before_sending_wherever_it_appears(dynamorm_db, sent):
    """By the server, as an attribute, a key, an update or a condition value; by the
    library, with `ConversionError`, in every place a number goes."""
    db = dynamorm_db
    table = db.table_name(docs)
    big = int(DIGITS_39)
    key = {"pk": {"S": "k"}, "sk": {"N": "1"}}
    too_precise = "precision up to 38 digits"
    await assert_refused(
        db.client.put_item(TableName=table, Item={"pk": {"S": "k"}, "sk": {"N": DIGITS_39}}),
        too_precise,
    )
    await assert_refused(
        db.client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="ADD #n :v",
            ExpressionAttributeNames={"#n": "n"},
            ExpressionAttributeValues={":v": {"N": DIGITS_39}},
        ),
        too_precise,
    )
    await assert_refused(
        db.client.query(
            TableName=table,
            KeyConditionExpression="pk = :p AND sk > :v",
            ExpressionAttributeValues={":p": {"S": "k"}, ":v": {"N": DIGITS_39}},
        ),
        too_precise,
    )

    repo = db.repository(docs)
    await repo.put(Doc("k", 1))
    sent.requests.clear()
    attempts = {
        "put an int": lambda: repo.put(Doc("k", 2, n=big)),
        "put a Decimal": lambda: repo.put(Doc("k", 2, amount=Decimal(DIGITS_39))),
        "a key": lambda: repo.get(("k", big)),
        "set": lambda: repo.update(("k", 1), set={"n": big}),
        "add": lambda: repo.update(("k", 1), add={"n": big}),
        "arithmetic": lambda: repo.update(("k", 1), set={"n": attr("n") + big}),
        "if_not_exists": lambda: repo.update(("k", 1), set={"n": if_not_exists("n", big)}),
        "a condition": lambda: repo.update(("k", 1), set={"note": "x"}, condition=attr("n") < big),
        "a query key": lambda: repo.where("pk", "=", "k").where(attr("sk") > big).all(),
        "a filter": lambda: repo.where("pk", "=", "k").filter(attr("n").is_in([1, big])).all(),
        "a scan filter": lambda: repo.scan(attr("amount") > Decimal(DIGITS_39)).all(),
        "a batch read": lambda: repo.batch_get([("k", 1), ("k", big)]),
        "a transact read": lambda: db.transact_get([(docs, ("k", big))]),
    }
    # A key that cannot be encoded is an invalid key: ValidationError (wrapping the
    # conversion's message); a value anywhere else is a ConversionError.
    key_errors = {"a key", "a batch read", "a transact read"}
    for what, attempt in attempts.items():
        expected = ValidationError if what in key_errors else ConversionError
        with pytest.raises(expected, match="39 significant digits"):
            await attempt()
        assert sent.operations() == [], f"{what}: sent {sent.operations()}"

    uow = db.unit_of_work()  # refused when added, not at the commit
    with pytest.raises(ConversionError):
        uow.put(Doc("k", 3, n=big))
    with pytest.raises(ConversionError):
        uow.update(("k", 1), mapper=docs, add={"n": big})
    tx = db.transaction()
    with pytest.raises(ConversionError):
        tx.update(("k", 1), mapper=docs, set={"amount": Decimal(DIGITS_39)})
    with pytest.raises(ConversionError):
        tx.check(docs, ("k", 1), attr("n") == big)
    await uow.commit()
    await tx.commit()
    assert sent.operations() == []
    assert await repo.get(("k", 1), consistent=True) == Doc("k", 1)


# --- (c) unused ExpressionAttributeValues and ExpressionAttributeNames --------------------------

_EXPRESSIONS = (
    "KeyConditionExpression",
    "FilterExpression",
    "ProjectionExpression",
    "ConditionExpression",
    "UpdateExpression",
)
_PLACEHOLDER = re.compile(r"[#:][A-Za-z0-9_]+")


def _parts(operation: str, request: dict[str, Any]) -> list[dict[str, Any]]:
    """The parts of a request that carry their own expressions."""
    if operation in ("TransactWriteItems", "TransactGetItems"):
        return [body for action in request["TransactItems"] for body in action.values()]
    if operation == "BatchGetItem":
        return list(request["RequestItems"].values())
    return [request]


def placeholder_problems(operation: str, request: dict[str, Any]) -> list[str]:
    """Placeholders defined but unused, used but undefined, and empty maps."""
    problems = []
    for part in _parts(operation, request):
        text = " ".join(str(part[name]) for name in _EXPRESSIONS if name in part)
        used = set(_PLACEHOLDER.findall(text))
        for field, sigil in (("ExpressionAttributeNames", "#"), ("ExpressionAttributeValues", ":")):
            defined = set(part.get(field) or {})
            if field in part and not part[field]:
                problems.append(f"{operation}: an empty {field}")
            if defined - used:
                problems.append(f"{operation}: unused {field} {sorted(defined - used)}: {text}")
            undefined = {p for p in used if p.startswith(sigil)} - defined
            if undefined:
                problems.append(f"{operation}: undefined {sorted(undefined)}: {text}")
    return problems


async def test_the_server_refuses_unused_expression_attribute_values_and_names(dynamorm_db):
    db = dynamorm_db
    table = db.table_name(docs)
    key = {"pk": {"S": "u"}, "sk": {"N": "1"}}
    unused_values = "Value provided in ExpressionAttributeValues unused in expressions"
    await assert_refused(
        db.client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #a = :a",
            ExpressionAttributeNames={"#a": "note"},
            ExpressionAttributeValues={":a": {"S": "x"}, ":unused": {"S": "y"}},
        ),
        unused_values,
    )
    # moto accepts this one (it checks UpdateItem only).
    await assert_refused(
        db.client.put_item(
            TableName=table,
            Item=key,
            ConditionExpression="attribute_not_exists(pk)",
            ExpressionAttributeValues={":unused": {"S": "y"}},
        ),
        unused_values,
    )
    await assert_refused(
        db.client.update_item(
            TableName=table,
            Key=key,
            UpdateExpression="SET #a = :a",
            ExpressionAttributeNames={"#a": "note", "#b": "n"},
            ExpressionAttributeValues={":a": {"S": "x"}},
        ),
        "Value provided in ExpressionAttributeNames unused in expressions",
    )
    # Nothing of it was written; and the checker below sees what the server saw.
    assert "Item" not in await db.client.get_item(TableName=table, Key=key)
    unused = {
        "ConditionExpression": "attribute_not_exists(#k)",
        "ExpressionAttributeNames": {"#k": "pk"},
        "ExpressionAttributeValues": {":unused": {"S": "y"}},
    }
    assert placeholder_problems("PutItem", unused) == [
        "PutItem: unused ExpressionAttributeValues [':unused']: attribute_not_exists(#k)"
    ]


async def conditional(write: Any) -> None:
    """Run a conditional write: a failed condition still shows a valid request."""
    with contextlib.suppress(ConditionFailed):
        await write


async def test_the_library_never_sends_unused_placeholders(dynamorm_db, sent):
    """Every kind of request the library builds, accepted by DynamoDB Local, and none
    with a placeholder it does not use (or an empty map of them)."""
    db = dynamorm_db
    repo = db.repository(docs)
    accounts_repo = db.repository(accounts)

    # Writes, with and without conditions and values.
    await repo.put(
        Doc("c", 1, n=1, note="a", tags=frozenset({"x", "y"}), scores=[1, 2], amount=Decimal("1.5"))
    )
    await repo.put(Doc("c", 2, n=2), condition=attr("note").not_exists())
    absent = attr("note") == None  # noqa: E711 - compiles to attribute_not_exists OR NULL
    await repo.put(Doc("c", 2, n=2, note="b"), condition=(attr("n") == 2) & absent, return_old=True)
    await repo.create(Doc("c", 3, n=3))
    await conditional(repo.create(Doc("c", 3)))
    await repo.get(("c", 1), projection=["note", "tags"])
    await repo.get(("c", 1), consistent=True)
    await repo.update(("c", 1), set={"note": None})  # a REMOVE: no values at all
    await repo.update(("c", 1), remove=["scores"])
    await repo.update(("c", 1), set={"tags": frozenset()})  # an empty set: removed
    await repo.update(("c", 1), set={"tags": frozenset({"x", "y"})}, return_values="NONE")
    await repo.update(("c", 1), set={"n": attr("n") + 1}, condition=attr("n") == 1)  # 1 twice
    await repo.update(("c", 1), set={"n": 5}, condition=attr("n") == 2)
    await repo.update(
        ("c", 1),
        set={"note": "z", "scores": if_not_exists("scores", [0])},
        add={"tags": {"w"}, "amount": Decimal("0.5")},
        condition=attr("tags").contains("y") & attr("note").not_exists(),
    )
    await repo.update(("c", 1), delete={"tags": {"x"}}, condition=attr("note") == "z")
    await repo.update(("c", 1), set={"scores": attr("scores").append([3])}, return_values="ALL_OLD")
    await repo.update(("c", 1), set={"n": if_not_exists("n", 0) + 1})
    await repo.update(("c", 9), set={"n": 1}, upsert=True)
    await conditional(
        repo.update(("c", 1), set={"n": 1}, condition=attr("status").is_in(["a", "b", "a"]))
    )
    await conditional(repo.update(("c", 1), set={"note": "q"}, condition=size("tags") > 10))
    # Conditions of one structure with equal, then distinct values (the compiled
    # templates are cached per structure), and the other way round.
    for a, b in [(6, 6), (6, 7), (8, 8), (9, 10), (11, 11)]:
        await conditional(
            repo.update(("c", 1), set={"note": "t"}, condition=(attr("n") == a) | (attr("sk") == b))
        )
        await conditional(repo.update(("c", 2), set={"n": a}, condition=attr("n") != b))
    await repo.delete(("c", 3), condition=attr("n").between(0, 10))
    await repo.delete(("c", 9), return_old=True)
    await conditional(repo.delete(("c", 2), condition=attr("note").attribute_type("N")))

    # Reads.
    by_c = repo.where("pk", "=", "c")
    await by_c.all()
    await by_c.where(attr("sk") > 0).filter(attr("note").begins_with("z")).all()
    await by_c.where(attr("sk").between(1, 1)).all()
    await by_c.filter(attr("n").is_in([1, 1, 5, 7])).all()
    await by_c.filter(size("tags") > 0).project("note").as_dicts().all()
    await by_c.project("note").as_dicts().count()
    await by_c.filter(attr("n") > 0).count()
    page = await by_c.page(size=1)
    await by_c.page(size=1, cursor=page.next_cursor)
    await by_c.order(descending=True).first()
    await by_c.offset(1).limit(1).all()
    await repo.where("status", "=", "new").where(attr("n") >= 0).all()  # the GSI
    await repo.where("pk", "=", "c").where(attr("n") > 0).index("by-n").all()  # the LSI
    await repo.scan(attr("n") > 0).all()
    await repo.scan(segments=2).count()
    await repo.scan().project("n").as_dicts().all()
    await repo.batch_get([("c", 1), ("c", 2)])
    await db.transact_get([(docs, ("c", 1)), (docs, ("c", 2))])

    # Transactions and units of work.
    await repo.put(Doc("c", 4, n=4))
    async with db.transaction() as tx:
        tx.put(Doc("t", 1), condition=attr("n").not_exists())
        tx.update(("c", 1), mapper=docs, add={"n": 1}, condition=attr("n") > 0)
        tx.update(("c", 4), mapper=docs, remove=["note"])
        tx.delete(("c", 2), mapper=docs, condition=attr("n") >= 0)
        tx.check(docs, ("c", 3), attr("n").not_exists())
    async with db.unit_of_work() as uow:
        uow.put(Doc("w", 1))
        uow.put(Doc("w", 2), condition=attr("n").not_exists())
        uow.update(("c", 1), mapper=docs, set={"note": "u"})
        uow.create(Doc("w", 3))
        uow.delete(("w", 9), mapper=docs, condition=attr("n").not_exists())
        uow.check(docs, ("c", 4), attr("n") > 0)

    # Optimistic locking: version 0 (no value in the condition), then versions.
    account = await accounts_repo.put(Account("a", 10))
    account = await accounts_repo.update(account, set={"balance": 11})
    account = await accounts_repo.put(attrs.evolve(account, balance=12))
    async with db.transaction() as tx:
        account = tx.put(attrs.evolve(account, balance=13))
    async with db.unit_of_work() as uow:
        account = uow.put(attrs.evolve(account, balance=14))
    await accounts_repo.update("a", add={"balance": 1})
    stored = await accounts_repo.get("a", consistent=True)
    await accounts_repo.delete(stored)

    operations = set(sent.operations())
    assert operations >= {
        "PutItem",
        "GetItem",
        "UpdateItem",
        "DeleteItem",
        "Query",
        "Scan",
        "BatchGetItem",
        "BatchWriteItem",
        "TransactGetItems",
        "TransactWriteItems",
    }
    problems = [p for op, r in sent.requests for p in placeholder_problems(op, r)]
    assert not problems, "\n".join(problems)


async def test_equal_and_distinct_values_in_one_condition_structure_mean_what_they_say(
    dynamorm_db, sent
):
    """A cached template of a condition with one value used twice must not serve a
    condition of the same structure with two values (nor the other way round)."""
    db = dynamorm_db
    repo = db.repository(docs)
    await repo.put(Doc("e", 1, n=5))
    outcomes = []
    for a, b in [(5, 5), (5, 6), (6, 6), (6, 5), (5, 5)]:
        # Holds only when n == a and the item's own n < b ... i.e. a == 5 and b > 5.
        condition = (attr("n") == a) & (attr("n") < b)
        try:
            await repo.update(("e", 1), set={"note": f"{a}-{b}"}, condition=condition)
        except ConditionFailed:
            outcomes.append(False)
        else:
            outcomes.append(True)
    assert outcomes == [False, True, False, False, False]
    problems = [p for op, r in sent.requests for p in placeholder_problems(op, r)]
    assert not problems, "\n".join(problems)


# --- (d) projections in TransactGetItems -------------------------------------------------------


async def test_transact_get_items_applies_a_projection(dynamorm_db):
    db = dynamorm_db
    repo = db.repository(docs)
    await repo.put(Doc("p", 1, n=3, note="kept", status="s"))
    response = await db.client.transact_get_items(
        TransactItems=[
            {
                "Get": {
                    "TableName": db.table_name(docs),
                    "Key": {"pk": {"S": "p"}, "sk": {"N": "1"}},
                    "ProjectionExpression": "#a, #b",
                    "ExpressionAttributeNames": {"#a": "note", "#b": "n"},
                }
            }
        ]
    )
    # Only what was asked for: not even the key (moto returns the whole item).
    assert response["Responses"] == [{"Item": {"note": {"S": "kept"}, "n": {"N": "3"}}}]


async def test_the_library_reads_whole_items_in_transact_get(dynamorm_db, sent):
    """`db.transact_get` takes no projection: it asks for, and decodes, whole items."""
    db = dynamorm_db
    assert "projection" not in inspect.signature(db.transact_get).parameters
    await db.repository(docs).put(Doc("p", 1, n=3, note="kept"))
    assert await db.transact_get([(docs, ("p", 1)), (docs, ("p", 2))]) == [
        Doc("p", 1, n=3, note="kept"),
        None,
    ]
    (request,) = [r for op, r in sent.requests if op == "TransactGetItems"]
    assert all("ProjectionExpression" not in item["Get"] for item in request["TransactItems"])
