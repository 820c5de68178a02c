"""Key values DynamoDB would refuse, caught before sending: for every key attribute.

Table and index keys alike: no empty strings or binary, at most 2048 bytes for a
partition key and 1024 for a sort key (an attribute that is both gets the smaller
limit). Index keys may be absent (sparse indexes). A TTL datetime used as a key is
keyed as a number, as it is stored in epoch seconds.
"""

import datetime as dt

import attrs
import pytest

from dynamorm_async import GlobalIndex, LocalIndex, Mapper, Update, ValidationError, query

UTC = dt.timezone.utc
NEW_YEAR = dt.datetime(2021, 1, 1, tzinfo=UTC)


@attrs.define
class Event:
    tenant: str
    seq: str
    kind: str | None = None
    owner: str | None = None
    blob: bytes | None = None
    score: int | None = None
    expires: dt.datetime | None = None
    body: str = ""


EVENTS = Mapper(
    Event,
    table="events",
    partition_key="tenant",
    sort_key="seq",
    indexes=[
        GlobalIndex("gsi-kind", partition_key="kind", sort_key="owner"),
        GlobalIndex("gsi-owner", partition_key="owner", sort_key="expires"),
        GlobalIndex("gsi-score", partition_key="score"),
        LocalIndex("lsi-blob", sort_key="blob"),
    ],
    field_names={"kind": "k"},
    ttl_attribute="expires",
)


def event(**changes):
    return attrs.evolve(Event("t1", "s1"), **changes)


# --- TTL datetimes as keys ---------------------------------------------------------------------


def test_a_ttl_datetime_index_key_is_keyed_as_a_number():
    assert EVENTS.key_attributes == {
        "tenant": "S",
        "seq": "S",
        "k": "S",
        "owner": "S",
        "expires": "N",
        "score": "N",
        "blob": "B",
    }
    assert EVENTS.encode(event(owner="o", expires=NEW_YEAR))["expires"] == {"N": "1609459200"}


@attrs.define
class Session:
    user: str
    expires: dt.datetime
    other: dt.datetime = NEW_YEAR


def test_a_ttl_datetime_table_key_is_keyed_and_stored_as_a_number():
    sessions = Mapper(
        Session,
        table="sessions",
        partition_key="user",
        sort_key="expires",
        indexes=[GlobalIndex("gsi-other", partition_key="other")],
        ttl_attribute="expires",
    )
    # Only the TTL field is epoch seconds; another datetime key stays an ISO string.
    assert sessions.key_attributes == {"user": "S", "expires": "N", "other": "S"}
    key = {"user": {"S": "u1"}, "expires": {"N": "1609459200"}}
    assert sessions.key(("u1", NEW_YEAR)) == key
    assert sessions.key_of(Session("u1", NEW_YEAR)) == key
    assert sessions.encode(Session("u1", NEW_YEAR)) == {
        **key,
        "other": {"S": "2021-01-01T00:00:00.000000Z"},
    }


def test_a_datetime_key_that_is_not_the_ttl_attribute_is_a_string():
    sessions = Mapper(Session, table="sessions", partition_key="user", sort_key="expires")
    assert sessions.key_attributes == {"user": "S", "expires": "S"}


# --- index keys: absent is fine, empty is not ------------------------------------------------


def test_index_keys_may_be_absent():
    assert EVENTS.encode(event()) == {"tenant": {"S": "t1"}, "seq": {"S": "s1"}, "body": {"S": ""}}


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"kind": ""}, "kind"), ({"owner": ""}, "owner"), ({"blob": b""}, "blob")],
)
def test_empty_index_key_values_are_refused(changes, field):
    with pytest.raises(ValidationError) as info:
        EVENTS.encode(event(**changes))
    assert info.value.message == (
        f"Event.{field} is a key field and cannot be empty "
        "(DynamoDB allows empty strings and binary everywhere but in keys)"
    )
    with pytest.raises(
        ValidationError, match=rf"^Event\.{field} is a key field and cannot be empty"
    ):
        query.put(EVENTS, event(**changes))


def test_empty_values_outside_keys_are_stored():
    assert EVENTS.encode(event(body=""))["body"] == {"S": ""}


