"""Classes whose annotations are strings (PEP 563), for test_mapper_forward_refs.py.

They live in a module of their own so that ``from __future__ import annotations``
applies to them, as it does in user code: every field type, nested ones included,
is a string until something resolves it.
"""

from __future__ import annotations

import attrs


@attrs.define
class Point:
    x: int
    y: int = 0


@attrs.define
class Dims:
    width: int
    height: int
    unit: str | None = "mm"
    note: str | None = None
    origin: Point | None = None


@attrs.define
class Part:
    name: str
    qty: int = 1


@attrs.define
class Box:
    id: str
    dims: Dims
    spare: Dims | None = None
    parts: list[Part] = attrs.Factory(list)
    by_name: dict[str, Part] = attrs.Factory(dict)
