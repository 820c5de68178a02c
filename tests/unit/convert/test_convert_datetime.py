"""Datetimes: fixed-width ISO-8601 UTC text that sorts in time order; epoch seconds; dates."""

import datetime as dt
import zoneinfo
from decimal import Decimal
from typing import Annotated, Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dynamorm_async.convert import EpochSeconds, ItemCodec, TypeRegistry
from dynamorm_async.errors import ConversionError

UTC = dt.timezone.utc
ISO_WIDTH = len("2024-01-02T03:04:05.000006Z")

EpochDT = Annotated[dt.datetime, EpochSeconds]


@attrs.define
class Event:
    at: dt.datetime
    day: dt.date


def enc(value: dt.datetime) -> str:
    av = TypeRegistry().encode_value(value, dt.datetime)
    assert av is not None
    assert set(av) == {"S"}
    text: str = av["S"]
    return text


def dec(text: str) -> dt.datetime:
    value: dt.datetime = TypeRegistry().decode_value({"S": text}, dt.datetime)
    return value


def assert_utc(value: dt.datetime) -> None:
    assert value.tzinfo is not None
    assert value.utcoffset() == dt.timedelta(0)


# --- ISO text ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (dt.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=UTC), "2024-01-02T03:04:05.000006Z"),
        (dt.datetime(2024, 1, 2, tzinfo=UTC), "2024-01-02T00:00:00.000000Z"),
        (dt.datetime(1970, 1, 1, tzinfo=UTC), "1970-01-01T00:00:00.000000Z"),
        (dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC), "9999-12-31T23:59:59.999999Z"),
        (
            dt.datetime(2024, 1, 1, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
            "2024-01-01T04:30:00.000000Z",
        ),
        (
            dt.datetime(2024, 1, 1, 0, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            "2023-12-31T23:30:00.000000Z",
        ),
        (
            dt.datetime(2024, 1, 1, 20, 0, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
            "2024-01-02T01:00:00.000000Z",
        ),
    ],
)
def test_iso_wire_form(value: dt.datetime, text: str) -> None:
    assert enc(value) == text
    back = dec(text)
    assert back == value  # the same instant
    assert_utc(back)


def test_zoneinfo_converted_to_utc_instant() -> None:
    tz = zoneinfo.ZoneInfo("America/New_York")
    summer = dt.datetime(2024, 7, 1, 12, 0, tzinfo=tz)  # EDT, UTC-4
    winter = dt.datetime(2024, 1, 1, 12, 0, tzinfo=tz)  # EST, UTC-5
    assert enc(summer) == "2024-07-01T16:00:00.000000Z"
    assert enc(winter) == "2024-01-01T17:00:00.000000Z"
    assert dec(enc(summer)) == summer
    assert_utc(dec(enc(summer)))


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(999, 12, 31, 23, 59, 59, tzinfo=UTC),
        dt.datetime(1, 1, 1, tzinfo=UTC),
        dt.datetime(50, 6, 1, tzinfo=UTC),
    ],
)
def test_years_below_1000_are_zero_padded_and_round_trip(value: dt.datetime) -> None:
    text = enc(value)
    assert len(text) == ISO_WIDTH
    assert text[:4] == f"{value.year:04d}"
    assert dec(text) == value


def test_year_999_sorts_before_year_1000() -> None:
    assert enc(dt.datetime(999, 12, 31, tzinfo=UTC)) < enc(dt.datetime(1000, 1, 1, tzinfo=UTC))


@given(
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(timezones=st.just(UTC)),
)
@settings(max_examples=200, deadline=None)
def test_iso_text_is_fixed_width_and_sorts_chronologically(a: dt.datetime, b: dt.datetime) -> None:
    ta, tb = enc(a), enc(b)
    assert len(ta) == len(tb) == ISO_WIDTH
    assert (ta < tb) == (a < b)
    assert (ta == tb) == (a == b)


offsets = st.builds(
    dt.timezone,
    st.timedeltas(
        min_value=dt.timedelta(hours=-23, minutes=-59), max_value=dt.timedelta(hours=23, minutes=59)
    ),
)