# --- sizes ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "at_limit", "over", "limit", "role"),
    [
        ("tenant", "x" * 2048, "x" * 2049, 2048, "partition"),
        ("seq", "x" * 1024, "x" * 1025, 1024, "sort"),
        ("kind", "x" * 2048, "x" * 2049, 2048, "partition"),  # an index partition key
        # gsi-owner's partition key and gsi-kind's sort key: the smaller limit holds.
        ("owner", "x" * 1024, "x" * 1025, 1024, "sort"),
        ("blob", b"\x01" * 1024, b"\x01" * 1025, 1024, "sort"),  # binary, a local index key
        # UTF-8 bytes, not characters: 1024 x 2 bytes, then 1023 x 2 bytes + 3 bytes.
        ("tenant", "é" * 1024, "é" * 1023 + "€", 2048, "partition"),
        ("seq", "€" * 341 + "x", "€" * 341 + "é", 1024, "sort"),
    ],
)
def test_key_values_up_to_the_limit_are_allowed_one_byte_more_is_refused(
    field, at_limit, over, limit, role
):
    def size(value):
        return len(value.encode() if isinstance(value, str) else value)

    assert (size(at_limit), size(over)) == (limit, limit + 1)
    item = EVENTS.encode(event(**{field: at_limit}))
    tag = "S" if isinstance(at_limit, str) else "B"
    assert item[EVENTS.stored_name(field)] == {tag: at_limit}
    with pytest.raises(ValidationError) as info:
        EVENTS.encode(event(**{field: over}))
    assert info.value.message == (
        f"Event.{field} is a key field of {limit + 1} bytes; DynamoDB allows at most "
        f"{limit} for a {role} key"
    )


def test_number_keys_have_no_byte_limit():
    assert EVENTS.encode(event(score=10**37))["score"] == {"N": str(10**37)}


def test_values_outside_keys_have_no_key_limit():
    assert EVENTS.encode(event(body="x" * 5000))["body"] == {"S": "x" * 5000}


def test_keys_built_from_values_are_checked():
    assert EVENTS.key(("t" * 2048, "s" * 1024)) == {
        "tenant": {"S": "t" * 2048},
        "seq": {"S": "s" * 1024},
    }
    with pytest.raises(ValidationError) as info:
        EVENTS.key(("t" * 2049, "s1"))
    assert info.value.message == (
        "Event.tenant is a key field of 2049 bytes; DynamoDB allows at most 2048 for a "
        "partition key"
    )
    with pytest.raises(ValidationError) as info:
        EVENTS.key({"tenant": "t1", "seq": "s" * 1025})
    assert info.value.message == (
        "Event.seq is a key field of 1025 bytes; DynamoDB allows at most 1024 for a sort key"
    )
    with pytest.raises(ValidationError, match=r"^Event\.seq is a key field of 1025 bytes"):
        query.get(EVENTS, ("t1", "s" * 1025))
    with pytest.raises(ValidationError, match=r"^Event\.tenant is a key field of 2049 bytes"):
        query.delete(EVENTS, ("t" * 2049, "s1"))


def test_check_key_value():
    assert EVENTS.check_key_value("kind", {"S": "k"}) is None
    assert EVENTS.check_key_value("kind", None, required=False) is None
    assert EVENTS.check_key_value("body", {"S": ""}) is None  # not a key attribute
    assert EVENTS.check_key_value("body", None) is None
    with pytest.raises(ValidationError) as info:
        EVENTS.check_key_value("tenant", None)
    assert info.value.message == "Event.tenant is a key field and must have a value"


# --- update(set=...) of an index key ---------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": ""}, "Event.kind is a key field and cannot be empty"),
        ({"blob": b""}, "Event.blob is a key field and cannot be empty"),
        (
            {"kind": "k" * 2049},
            "Event.kind is a key field of 2049 bytes; DynamoDB allows at most 2048 for a "
            "partition key",
        ),
        (
            {"owner": "o" * 1025},
            "Event.owner is a key field of 1025 bytes; DynamoDB allows at most 1024 for a sort key",
        ),
    ],
)
def test_update_setting_an_index_key_checks_its_value(changes, message):
    with pytest.raises(ValidationError) as info:
        query.update(EVENTS, ("t1", "s1"), Update.of(set=changes))
    assert info.value.message.startswith(message)


def test_update_setting_index_keys_to_valid_values_or_none():
    op = query.update(
        EVENTS,
        ("t1", "s1"),
        Update.of(
            set={
                "kind": "k" * 2048,
                "owner": None,  # leaves the item out of gsi-owner (and gsi-kind)
                "expires": NEW_YEAR,
                "body": "",
            }
        ),
    )
    request = op.request("events")
    assert request["UpdateExpression"] == "SET #n0 = :v0, #n2 = :v1, #n3 = :v2 REMOVE #n1"
    assert request["ExpressionAttributeNames"] == {
        "#n0": "k",
        "#n1": "owner",
        "#n2": "expires",
        "#n3": "body",
        "#n4": "tenant",
    }
    assert request["ExpressionAttributeValues"] == {
        ":v0": {"S": "k" * 2048},
        ":v1": {"N": "1609459200"},
        ":v2": {"S": ""},
    }
