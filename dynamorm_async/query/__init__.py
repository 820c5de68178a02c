"""Operations as data, query plans and cursors, turned into request payloads (layer 3)."""

from dynamorm_async.query._cursor import (
    decode_cursor,
    decode_page_cursor,
    encode_cursor,
    fingerprint,
)
from dynamorm_async.query._operations import (
    CheckOp,
    DeleteOp,
    GetOp,
    PutOp,
    ReturnValues,
    UpdateOp,
    WriteOp,
    check,
    delete,
    get,
    projection_expression,
    projection_paths,
    put,
    update,
)
from dynamorm_async.query._plan import Explain, Plan, QuerySpec, plan

__all__ = [
    "CheckOp",
    "DeleteOp",
    "Explain",
    "GetOp",
    "Plan",
    "PutOp",
    "QuerySpec",
    "ReturnValues",
    "UpdateOp",
    "WriteOp",
    "check",
    "decode_cursor",
    "decode_page_cursor",
    "delete",
    "encode_cursor",
    "fingerprint",
    "get",
    "plan",
    "projection_expression",
    "projection_paths",
    "put",
    "update",
]
