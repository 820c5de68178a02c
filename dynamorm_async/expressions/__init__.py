"""Conditions, filters and updates as frozen data (layer 1: pure, no I/O).

Names always go through ``#n`` placeholders and values through ``:v`` ones; a
`Resolver` (the mapper) supplies stored names and the types values are encoded as.
"""

from dynamorm_async.expressions._condition import (
    And,
    Between,
    Compare,
    Condition,
    Exists,
    Function,
    In,
    Not,
    Or,
    Path,
    attr,
)
from dynamorm_async.expressions._params import MAX_EXPRESSION_BYTES, Params, Resolver, check_length
from dynamorm_async.expressions._path import parse_path
from dynamorm_async.expressions._update import PathLike, Update, as_paths

__all__ = [
    "MAX_EXPRESSION_BYTES",
    "And",
    "Between",
    "Compare",
    "Condition",
    "Exists",
    "Function",
    "In",
    "Not",
    "Or",
    "Params",
    "Path",
    "PathLike",
    "Resolver",
    "Update",
    "as_paths",
    "attr",
    "check_length",
    "parse_path",
]
