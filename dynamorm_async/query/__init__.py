"""Operations as data, turned into request payloads in one place (layer 3)."""

from dynamorm_async.query._operations import (
    DeleteOp,
    GetOp,
    PutOp,
    ReturnValues,
    UpdateOp,
    delete,
    get,
    put,
    update,
)

__all__ = [
    "DeleteOp",
    "GetOp",
    "PutOp",
    "ReturnValues",
    "UpdateOp",
    "delete",
    "get",
    "put",
    "update",
]
