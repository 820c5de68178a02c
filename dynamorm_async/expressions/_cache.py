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

_MARK = re.compile("\x00([NVC])(\\d+)\x00")


class _Recorder(Params):
    """Hands out markers instead of placeholders and records what they stand for."""

    __slots__ = ("constants", "name_list", "slots")

    def __init__(self) -> None:
        super().__init__()
        self.name_list: list[str] = []
        self.slots: list[tuple[object, Any]] = []
        self.constants: list[dict[str, Any]] = []

    def name(self, name: str) -> str:
        self.name_list.append(name)
        return f"\x00N{len(self.name_list) - 1}\x00"

    def encoded(self, label: object, value: Any, tp: Any, resolver: Resolver) -> str:
        self.slots.append((label, tp))
        return f"\x00V{len(self.slots) - 1}\x00"

    def value(self, av: dict[str, Any]) -> str:
        self.constants.append(av)
        return f"\x00C{len(self.constants) - 1}\x00"


class _Template:
    __slots__ = ("constants", "names", "parts", "slots")

    def __init__(self, text: str, recorder: _Recorder) -> None:
        self.names = recorder.name_list
        self.slots = recorder.slots
        self.constants = recorder.constants
        pieces = _MARK.split(text)
        # [literal, kind, index, literal, kind, index, ..., literal]
        self.parts: list[tuple[str, int] | str] = [
            piece if position % 3 == 0 else (piece, int(pieces[position + 1]))
            for position, piece in enumerate(pieces)
            if position % 3 != 2
        ]

    def fill(self, values: list[Any], resolver: Resolver, params: Params) -> str:
        if len(values) != len(self.slots):  # pragma: no cover - shape() and slot_values() disagree
            raise AssertionError("a condition's slot_values() does not match its shape()")
        # Allocate in the order a fresh compile would: names, then values, then constants
        # are independent counters, and each keeps its own order.
        names = [params.name(n) for n in self.names]
        encoded = [
            params.encoded(label, value, tp, resolver)
            for (label, tp), value in zip(self.slots, values, strict=True)
        ]
        constants = [params.value(av) for av in self.constants]
        out: list[str] = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
            else:
                kind, index = part
                out.append(
                    names[index]
                    if kind == "N"
                    else encoded[index]
                    if kind == "V"
                    else constants[index]
                )
        return "".join(out)


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
    except TypeError:  # not weak-referenceable: nothing is cached for it
        return CacheInfo()


def compile_cached(condition: Condition, resolver: Resolver, params: Params) -> str:
    """`condition.emit(resolver, params)`, replaying a template of its shape if known."""
    info = cache_info(resolver)
    try:
        shape = condition.shape()
        template = info.templates.get(shape)
    except TypeError:  # an unhashable value kind: compile directly
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
    return template.fill(list(condition.slot_values()), resolver, params)
