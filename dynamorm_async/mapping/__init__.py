"""Mapping of plain attrs classes to tables (layer 2)."""

from dynamorm_async.mapping._mapper import FieldInfo, Mapper

__all__ = ["FieldInfo", "Mapper"]
