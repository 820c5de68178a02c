"""Conditions, filters and updates as frozen data (layer 1: pure, no I/O).

Names always go through ``#n`` placeholders and values through ``:v`` ones; a
`Resolver` (the mapper) supplies stored names and the types values are encoded as.
"""

from dynamorm_async.expressions._cache import CacheInfo, cache_info
from dynamorm_async.expressions._condition import (
    ATTRIBUTE_TYPES,
    And,
    AttributeType,
    Between,
    Compare,
    Condition,
    Exists,
    Function,
    In,
    Not,
    Or,
    Path,
    Size,
    attr,
    size,
    where,
)
from dynamorm_async.expressions._params import (
    MAX_EXPRESSION_BYTES,
    Params,
    Resolver,
    check_length,
    encode_for,
)
from dynamorm_async.expressions._path import parse_path
from dynamorm_async.expressions._update import (
    Arithmetic,
    IfNotExists,
    ListAppend,
    PathLike,
    Update,
    UpdateValue,
    as_paths,
    if_not_exists,
    list_append,
)

__all__ = [
    "ATTRIBUTE_TYPES",
    "MAX_EXPRESSION_BYTES",
    "And",
    "Arithmetic",
    "AttributeType",
    "Between",
    "CacheInfo",
    "Compare",
    "Condition",
    "Exists",
    "Function",
    "IfNotExists",
    "In",
    "ListAppend",
    "Not",
    "Or",
    "Params",
    "Path",
    "PathLike",
    "Resolver",
    "Size",
    "Update",
    "UpdateValue",
    "as_paths",
    "attr",
    "cache_info",
    "check_length",
    "encode_for",
    "if_not_exists",
    "list_append",
    "parse_path",
    "size",
    "where",
]