@given(
    st.datetimes(
        min_value=dt.datetime(2, 1, 1),
        max_value=dt.datetime(9998, 12, 31),
        timezones=offsets,
    )
)
@settings(max_examples=200, deadline=None)
def test_any_offset_round_trips_to_same_utc_instant(value: dt.datetime) -> None:
    text = enc(value)
    assert len(text) == ISO_WIDTH
    assert text.endswith("Z")
    back = dec(text)
    assert back == value
    assert_utc(back)
    assert back == value.astimezone(UTC)


def test_decode_accepts_other_iso_forms_as_utc() -> None:
    assert dec("2024-01-01T00:00:00Z") == dt.datetime(2024, 1, 1, tzinfo=UTC)
    plus_two = dec("2024-01-01T02:00:00+02:00")
    assert plus_two == dt.datetime(2024, 1, 1, tzinfo=UTC)
    assert_utc(plus_two)


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01T00:00:00Z", "", "2024-01-01T25:00:00Z"])
def test_decode_garbage_datetime_is_error(text: str) -> None:
    with pytest.raises(ConversionError) as info:
        ItemCodec(Event, TypeRegistry()).decode({"at": {"S": text}, "day": {"S": "2024-01-01"}})
    assert info.value.field == "at"


def test_naive_datetime_rejected() -> None:
    with pytest.raises(ConversionError, match="naive"):
        TypeRegistry().encode_value(dt.datetime(2024, 1, 1), dt.datetime)
    with pytest.raises(ConversionError) as info:
        ItemCodec(Event, TypeRegistry()).encode(Event(dt.datetime(2024, 1, 1), dt.date(2024, 1, 1)))
    assert info.value.field == "at"
    assert "Event.at" in str(info.value)


def test_event_round_trip() -> None:
    codec = ItemCodec(Event, TypeRegistry())
    obj = Event(dt.datetime(2024, 3, 1, 12, tzinfo=UTC), dt.date(2024, 2, 29))
    item = codec.encode(obj)
    assert item == {"at": {"S": "2024-03-01T12:00:00.000000Z"}, "day": {"S": "2024-02-29"}}
    assert codec.decode(item) == obj


# --- date ----------------------------------------------------------------------------------


@given(st.dates())
@settings(max_examples=100, deadline=None)
def test_date_round_trip_and_order(value: dt.date) -> None:
    av = TypeRegistry().encode_value(value, dt.date)
    assert av == {"S": value.isoformat()}
    assert len(av["S"]) == 10
    back = TypeRegistry().decode_value(av, dt.date)
    assert back == value
    assert type(back) is dt.date


def test_date_field_rejects_datetime_and_garbage() -> None:
    codec = ItemCodec(Event, TypeRegistry())
    now = dt.datetime(2024, 1, 1, tzinfo=UTC)
    with pytest.raises(ConversionError) as info:
        codec.encode(Event(now, now))
    assert info.value.field == "day"
    with pytest.raises(ConversionError) as info:
        codec.decode({"at": {"S": "2024-01-01T00:00:00.000000Z"}, "day": {"S": "2024-02-30"}})
    assert info.value.field == "day"


# --- epoch seconds -------------------------------------------------------------------------


@attrs.define
class Session:
    id: str
    expires: EpochDT


