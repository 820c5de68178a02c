"""`omission_reads_back`: which None values (and empty sets) may be left out of an item.

Leaving an attribute out is only right when the missing attribute decodes as the
value that was left out: a field without a default, with a None default, or with an
empty-set default (or set factory). Anything else stores None as NULL.
"""

from typing import Any

import attrs
import pytest

from dynamorm_async.convert import ItemCodec, TypeRegistry, omission_reads_back


def _not_a_set_factory() -> set[int]:
    return set()


@attrs.define
class Fields:
    required: int | None
    none: int | None = None
    five: int | None = 5
    empty_frozenset: frozenset[str] = frozenset()
    empty_set: set[str] = set()  # noqa: RUF008, RUF009 - a literal empty-set default is tested
    full_frozenset: frozenset[str] = frozenset({"a"})
    set_factory: set[int] = attrs.Factory(set)
    frozenset_factory: frozenset[int] = attrs.Factory(frozenset)
    list_factory: list[int] | None = attrs.Factory(list)
    dict_factory: dict[str, int] | None = attrs.Factory(dict)
    other_factory: set[int] = attrs.Factory(_not_a_set_factory)
    takes_self: set[int] = attrs.Factory(lambda self: set(), takes_self=True)
    empty_text: str | None = ""
    zero: int | None = 0
    anything: Any = "x"


FIELDS = attrs.fields_dict(Fields)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("required", True),
        ("none", True),
        ("empty_frozenset", True),
        ("empty_set", True),
        ("set_factory", True),
        ("frozenset_factory", True),
        ("five", False),
        ("full_frozenset", False),
        ("list_factory", False),
        ("dict_factory", False),
        ("other_factory", False),  # only set/frozenset themselves are known to make {}
        ("takes_self", False),
        ("empty_text", False),  # falsy is not absent: "" and 0 are values
        ("zero", False),
        ("anything", False),
    ],
)
def test_omission_reads_back(name, expected):
    assert omission_reads_back(FIELDS[name]) is expected


@attrs.define
class Listy:
    id: str
    xs: list[int] | None = attrs.Factory(list)
    m: dict[str, int] | None = attrs.Factory(dict)
    ys: list[int] | None = None


CODEC = ItemCodec(Listy, TypeRegistry())


def test_none_in_an_optional_field_with_a_list_or_dict_factory_is_stored_as_null():
    item = CODEC.encode(Listy("a", None, None))
    assert item == {"id": {"S": "a"}, "xs": {"NULL": True}, "m": {"NULL": True}}
    assert CODEC.decode(item) == Listy("a", None, None)  # None, not [] / {}


def test_empty_list_and_dict_are_values_and_stay_values():
    item = CODEC.encode(Listy("a"))
    assert item == {"id": {"S": "a"}, "xs": {"L": []}, "m": {"M": {}}}
    assert CODEC.decode(item) == Listy("a", [], {})


def test_missing_list_or_dict_attributes_read_back_their_factory_default():
    # What another writer leaving them out gets: the default, so None must not be
    # written that way.
    assert CODEC.decode({"id": {"S": "a"}}) == Listy("a", [], {}, None)


@attrs.define
class Sets:
    id: str
    tags: frozenset[str] = frozenset({"default"})
    codes: set[int] = attrs.Factory(set)


def test_an_empty_set_is_left_out_only_when_absence_reads_it_back():
    codec = ItemCodec(Sets, TypeRegistry())
    item = codec.encode(Sets("a", frozenset(), set()))
    # tags would read back {"default"} if left out: NULL, which reads as an empty set.
    assert item == {"id": {"S": "a"}, "tags": {"NULL": True}}
    assert codec.decode(item) == Sets("a", frozenset(), set())
