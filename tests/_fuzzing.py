"""What the fuzz tests share: hypothesis settings and strategies, the types their models
hold, and the checks of what a fuzzed call gave.

Every fuzz test is derandomized (CI replays the same cases), with no deadline and no
example database; each module sets its own number of examples from `REPLAYED` (unit
tests) or `ON_FIXTURES` (async tests on function-scoped fixtures).
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import attrs
from aiobotocore.session import AioSession, get_session
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from dynamorm_async import DynamORMError

REPLAYED = settings(deadline=None, derandomize=True, database=None)
#: For tests that take function-scoped fixtures (tables, a fake endpoint) and may be slow.
ON_FIXTURES = settings(
    REPLAYED, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)

#: Seconds a call may take before it counts as a hang.
GUARD = 10

_session: AioSession | None = None


def session() -> AioSession:
    """One aiobotocore session for the fuzz tests: botocore's models load once."""
    global _session
    if _session is None:
        _session = get_session()
    return _session


# --- what a fuzzed call gave ------------------------------------------------------------


def described(exc: DynamORMError) -> DynamORMError:
    """A refusal says what went wrong."""
    assert exc.message.strip()
    assert str(exc).strip()
    return exc


def outcome(build: Callable[[], Any]) -> Any:
    """``build()``, or the DynamORMError it raised (checked); any other error escapes."""
    try:
        return build()
    except DynamORMError as exc:
        return described(exc)


async def attempt(call: Callable[[], Awaitable[Any]]) -> Any:
    """The call's result, or the DynamORMError it raised (checked); anything else, a
    hang included, escapes and fails the test."""
    with anyio.fail_after(GUARD):
        try:
            return await call()
        except DynamORMError as exc:
            return described(exc)


# --- the types the models hold ---------------------------------------------------------


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


@attrs.define
class Inner:
    a: int
    b: str = ""


# --- strategies ------------------------------------------------------------------------


def mostly(likely: st.SearchStrategy[Any], rare: st.SearchStrategy[Any]) -> Any:
    """`likely` three times in four, else `rare`."""
    return st.integers(0, 3).flatmap(lambda i: rare if i == 0 else likely)


# Text with a lone surrogate ("\ud800"): a str Python holds but UTF-8 cannot encode.
lone_surrogates = st.builds(
    lambda before, surrogate, after: before + surrogate + after,
    st.text(max_size=2),
    st.characters(categories=["Cs"]),
    st.text(max_size=2),
)


def _random_instance(name: str, fields: dict[str, Any]) -> object:
    """An instance of a class made up on the spot."""
    return type(name, (), dict(fields))()


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)
random_instances = st.builds(
    _random_instance,
    names.map(str.capitalize),
    st.dictionaries(names.filter(lambda n: not n.startswith("__")), st.integers(), max_size=3),
)


def nested(
    scalars: st.SearchStrategy[Any], hashable_scalars: st.SearchStrategy[Any]
) -> st.SearchStrategy[Any]:
    """`scalars`, and lists, tuples and dicts of them (nested), sets and frozensets of
    `hashable_scalars` (empty and mixed ones included), dicts keyed by any of them."""
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.lists(children, max_size=3).map(tuple),
            st.sets(hashable_scalars, max_size=3),
            st.frozensets(hashable_scalars, max_size=3),
            st.dictionaries(st.text(max_size=4), children, max_size=3),
            st.dictionaries(hashable_scalars, children, max_size=3),
        ),
        max_leaves=6,
    )


# Text around the key limits: ASCII and 2-, 3- and 4-byte characters, and lone
# surrogates (no UTF-8 form at all).
def _text_of(size: int, char: str) -> str:
    return char * size


def sized_texts(sizes: st.SearchStrategy[int]) -> st.SearchStrategy[str]:
    """Texts of one character repeated: `sizes` of "a", "é", "€", "🙂" or a surrogate."""
    return st.builds(_text_of, sizes, st.sampled_from(["a", "é", "€", "🙂", "\udc80"]))


def key_problem(text: str, limit: int) -> str | None:
    """What the error for a key attribute holding `text` says, or None if it fits."""
    if not text:
        return "empty"
    try:
        size = len(text.encode())
    except UnicodeEncodeError:  # a lone surrogate
        return "not valid Unicode text"
    return "bytes" if size > limit else None