def epoch_av(value: dt.datetime) -> dict[str, Any]:
    av = TypeRegistry().encode_value(value, EpochDT)
    assert av is not None
    return av


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (dt.datetime(1970, 1, 1, tzinfo=UTC), Decimal(0)),
        (dt.datetime(2024, 1, 1, tzinfo=UTC), Decimal(1704067200)),
        (dt.datetime(2024, 1, 1, 0, 0, 0, 123456, tzinfo=UTC), Decimal("1704067200.123456")),
        (dt.datetime(2024, 1, 1, 0, 0, 0, 1, tzinfo=UTC), Decimal("1704067200.000001")),
        (dt.datetime(1969, 12, 31, 23, 59, 58, 500000, tzinfo=UTC), Decimal("-1.5")),
        (dt.datetime(1900, 1, 1, tzinfo=UTC), Decimal(-2208988800)),
        (
            dt.datetime(2024, 1, 1, 1, 0, tzinfo=dt.timezone(dt.timedelta(hours=1))),
            Decimal(1704067200),
        ),
    ],
)
def test_epoch_wire_value(value: dt.datetime, number: Decimal) -> None:
    av = epoch_av(value)
    assert set(av) == {"N"}
    assert Decimal(av["N"]) == number
    back = TypeRegistry().decode_value(av, EpochDT)
    assert back == value
    assert_utc(back)


def test_epoch_whole_seconds_are_integers() -> None:
    assert epoch_av(dt.datetime(2024, 1, 1, tzinfo=UTC)) == {"N": "1704067200"}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1.7E+9", dt.datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC)),
        ("1704067200.5", dt.datetime(2024, 1, 1, 0, 0, 0, 500000, tzinfo=UTC)),
        ("-0.000001", dt.datetime(1969, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)),
        ("0", dt.datetime(1970, 1, 1, tzinfo=UTC)),
    ],
)
def test_epoch_decode_of_stored_numbers(text: str, expected: dt.datetime) -> None:
    back = TypeRegistry().decode_value({"N": text}, EpochDT)
    assert back == expected
    assert_utc(back)


@given(st.datetimes(timezones=st.just(UTC)))
@settings(max_examples=200, deadline=None)
def test_epoch_round_trips_with_microseconds(value: dt.datetime) -> None:
    av = epoch_av(value)
    back = TypeRegistry().decode_value(av, EpochDT)
    assert back == value
    expected = Decimal(
        (value - dt.datetime(1970, 1, 1, tzinfo=UTC)) // dt.timedelta(microseconds=1)
    )
    assert Decimal(av["N"]) == expected.scaleb(-6)


@given(st.datetimes(timezones=st.just(UTC)), st.datetimes(timezones=st.just(UTC)))
@settings(max_examples=100, deadline=None)
def test_epoch_numbers_order_like_times(a: dt.datetime, b: dt.datetime) -> None:
    assert (Decimal(epoch_av(a)["N"]) < Decimal(epoch_av(b)["N"])) == (a < b)


def test_epoch_naive_rejected() -> None:
    with pytest.raises(ConversionError, match="naive"):
        TypeRegistry().encode_value(dt.datetime(2024, 1, 1), EpochDT)
    with pytest.raises(ConversionError) as info:
        ItemCodec(Session, TypeRegistry()).encode(Session("s", dt.datetime(2024, 1, 1)))
    assert info.value.field == "expires"


def test_epoch_field_in_class() -> None:
    codec = ItemCodec(Session, TypeRegistry())
    obj = Session("s", dt.datetime(2024, 1, 1, 0, 0, 1, tzinfo=UTC))
    item = codec.encode(obj)
    assert item == {"id": {"S": "s"}, "expires": {"N": "1704067201"}}
    assert codec.decode(item) == obj


@attrs.define
class Plain:
    id: str
    expires: dt.datetime


def test_field_types_override_stores_epoch() -> None:
    codec = ItemCodec(
        Plain, TypeRegistry(), field_types={"expires": EpochDT}, rename={"expires": "ttl"}
    )
    obj = Plain("s", dt.datetime(2024, 1, 1, tzinfo=UTC))
    item = codec.encode(obj)
    assert item == {"id": {"S": "s"}, "ttl": {"N": "1704067200"}}
    assert codec.decode(item) == obj
    plain = ItemCodec(Plain, TypeRegistry()).encode(obj)
    assert plain["expires"] == {"S": "2024-01-01T00:00:00.000000Z"}


def test_epoch_scalar_type() -> None:
    registry = TypeRegistry()
    assert registry.scalar_type(EpochDT) == "N"
    assert registry.scalar_type(dt.datetime) == "S"
