"""Index specifications: frozen data that a `Mapper` validates against its class."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

import attrs

from dynamorm_async.errors import MappingError

__all__ = ["GlobalIndex", "LocalIndex", "Projection", "ProjectionLike", "valid_name"]

ProjectionType = Literal["ALL", "KEYS_ONLY", "INCLUDE"]
_NAME = re.compile(r"[A-Za-z0-9_.\-]{3,255}")


def valid_name(name: object) -> bool:
    """Whether `name` is a valid DynamoDB table or index name (3-255 of ``A-Za-z0-9_.-``)."""
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def _check_projection(instance: Projection, _: object, attributes: tuple[str, ...]) -> None:
    if instance.type not in ("ALL", "KEYS_ONLY", "INCLUDE"):
        raise MappingError(
            f"projection type must be ALL, KEYS_ONLY or INCLUDE, not {instance.type!r}"
        )
    if (instance.type == "INCLUDE") != bool(attributes):
        raise MappingError("an INCLUDE projection, and only it, names attributes to include")
    if not all(isinstance(a, str) for a in attributes):
        raise MappingError(f"projection attributes must be field names, not {attributes!r}")


@attrs.frozen
class Projection:
    """Which attributes an index copies: all, only the keys, or the keys plus some.

    Example:
        >>> Projection.include("name", "price")
        Projection(type='INCLUDE', attributes=('name', 'price'))
    """

    type: ProjectionType = "ALL"
    #: Field names (Python names; stored names are applied by the mapper) for INCLUDE.
    attributes: tuple[str, ...] = attrs.field(default=(), validator=_check_projection)

    @classmethod
    def all(cls) -> Projection:
        """Every attribute of the item is copied into the index."""
        return cls("ALL")

    @classmethod
    def keys_only(cls) -> Projection:
        """Only the table's and the index's key attributes are copied."""
        return cls("KEYS_ONLY")

    @classmethod
    def include(cls, *attributes: str) -> Projection:
        """The keys plus the named attributes are copied."""
        return cls("INCLUDE", tuple(attributes))


ProjectionLike = Projection | ProjectionType | Iterable[str]


def _to_projection(value: ProjectionLike) -> Projection:
    if isinstance(value, Projection):
        return value
    if isinstance(value, str) and value in ("ALL", "KEYS_ONLY"):
        return Projection(value)  # type: ignore[arg-type]
    if isinstance(value, str) or not isinstance(value, Iterable):
        raise MappingError(f"projection must be ALL, KEYS_ONLY or a list of fields, not {value!r}")
    return Projection.include(*value)


@attrs.frozen
class GlobalIndex:
    """A global secondary index: its own partition key (and optional sort key).

    Keys are Python field names of the mapped class.

    Example:
        >>> GlobalIndex("gsi-category", partition_key="category", sort_key="price")
        GlobalIndex(name='gsi-category', partition_key='category', sort_key='price', projection=Projection(type='ALL', attributes=()))
    """

    name: str
    partition_key: str
    sort_key: str | None = None
    projection: Projection = attrs.field(default=Projection(), converter=_to_projection)


@attrs.frozen
class LocalIndex:
    """A local secondary index: the table's partition key with another sort key.

    Example:
        >>> LocalIndex("lsi-created", sort_key="created_at", projection="KEYS_ONLY")
        LocalIndex(name='lsi-created', sort_key='created_at', projection=Projection(type='KEYS_ONLY', attributes=()))
    """

    name: str
    sort_key: str
    projection: Projection = attrs.field(default=Projection(), converter=_to_projection)
