"""Table options: billing, throughput, streams, encryption, tags, protection, class."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal

import attrs

from dynamorm_async.errors import MappingError

__all__ = ["TableOptions", "Throughput"]

BillingMode = Literal["PAY_PER_REQUEST", "PROVISIONED"]
StreamView = Literal["NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY"]
TableClass = Literal["STANDARD", "STANDARD_INFREQUENT_ACCESS"]

_BILLING = ("PAY_PER_REQUEST", "PROVISIONED")
_STREAMS = ("NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES", "KEYS_ONLY")
_CLASSES = ("STANDARD", "STANDARD_INFREQUENT_ACCESS")


def _positive(instance: Any, attribute: attrs.Attribute[int], value: object) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise MappingError(f"{attribute.name} must be a positive int, not {value!r}")


@attrs.frozen
class Throughput:
    """Provisioned read and write capacity units, for a table or a global index.

    Example:
        >>> Throughput(read=5, write=5)
        Throughput(read=5, write=5)
    """

    read: int = attrs.field(validator=_positive)
    write: int = attrs.field(validator=_positive)

    def request(self) -> dict[str, int]:
        """DynamoDB's ``ProvisionedThroughput`` for these units."""
        return {"ReadCapacityUnits": self.read, "WriteCapacityUnits": self.write}


def _one_of(choices: tuple[str, ...], *, optional: bool = False) -> Any:
    def check(instance: Any, attribute: attrs.Attribute[Any], value: Any) -> None:
        if optional and value is None:
            return
        if value not in choices:
            raise MappingError(
                f"{attribute.name} must be one of {', '.join(choices)}, not {value!r}"
            )

    return check


def _pairs(value: object, what: str, valid: Callable[[object, object], bool]) -> tuple[Any, ...]:
    # Mappings are kept as sorted pairs: a frozen spec stays hashable and unchangeable.
    if value is None or value == ():
        return ()
    if isinstance(value, tuple):  # already pairs: attrs.evolve passes them back
        value = dict(value)
    if not isinstance(value, Mapping) or not all(valid(k, v) for k, v in value.items()):
        raise MappingError(f"{what}, not {value!r}")
    return tuple(sorted(value.items()))


def _throughputs(value: object) -> tuple[tuple[str, Throughput], ...]:
    return _pairs(
        value,
        "index_throughput must map index names to Throughput",
        lambda k, v: isinstance(k, str) and isinstance(v, Throughput),
    )


def _tags(value: object) -> tuple[tuple[str, str], ...]:
    return _pairs(
        value,
        "tags must map non-empty strings to strings",
        lambda k, v: isinstance(k, str) and bool(k) and isinstance(v, str),
    )


@attrs.frozen
class TableOptions:
    """How a table is provisioned, beyond its keys and indexes.

    Give them to a `Mapper` (``options=``) or at the call (``db.schema.create(m,
    options=...)``); `db.schema.diff` compares them with the live table. The default
    is what DynamoDB does by default: on-demand billing, no stream, encryption with
    an AWS-owned key, the standard table class, no deletion protection.

    Attributes:
        billing_mode: ``"PAY_PER_REQUEST"`` (on demand) or ``"PROVISIONED"``.
        throughput: the table's capacity, required when provisioned.
        index_throughput: capacity per global index name, when provisioned (given
            as a mapping, kept as sorted pairs so that the options stay hashable); an
            index not named here gets the table's.
        stream: the stream view type (``"NEW_AND_OLD_IMAGES"``...), or ``None`` for no
            stream.
        sse_kms_key: a KMS key id or ARN to encrypt with (``"alias/aws/dynamodb"`` for
            the AWS-managed key); ``None`` keeps DynamoDB's default AWS-owned key.
        tags: tags to put on the table.
        deletion_protection: whether DeleteTable is refused until it is turned off.
        table_class: ``"STANDARD"`` or ``"STANDARD_INFREQUENT_ACCESS"``.

    Example:
        >>> TableOptions(billing_mode="PROVISIONED", throughput=Throughput(5, 5)).billing_mode
        'PROVISIONED'
    """

    billing_mode: BillingMode = attrs.field(default="PAY_PER_REQUEST", validator=_one_of(_BILLING))
    throughput: Throughput | None = None
    index_throughput: tuple[tuple[str, Throughput], ...] = attrs.field(
        default=(), converter=_throughputs
    )
    stream: StreamView | None = attrs.field(
        default=None, validator=_one_of(_STREAMS, optional=True)
    )
    sse_kms_key: str | None = None
    tags: tuple[tuple[str, str], ...] = attrs.field(default=(), converter=_tags)
    deletion_protection: bool = False
    table_class: TableClass = attrs.field(default="STANDARD", validator=_one_of(_CLASSES))

    def __attrs_post_init__(self) -> None:
        provisioned = self.billing_mode == "PROVISIONED"
        if provisioned and self.throughput is None:
            raise MappingError("a PROVISIONED table needs throughput=Throughput(read, write)")
        if not provisioned and (self.throughput is not None or self.index_throughput):
            raise MappingError(
                "throughput is for billing_mode='PROVISIONED'; an on-demand table has none"
            )
        for value in (self.throughput, *(units for _, units in self.index_throughput)):
            if value is not None and not isinstance(value, Throughput):
                raise MappingError(f"throughput must be a Throughput, not {value!r}")
        if not isinstance(self.deletion_protection, bool):
            raise MappingError(
                f"deletion_protection must be a bool, not {self.deletion_protection!r}"
            )

    def index_capacity(self, index: str) -> Throughput | None:
        """The throughput of a global index: its own, else the table's (provisioned)."""
        return dict(self.index_throughput).get(index, self.throughput)
