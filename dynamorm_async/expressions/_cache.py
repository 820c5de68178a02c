"""Reuse of compiled condition text across structurally identical conditions.

``attr("status") == "a"`` and ``attr("status") == "b"`` compile to the same text
with different values. The first compile of a shape (`Condition.shape`) runs
against a recording `Params` and keeps a template: literal text, the stored names
and, per value, the path and type it is encoded as. Later conditions of that shape
only encode their values and replay the template, allocating names and values in
the same order as a fresh compile would, so the output is identical.
"""

from __future__ import annotations

import re
import weakref
from collections.abc import Hashable
from typing import TYPE_CHECKING, Any

from dynamorm_async.expressions._params import Params, Resolver

if TYPE_CHECKING:
    from dynamorm_async.expressions._condition import Condition

__all__ = ["CacheInfo", "cache_info", "compile_cached"]

#: Shapes kept per resolver; past it the cache starts over (shapes are few in practice).
MAX_SHAPES = 1024

_MARK = re.compile("\x00([NV])(\\d+)\x00")


class _Recorder(Params):
    """Hands out markers instead of placeholders and records what they stand for."""

    __slots__ = ("name_list", "slots")

    def __init__(self) -> None:
        super().__init__()
        self.name_list: list[str] = []
        # Values to encode (label, type) and constants (an AttributeValue), in call
        # order: both take ":v" placeholders from one counter.
        self.slots: list[tuple[object, Any] | dict[str, Any]] = []

    def name(self, name: str) -> str:
        self.name_list.append(name)
        return f"\x00N{len(self.name_list) - 1}\x00"

    def encoded(self, label: object, value: Any, tp: Any, resolver: Resolver) -> str:
        self.slots.append((label, tp))
        return f"\x00V{len(self.slots) - 1}\x00"

    def value(self, av: dict[str, Any]) -> str:
        self.slots.append(av)
        return f"\x00V{len(self.slots) - 1}\x00"


class _Template:
    """The text as a format string: ``{0}``... are names, then values."""

    __slots__ = ("format", "names", "slots")

    def __init__(self, text: str, recorder: _Recorder) -> None:
        self.names = recorder.name_list
        self.slots = recorder.slots
        offsets = {"N": 0, "V": len(self.names)}
        # Our expression syntax has no braces, so the literal text needs no escaping.
        self.format = _MARK.sub(
            lambda m: "{" + str(offsets[m.group(1)] + int(m.group(2))) + "}", text
        ).format

    def fill(self, values: list[Any], resolver: Resolver, params: Params) -> str:
        """The text with placeholders allocated in `params` for these values.

        Names and values are allocated in the order a fresh compile would: they are
        independent counters, and each keeps its own order.
        """
        name, encoded, value = params.name, params.encoded, params.value
        given = iter(values)
        placeholders = [
            value(slot)
            if isinstance(slot, dict)
            else encoded(slot[0], next(given), slot[1], resolver)
            for slot in self.slots
        ]
        return self.format(*[name(n) for n in self.names], *placeholders)


class CacheInfo:
    """How often compiled text was reused, for one resolver."""

    __slots__ = ("hits", "misses", "templates")

    def __init__(self) -> None:
        self.hits = 0
        self.misses = 0
        self.templates: dict[Hashable, _Template] = {}

    def __repr__(self) -> str:
        return f"CacheInfo(hits={self.hits}, misses={self.misses}, shapes={len(self.templates)})"


_caches: weakref.WeakKeyDictionary[Any, CacheInfo] = weakref.WeakKeyDictionary()


def cache_info(resolver: Resolver) -> CacheInfo:
    """The cache statistics of `resolver` (a new, empty record if it has none)."""
    try:
        return _caches.setdefault(resolver, CacheInfo())
    except TypeError:  # not weak-referenceable: nothing is kept for it
        return CacheInfo()


def compile_cached(condition: Condition, resolver: Resolver, params: Params) -> str:
    """`condition.emit(resolver, params)`, replaying a template of its shape if known."""
    try:
        info = _caches.get(resolver) or _caches.setdefault(resolver, CacheInfo())
    except TypeError:  # not weak-referenceable: compile directly
        return condition.emit(resolver, params)
    values: list[Any] = []
    shape = condition.shape(values)
    try:
        template = info.templates.get(shape)
    except TypeError:  # an unhashable value type in the shape: compile directly
        return condition.emit(resolver, params)
    if template is None:
        info.misses += 1
        recorder = _Recorder()
        template = _Template(condition.emit(resolver, recorder), recorder)
        if len(info.templates) >= MAX_SHAPES:
            info.templates.clear()
        info.templates[shape] = template
    else:
        info.hits += 1
    return template.fill(values, resolver, params)
