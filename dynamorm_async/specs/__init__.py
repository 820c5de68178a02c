"""Frozen specifications of tables and indexes (layer 1: pure data, no I/O)."""

from dynamorm_async.specs._indexes import (
    GlobalIndex,
    LocalIndex,
    Projection,
    ProjectionLike,
    valid_name,
)
from dynamorm_async.specs._table import TableOptions, Throughput

__all__ = [
    "GlobalIndex",
    "LocalIndex",
    "Projection",
    "ProjectionLike",
    "TableOptions",
    "Throughput",
    "valid_name",
]
