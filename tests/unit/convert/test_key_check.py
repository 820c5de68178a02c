"""`key_check()`: which key values an encoded item may skip the mapper's full check for.

The compiled check and the Python one must agree with the definition below on any
item: a key is settled if it is absent and not required, or one plain value (ASCII
text of 1 to `limit` characters, or a number).
"""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from dynamorm_async.convert import _generate


class _Text(str):
    """A str subclass: not plain."""


def definition(item: dict[str, Any], keys: tuple[tuple[str, int, bool], ...]) -> bool:
    for stored, limit, required in keys:
        if stored not in item:
            if required:
                return False
            continue
        value = item[stored]
        if type(value) is not dict or len(value) != 1:
            return False
        ((tag, inner),) = value.items()
        if tag == "N":
            continue
        if not (tag == "S" and type(inner) is str and inner.isascii()):
            return False
        if not 0 < len(inner) <= limit:
            return False
    return True


values = st.one_of(
    st.builds(lambda s: {"S": s}, st.text(max_size=6)),
    st.builds(lambda s: {"S": _Text(s)}, st.text(max_size=3)),
    st.builds(lambda n: {"N": str(n)}, st.integers()),
    st.just({"N": 5}),
    st.just({"B": b"x"}),
    st.just({"NULL": True}),
    st.just({"S": "a", "N": "1"}),
    st.just({"S": None}),
    st.just({}),
    st.just("S"),
    st.none(),
)
names = st.sampled_from(["pk", "sk", "gsi"])
items = st.dictionaries(names, values, max_size=3)
keys = st.lists(
    st.tuples(names, st.integers(min_value=0, max_value=5), st.booleans()),
    max_size=3,
    unique_by=lambda k: k[0],
).map(tuple)

CHECKS = [_generate._keys_settled]
if _generate.BUILT:
    CHECKS.append(_generate._speedups.keys_settled)


@settings(max_examples=500, derandomize=True, deadline=None)
@given(items, keys)
def test_every_key_check_is_the_definition(item, keys):
    expected = definition(item, keys)
    for check in CHECKS:
        assert check(item, keys) == expected, check


def test_the_compiled_check_is_used_where_codecs_are_compiled(monkeypatch):
    monkeypatch.setattr(_generate, "COMPILED", False)
    assert _generate.key_check() is _generate._keys_settled
    monkeypatch.setattr(_generate, "COMPILED", _generate.BUILT)
    assert (_generate.key_check() is _generate._keys_settled) == (not _generate.BUILT)
