"""Conversion between Python values and DynamoDB AttributeValues, built on cattrs.

The public names are re-exported from `dynamorm_async`; this package is the
implementation (layer 1: pure functions, no I/O).
"""

from dynamorm_async.convert._codec import (
    ItemCodec,
    TypeRegistry,
    default_registry,
    register_converter,
)
from dynamorm_async.convert._generate import key_check
from dynamorm_async.convert._hooks import (
    EpochSeconds,
    configure_converter,
    decode_any,
    encode_any,
    make_converter,
    omission_reads_back,
    scalar_type,
)
from dynamorm_async.convert._size import MAX_ITEM_BYTES, item_size

__all__ = [
    "MAX_ITEM_BYTES",
    "EpochSeconds",
    "ItemCodec",
    "TypeRegistry",
    "configure_converter",
    "decode_any",
    "default_registry",
    "encode_any",
    "item_size",
    "key_check",
    "make_converter",
    "omission_reads_back",
    "register_converter",
    "scalar_type",
]
