"""A cattrs converter between Python values and DynamoDB AttributeValues.

It follows cattrs' *preconf* shape: `configure_converter` registers the hooks of
the wire format on any `cattrs.Converter`, `make_converter` builds one. Hooks go
straight between Python values and AttributeValue dicts (``{"S": "x"}``), with no
intermediate plain-dict pass.

Two conventions make DynamoDB's rules fit Python:

* An encode hook may return ``None``, meaning "store nothing": a ``None`` in an
  ``Optional`` field and an empty set (DynamoDB has no empty sets) are left out of
  the item, unless their absence would read back as another default (then they
  are stored as ``NULL``). Inside a list or map, where a hole cannot be left, they
  become ``NULL``.
* A missing attribute decodes as the field's default; with no default, as ``None``
  for an ``Optional`` field and as an empty set for a set field.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import sys
import typing
import uuid
import weakref
from collections.abc import Callable, Mapping, MutableMapping, MutableSequence, Sequence
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Any, Final, Literal, TypeVar, Union

import attrs
import cattrs
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.gen import make_dict_structure_fn

from dynamorm_async.convert import _numbers
from dynamorm_async.convert._generate import Inline, generate_decoder, generate_encoder
from dynamorm_async.errors import ConversionError

__all__ = [
    "SCALAR_TYPES",
    "EpochSeconds",
    "omission_reads_back",
    "configure_converter",
    "make_converter",
    "scalar_type",
]

T = TypeVar("T")
Encoder = Callable[[Any], "dict[str, Any] | None"]
Decoder = Callable[[Any, Any], Any]

NULL: Final = {"NULL": True}
_NoneType = type(None)
_UTC = dt.timezone.utc


class EpochSeconds:
    """Marks a ``datetime`` field to be stored as epoch seconds (a Number), not ISO text.

    Use it with ``typing.Annotated``; a mapper's ``ttl_attribute`` gets it implicitly,
    because DynamoDB's TTL reads epoch seconds.

    Example:
        >>> from typing import Annotated
        >>> import datetime as dt
        >>> import attrs
        >>> @attrs.define
        ... class Session:
        ...     id: str
        ...     expires_at: Annotated[dt.datetime, EpochSeconds]
    """


# --- scalars ---------------------------------------------------------------------


def _type_error(value: Any, expected: str) -> ConversionError:
    return ConversionError(
        f"expected {expected}, got {type(value).__name__} {value!r}", value=value
    )


def _enc_str(value: Any) -> dict[str, Any]:
    if isinstance(value, str):
        return {"S": value}
    raise _type_error(value, "a str")


def _dec_str(av: Any, _: Any) -> str:
    value = av["S"]
    if type(value) is not str:
        raise _type_error(value, "a str")
    return value


def _enc_int(value: Any) -> dict[str, Any]:
    return {"N": _numbers.encode_int(value)}


def _dec_int(av: Any, _: Any) -> int:
    return _numbers.decode_int(av["N"])


def _enc_float(value: Any) -> dict[str, Any]:
    return {"N": _numbers.encode_float(value)}


def _dec_float(av: Any, _: Any) -> float:
    return _numbers.decode_float(av["N"])


def _enc_decimal(value: Any) -> dict[str, Any]:
    return {"N": _numbers.encode_decimal(value)}


def _dec_decimal(av: Any, _: Any) -> Decimal:
    return _numbers.decode_decimal(av["N"])


def _enc_bool(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"BOOL": value}
    raise _type_error(value, "a bool")


def _dec_bool(av: Any, _: Any) -> bool:
    value = av["BOOL"]
    if type(value) is not bool:
        raise _type_error(value, "a bool")
    return value


def _enc_bytes(value: Any) -> dict[str, Any]:
    if isinstance(value, bytes):
        return {"B": value}
    if isinstance(value, (bytearray, memoryview)):
        return {"B": bytes(value)}
    raise _type_error(value, "bytes")


def _dec_bytes(av: Any, _: Any) -> bytes:
    return _binary(av["B"])


if sys.version_info >= (3, 11):

    def _strict_b64decode(text: str) -> bytes:
        return binascii.a2b_base64(text, strict_mode=True)  # C, and no detours

else:  # pragma: no cover - Python 3.10

    def _strict_b64decode(text: str) -> bytes:
        return base64.b64decode(text, validate=True)


def _binary(value: Any) -> bytes:
    """A Binary value: bytes as botocore gives them, or base64 text as the wire (and
    the fast path's Query and Scan items) carries it. DynamoDB sends canonical base64:
    text with anything else (which botocore would skip) is refused."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return _strict_b64decode(value)
    if isinstance(value, (bytearray, memoryview)):
        return bytes(value)
    raise _type_error(value, "bytes")


def _dec_bytearray(av: Any, _: Any) -> bytearray:
    return bytearray(_dec_bytes(av, None))


def _enc_uuid(value: Any) -> dict[str, Any]:
    if value.__class__ is uuid.UUID:
        digits = "%032x" % value.int  # noqa: UP031 - str(UUID) without its call
        return {"S": f"{digits[:8]}-{digits[8:12]}-{digits[12:16]}-{digits[16:20]}-{digits[20:]}"}
    if isinstance(value, uuid.UUID):
        return {"S": str(value)}
    raise _type_error(value, "a UUID")


_UUID_SLOTS = getattr(uuid.UUID, "__slots__", ())
if "int" in _UUID_SLOTS and "is_safe" in _UUID_SLOTS:  # CPython's UUID
    _new_uuid = object.__new__
    _set_uuid_int = vars(uuid.UUID)["int"].__set__  # the slots' descriptors
    _set_uuid_safe = vars(uuid.UUID)["is_safe"].__set__

    def _uuid_text(text: str) -> uuid.UUID:
        """What UUID(text) gives for the usual spelling (anything else raises): its
        __init__ weighs every other spelling and keyword, half the cost of a decode."""
        digits = text.replace("-", "")
        if len(digits) != 32:
            raise ValueError(text)
        value = int(digits, 16)  # 32 digits are below 2**128, as UUID requires
        made = _new_uuid(uuid.UUID)
        _set_uuid_int(made, value)
        _set_uuid_safe(made, uuid.SafeUUID.unknown)
        return made

else:  # pragma: no cover - another Python's UUID

    def _uuid_text(text: str) -> uuid.UUID:
        digits = text.replace("-", "")
        if len(digits) != 32:
            raise ValueError(text)
        return uuid.UUID(int=int(digits, 16))


def _dec_uuid(av: Any, _: Any) -> uuid.UUID:
    text = av["S"]
    try:
        return _uuid_text(text)
    except (ValueError, TypeError, AttributeError):
        return uuid.UUID(text)  # the other spellings ({...}, urn:uuid:), or its error


def _enc_date(value: Any) -> dict[str, Any]:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return {"S": value.isoformat()}
    raise _type_error(value, "a date")


def _dec_date(av: Any, _: Any) -> dt.date:
    return dt.date.fromisoformat(av["S"])


def _utc(value: Any) -> dt.datetime:
    if type(value) is dt.datetime and value.tzinfo is _UTC:
        return value
    if not isinstance(value, dt.datetime):
        raise _type_error(value, "a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ConversionError(
            "naive datetime: attach a timezone (e.g. datetime.now(timezone.utc)) "
            "so the stored instant is unambiguous",
            value=value,
        )
    return value.astimezone(dt.timezone.utc)


def _enc_datetime(value: Any) -> dict[str, Any]:
    # Fixed width, so that stored strings sort in time order (sort keys, filters).
    d = _utc(value)
    return {
        "S": "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ"  # noqa: UP031 - the fastest here
        % (d.year, d.month, d.day, d.hour, d.minute, d.second, d.microsecond)
    }


def _parse_datetime(text: str) -> dt.datetime:
    if text[-1:] in ("Z", "z") and sys.version_info < (3, 11):  # "Z" is read from 3.11
        text = text[:-1] + "+00:00"
    parsed = dt.datetime.fromisoformat(text)
    tz = parsed.tzinfo
    if tz is _UTC:
        return parsed
    if tz is None:
        return parsed.replace(tzinfo=_UTC)
    return parsed.astimezone(_UTC)


def _dec_datetime(av: Any, _: Any) -> dt.datetime:
    return _parse_datetime(av["S"])


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=_UTC)


def _enc_epoch(value: Any) -> dict[str, Any]:
    delta = _utc(value) - _EPOCH
    seconds = delta.days * 86400 + delta.seconds
    if delta.microseconds:
        return {"N": str(Decimal(seconds) + Decimal(delta.microseconds).scaleb(-6))}
    return {"N": str(seconds)}


def _dec_epoch(av: Any, _: Any) -> dt.datetime:
    number = _numbers.decode_decimal(av["N"])
    seconds = int(number)
    micros = int((number - seconds) * 1_000_000)
    return _EPOCH + dt.timedelta(seconds=seconds, microseconds=micros)


_SCALAR_HOOKS: Final[dict[type, tuple[Encoder, Decoder, str]]] = {
    str: (_enc_str, _dec_str, "S"),
    int: (_enc_int, _dec_int, "N"),
    float: (_enc_float, _dec_float, "N"),
    Decimal: (_enc_decimal, _dec_decimal, "N"),
    bool: (_enc_bool, _dec_bool, "BOOL"),
    bytes: (_enc_bytes, _dec_bytes, "B"),
    bytearray: (_enc_bytes, _dec_bytearray, "B"),
    uuid.UUID: (_enc_uuid, _dec_uuid, "S"),
    dt.date: (_enc_date, _dec_date, "S"),
    dt.datetime: (_enc_datetime, _dec_datetime, "S"),
}


#: The scalar Python types the converter stores natively.
SCALAR_TYPES: Final = frozenset(_SCALAR_HOOKS)


# --- values of unknown type (Any, object, dict[str, Any]...) ------------------------


def encode_any(value: Any, converter: cattrs.Converter) -> dict[str, Any] | None:
    """Encode a value by its runtime type; used where the declared type says nothing."""
    if value is None:
        return NULL
    cls = type(value)
    if cls in _SCALAR_HOOKS:  # through the converter: a user may have re-registered it
        encoded: dict[str, Any] | None = converter.get_unstructure_hook(cls)(value)
        return encoded
    if isinstance(value, enum.Enum):
        return encode_any(value.value, converter)
    if isinstance(value, Mapping):
        return {"M": {_map_key(k): _hole(encode_any(v, converter)) for k, v in value.items()}}
    if isinstance(value, (list, tuple)):
        return {"L": [_hole(encode_any(v, converter)) for v in value]}
    if isinstance(value, AbstractSet):
        return _encode_set_by_elements(value)
    if attrs.has(cls):
        nested: dict[str, Any] | None = converter.unstructure(value, cls)
        return nested
    for base, (encode, _, _) in _SCALAR_HOOKS.items():
        if isinstance(value, base) and not (base is int and isinstance(value, bool)):
            return encode(value)
    # A type with a registered converter; the fallback hook raises for any other.
    registered: dict[str, Any] | None = converter.get_unstructure_hook(cls)(value)
    return registered


def _encode_set_by_elements(value: AbstractSet[Any]) -> dict[str, Any] | None:
    if not value:
        return None
    sample = next(iter(value))
    if isinstance(sample, str):
        return _enc_str_set(value)
    if isinstance(sample, (bytes, bytearray)):
        return _enc_bytes_set(value)
    if isinstance(sample, (int, float, Decimal)) and not isinstance(sample, bool):
        return _enc_number_set(value)
    raise ConversionError(
        f"DynamoDB sets hold strings, numbers or bytes, not {type(sample).__name__}",
        value=value,
    )


def decode_any(av: Any) -> Any:
    """Decode an AttributeValue with no declared type: numbers become int or Decimal."""
    try:
        return _decode_any(av)
    except ConversionError:
        raise
    except (ValueError, TypeError, AttributeError, ArithmeticError) as exc:
        # A malformed AttributeValue ({}, two types, {"L": 5}...): never a bare error.
        raise ConversionError(f"not a valid AttributeValue: {exc}", value=av) from exc


def _decode_any(av: Any) -> Any:
    ((tag, value),) = av.items()
    if tag == "S":
        return value
    if tag == "N":
        return _number_any(value)
    if tag == "BOOL":
        return value
    if tag == "NULL":
        return None
    if tag == "M":
        return {k: _decode_any(v) for k, v in value.items()}
    if tag == "L":
        return [_decode_any(v) for v in value]
    if tag == "SS":
        return set(value)
    if tag == "NS":
        return {_number_any(v) for v in value}
    if tag == "B":
        return _binary(value)
    if tag == "BS":
        return {_binary(v) for v in value}
    raise ConversionError(f"unknown DynamoDB type {tag!r}", value=av)


def _number_any(text: str) -> int | Decimal:
    try:
        return int(text)
    except ValueError:
        return _numbers.decode_decimal(text)


def _hole(encoded: dict[str, Any] | None) -> dict[str, Any]:
    """Inside a list or map a value cannot be left out: it becomes NULL."""
    return NULL if encoded is None else encoded


def _map_key(key: Any) -> str:
    if isinstance(key, str) and key:
        return key
    if key == "":
        # DynamoDB attribute names, map keys included, are at least one character.
        raise ConversionError("map keys cannot be empty strings", value=key)
    raise ConversionError(f"map keys must be str, got {type(key).__name__} {key!r}", value=key)


# --- sets --------------------------------------------------------------------------


def _enc_str_set(value: Any) -> dict[str, Any] | None:
    if not value:
        return None
    for element in value:
        if not isinstance(element, str):
            raise _type_error(element, "a str in a string set")
    return {"SS": list(value)}


def _number_set_encoder(encode: Callable[[object], str]) -> Encoder:
    def encode_set(value: Any) -> dict[str, Any] | None:
        if not value:
            return None
        return {"NS": [encode(element) for element in value]}

    return encode_set


def _encode_number(value: object) -> str:
    if isinstance(value, float):
        return _numbers.encode_float(value)
    if isinstance(value, Decimal):
        return _numbers.encode_decimal(value)
    return _numbers.encode_int(value)


_enc_number_set = _number_set_encoder(_encode_number)


def _enc_bytes_set(value: Any) -> dict[str, Any] | None:
    if not value:
        return None
    return {"BS": [_enc_bytes(element)["B"] for element in value]}


def _set_factory(kind: str, elem_decode: Callable[[str], Any] | None, frozen: bool) -> Decoder:
    make = frozenset if frozen else set

    def decode(av: Any, _: Any) -> Any:
        if "NULL" in av:
            return make()
        if elem_decode is None:  # strings: taken as they are
            return make(av[kind])
        return make(map(elem_decode, av[kind]))

    _DECODE_PARTS[decode] = ("set", kind, elem_decode, make)
    return decode


# --- predicates on types ------------------------------------------------------------


def _origin(tp: Any) -> Any:
    return typing.get_origin(tp)


def _is_optional(tp: Any) -> bool:
    return _is_union(tp) and _NoneType in typing.get_args(tp)


def _is_union(tp: Any) -> bool:
    origin = _origin(tp)
    if origin is Union:
        return True
    union_type = getattr(__import__("types"), "UnionType", None)
    return union_type is not None and isinstance(tp, union_type)


def _is_epoch(tp: Any) -> bool:
    if _origin(tp) is not typing.Annotated:
        return False
    base, *meta = typing.get_args(tp)
    return base is dt.datetime and any(
        m is EpochSeconds or isinstance(m, EpochSeconds) for m in meta
    )


def _is_set(tp: Any) -> bool:
    return tp in (set, frozenset) or _origin(tp) in (set, frozenset, AbstractSet)


def _is_list(tp: Any) -> bool:
    return tp in (list, tuple) or _origin(tp) in (list, tuple, Sequence, MutableSequence)


def _is_map(tp: Any) -> bool:
    return tp is dict or _origin(tp) in (dict, Mapping, MutableMapping)


def _is_any(tp: Any) -> bool:
    return tp is Any or tp is object


def _is_enum(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, enum.Enum)


def _is_literal(tp: Any) -> bool:
    return _origin(tp) is Literal


# --- factories -----------------------------------------------------------------------


def unstructure_hook(converter: cattrs.Converter, tp: Any) -> Encoder:
    """The encode hook of `tp`; Enums first, because cattrs would pick the ``int`` or
    ``str`` hook for an ``IntEnum`` or a ``str`` mix-in Enum (dispatch by MRO)."""
    if _is_enum(tp):
        return _unstructure_enum(tp)
    hook: Encoder = converter.get_unstructure_hook(tp)
    return hook


def structure_hook(converter: cattrs.Converter, tp: Any) -> Decoder:
    """The decode hook of `tp`, Enums first (see `unstructure_hook`)."""
    if _is_enum(tp):
        return _structure_enum(tp)
    hook: Decoder = converter.get_structure_hook(tp)
    return hook


def _enc_none(value: Any) -> None:
    # A field typed `None` holds nothing: it is left out of the item.
    if value is not None:
        raise _type_error(value, "None")


def _dec_none(av: Any, _: Any) -> None:
    if av is not None and "NULL" not in av:
        raise ConversionError(f"expected NULL for a None field, got {av!r}", value=av)


def configure_converter(converter: cattrs.Converter) -> None:
    """Register the hooks of DynamoDB's wire format on a cattrs converter.

    Covers str, int, float, Decimal, bool, bytes, bytearray, None, list, tuple, dict,
    set and frozenset, datetime (ISO text, or epoch seconds with `EpochSeconds`),
    date, UUID, Enum, Literal, Optional and other unions, nested attrs classes,
    and values typed ``Any``.
    """
    for tp, (encode, decode, _) in _SCALAR_HOOKS.items():
        converter.register_unstructure_hook(tp, encode)
        converter.register_structure_hook(tp, decode)
    converter.register_unstructure_hook(_NoneType, _enc_none)
    converter.register_structure_hook(_NoneType, _dec_none)

    def enc_any(value: Any) -> Any:
        return encode_any(value, converter)

    converter.register_unstructure_hook_factory(_is_any, lambda _: enc_any)
    converter.register_structure_hook_factory(_is_any, lambda _: lambda av, _t: decode_any(av))

    converter.register_unstructure_hook_factory(_is_enum, _unstructure_enum)
    converter.register_structure_hook_factory(_is_enum, _structure_enum)

    converter.register_unstructure_hook_factory(_is_literal, lambda tp: _unstructure_literal(tp))
    converter.register_structure_hook_factory(_is_literal, _structure_literal)

    converter.register_unstructure_hook_factory(
        _is_list, lambda tp: _unstructure_list(tp, converter)
    )
    converter.register_structure_hook_factory(_is_list, lambda tp: _structure_list(tp, converter))

    converter.register_unstructure_hook_factory(_is_map, lambda tp: _unstructure_map(tp, converter))
    converter.register_structure_hook_factory(_is_map, lambda tp: _structure_map(tp, converter))

    converter.register_unstructure_hook_factory(_is_set, _unstructure_set)
    converter.register_structure_hook_factory(_is_set, _structure_set)

    converter.register_unstructure_hook_factory(
        _is_union, lambda tp: _unstructure_union(tp, converter)
    )
    converter.register_structure_hook_factory(_is_union, lambda tp: _structure_union(tp, converter))

    converter.register_unstructure_hook_factory(_is_epoch, lambda _: _enc_epoch)
    converter.register_structure_hook_factory(_is_epoch, lambda _: _dec_epoch)

    converter.register_unstructure_hook_factory(
        attrs.has, lambda cls: _unstructure_class(cls, converter)
    )
    converter.register_structure_hook_factory(
        attrs.has, lambda cls: _structure_class(cls, converter)
    )


def _no_unstructure_hook(tp: Any) -> Encoder:
    def refuse(value: Any) -> Any:
        raise ConversionError(
            f"no converter for {_type_name(tp)}: register one with "
            "register_converter(cls, encode=..., decode=..., stored_as=...)",
            value=value,
        )

    return refuse


def _no_structure_hook(tp: Any) -> Decoder:
    def refuse(av: Any, _: Any) -> Any:
        raise ConversionError(
            f"no converter for {_type_name(tp)}: register one with "
            "register_converter(cls, encode=..., decode=..., stored_as=...)",
            value=av,
        )

    return refuse


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)


def make_converter(*, detailed_validation: bool = False) -> cattrs.Converter:
    """A new cattrs converter configured for DynamoDB's wire format.

    Args:
        detailed_validation: build decoders that collect every error with its field
            (slower; dynamorm_async uses it only to explain a decode that failed).
    """
    converter = cattrs.Converter(
        detailed_validation=detailed_validation,
        unstructure_fallback_factory=_no_unstructure_hook,
        structure_fallback_factory=_no_structure_hook,
    )
    configure_converter(converter)
    return converter


def _element_type(tp: Any) -> Any:
    args = typing.get_args(tp)
    return args[0] if args else Any


def _unstructure_list(tp: Any, converter: cattrs.Converter) -> Encoder:
    args = typing.get_args(tp)
    if _origin(tp) is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        encoders = [unstructure_hook(converter, a) for a in args]

        def encode_tuple(value: Any) -> dict[str, Any]:
            if len(value) != len(encoders):
                raise ConversionError(
                    f"expected a tuple of {len(encoders)} values, got {len(value)}", value=value
                )
            return {"L": [_hole(enc(v)) for enc, v in zip(encoders, value, strict=True)]}

        return encode_tuple

    element = unstructure_hook(converter, _element_type(tp))

    def encode_list(value: Any) -> dict[str, Any]:
        if isinstance(value, (str, bytes, Mapping, AbstractSet)) or not isinstance(value, Sequence):
            raise _type_error(value, "a list or tuple")
        return {"L": [_hole(element(v)) for v in value]}

    _ENCODE_PARTS[encode_list] = ("list", element)
    return encode_list


def _structure_list(tp: Any, converter: cattrs.Converter) -> Decoder:
    args = typing.get_args(tp)
    origin = _origin(tp) or tp
    if origin is tuple and args and not (len(args) == 2 and args[1] is Ellipsis):
        decoders = [(structure_hook(converter, a), a) for a in args]

        def decode_tuple(av: Any, _: Any) -> tuple[Any, ...]:
            items = av["L"]
            if len(items) != len(decoders):
                raise ConversionError(
                    f"expected {len(decoders)} values, got {len(items)}", value=av
                )
            return tuple(dec(v, a) for (dec, a), v in zip(decoders, items, strict=True))

        return decode_tuple

    elem_tp = _element_type(tp)
    element = structure_hook(converter, elem_tp)
    make = tuple if origin is tuple else list

    def decode_list(av: Any, _: Any) -> Any:
        return make([element(v, elem_tp) for v in av["L"]])

    if not converter.detailed_validation:
        if make is list:
            _DECODE_PARTS[decode_list] = ("list", element, elem_tp)
        return decode_list

    def decode_list_detailed(av: Any, _: Any) -> Any:
        # Only used to explain a failure: note the index of each element that failed.
        out, errors = [], []
        for index, value in enumerate(av["L"]):
            try:
                out.append(element(value, elem_tp))
            except Exception as exc:
                exc.__notes__ = [  # type: ignore[attr-defined]
                    *getattr(exc, "__notes__", []),
                    IterableValidationNote(f"Structuring {tp} @ index {index}", index, elem_tp),
                ]
                errors.append(exc)
        if errors:
            raise IterableValidationError(f"While structuring {tp!r}", errors, tp)
        return make(out)

    return decode_list_detailed


def _unstructure_map(tp: Any, converter: cattrs.Converter) -> Encoder:
    args = typing.get_args(tp)
    if args and args[0] is not str and not _is_any(args[0]):
        raise ConversionError(f"DynamoDB maps are keyed by str, not {args[0]!r}", value=tp)
    value_hook = unstructure_hook(converter, args[1] if args else Any)

    def encode_map(value: Any) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            raise _type_error(value, "a mapping")
        return {"M": {_map_key(k): _hole(value_hook(v)) for k, v in value.items()}}

    return encode_map


def _structure_map(tp: Any, converter: cattrs.Converter) -> Decoder:
    args = typing.get_args(tp)
    value_tp = args[1] if args else Any
    value_hook = structure_hook(converter, value_tp)

    def decode_map(av: Any, _: Any) -> dict[str, Any]:
        return {k: value_hook(v, value_tp) for k, v in av["M"].items()}

    return decode_map


def _set_kind(tp: Any) -> tuple[str, Encoder, Callable[[Any], Any] | None]:
    elem = _element_type(tp)
    if elem is str:
        return "SS", _enc_str_set, None
    if elem in (bytes, bytearray):
        return "BS", _enc_bytes_set, _binary
    if elem is int:
        return "NS", _number_set_encoder(_numbers.encode_int), _numbers.decode_int
    if elem is float:
        return "NS", _number_set_encoder(_numbers.encode_float), _numbers.decode_float
    if elem is Decimal:
        return "NS", _number_set_encoder(_numbers.encode_decimal), _numbers.decode_decimal
    raise ConversionError(
        f"DynamoDB sets hold str, int, float, Decimal or bytes, not {elem!r} (in {tp!r})",
        value=tp,
    )


def _unstructure_set(tp: Any) -> Encoder:
    kind, encode, element = _set_kind(tp)

    def encode_set(value: Any) -> dict[str, Any] | None:
        if type(value) not in (set, frozenset) and not isinstance(value, AbstractSet):
            raise _type_error(value, "a set")
        return encode(value)

    if encode is _enc_str_set:
        _ENCODE_PARTS[encode_set] = ("strset",)
    elif kind == "NS":  # the element's decoder says which numbers (int, float, Decimal)
        _ENCODE_PARTS[encode_set] = ("numset", element)
    return encode_set


def _structure_set(tp: Any) -> Decoder:
    kind, _, elem_decode = _set_kind(tp)
    frozen = (_origin(tp) or tp) is frozenset
    return _set_factory(kind, elem_decode, frozen)


def _unstructure_enum(tp: Any) -> Encoder:
    def encode_enum(value: Any) -> dict[str, Any] | None:
        if not isinstance(value, tp):
            raise _type_error(value, f"a member of {tp.__name__}")
        raw = value.value
        hooks = _SCALAR_HOOKS.get(type(raw))
        if hooks is None:
            raise ConversionError(
                f"{tp.__name__} values must be str, int, float, Decimal or bytes to be stored",
                value=value,
            )
        return hooks[0](raw)

    return encode_enum


def _structure_enum(tp: Any) -> Decoder:
    by_value = {member.value: member for member in tp}

    def decode_enum(av: Any, _: Any) -> Any:
        raw = decode_any(av)
        try:
            return by_value[raw]
        except (KeyError, TypeError):
            raise ConversionError(f"{raw!r} is not a value of {tp.__name__}", value=av) from None

    return decode_enum


def _unstructure_literal(tp: Any) -> Encoder:
    allowed = typing.get_args(tp)

    def encode_literal(value: Any) -> dict[str, Any] | None:
        # `True == 1`: compare types too, or Literal[1] would accept True.
        if not any(value == a and type(value) is type(a) for a in allowed):
            raise ConversionError(f"{value!r} is not one of {allowed!r}", value=value)
        if isinstance(value, enum.Enum):
            value = value.value
        return _SCALAR_HOOKS[type(value)][0](value)

    return encode_literal


def _structure_literal(tp: Any) -> Decoder:
    allowed = typing.get_args(tp)
    by_value = {(a.value if isinstance(a, enum.Enum) else a): a for a in allowed}

    def decode_literal(av: Any, _: Any) -> Any:
        raw = decode_any(av)
        try:
            return by_value[raw]
        except (KeyError, TypeError):
            raise ConversionError(f"{raw!r} is not one of {allowed!r}", value=av) from None

    return decode_literal


def _runtime_class(tp: Any) -> type | None:
    """The class a value must be an instance of to belong to `tp`, when there is one."""
    if isinstance(tp, type) and _origin(tp) is None:  # on 3.10, list[str] is a type too
        return tp
    origin = _origin(tp)
    if origin is typing.Annotated:
        return _runtime_class(typing.get_args(tp)[0])
    return origin if isinstance(origin, type) else None


def _unstructure_union(tp: Any, converter: cattrs.Converter) -> Encoder:
    members = [m for m in typing.get_args(tp) if m is not _NoneType]
    if len(members) == 1:
        only = unstructure_hook(converter, members[0])

        def encode_optional(value: Any) -> dict[str, Any] | None:
            return None if value is None else only(value)

        _ENCODE_PARTS[encode_optional] = ("optional", only)
        return encode_optional

    routes: list[tuple[type | None, Any]] = [
        (_runtime_class(m), unstructure_hook(converter, m)) for m in members
    ]
    # bool is an int: look for an exact class before falling back to isinstance.
    exact = {cls: hook for cls, hook in routes if cls is not None}

    optional = _NoneType in typing.get_args(tp)

    def encode_union(value: Any) -> dict[str, Any] | None:
        if value is None:
            if optional:
                return None
            raise _type_error(value, f"one of {tp!r}")
        hook = exact.get(type(value))
        if hook is not None:
            return hook(value)  # type: ignore[no-any-return]
        for cls, candidate in routes:
            if cls is None or (isinstance(value, cls) and not isinstance(value, bool)):
                return candidate(value)  # type: ignore[no-any-return]
        raise _type_error(value, f"one of {tp!r}")

    return encode_union


def _structure_union(tp: Any, converter: cattrs.Converter) -> Decoder:
    optional = _NoneType in typing.get_args(tp)
    members = [m for m in typing.get_args(tp) if m is not _NoneType]
    decoders = [(structure_hook(converter, m), m) for m in members]

    def decode_union(av: Any, _: Any) -> Any:
        if "NULL" in av:
            if optional:
                return None
            raise ConversionError(f"NULL is not a value of {tp!r}", value=av)
        errors: list[Exception] = []
        for decode, member in decoders:
            try:
                return decode(av, member)
            except Exception as exc:  # try the next member; report all if none fits
                errors.append(exc)
        raise ConversionError(
            f"{av!r} fits none of {tp!r}: " + "; ".join(str(e) for e in errors), value=av
        )

    if len(decoders) == 1:
        only, member = decoders[0]

        def decode_optional(av: Any, _: Any) -> Any:
            if "NULL" in av:
                return None
            return only(av, member)

        _DECODE_PARTS[decode_optional] = ("optional", only, member)
        return decode_optional
    return decode_union


# --- attrs classes (nested ones become maps) -----------------------------------------------


def _overrides(
    cls: type,
    converter: cattrs.Converter,
    rename: Mapping[str, str] | None,
    field_types: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """cattrs' overrides for the detailed decoder: renames, and the hooks of fields
    whose type is overridden or an Enum (see `structure_hook`)."""
    overrides: dict[str, Any] = {}
    for field in attrs.fields(cls):
        kwargs: dict[str, Any] = {}
        if rename and field.name in rename:
            kwargs["rename"] = rename[field.name]
        tp = (field_types or {}).get(field.name, field.type)
        if (field_types and field.name in field_types) or _is_enum(tp):
            hook = structure_hook(converter, tp)
            kwargs["struct_hook"] = lambda av, _, hook=hook, tp=tp: hook(av, tp)
        if kwargs:
            overrides[field.name] = cattrs.override(**kwargs)
    return overrides


def _stored_names(
    cls: type,
    rename: Mapping[str, str] | None,
    field_types: Mapping[str, Any] | None,
    *,
    required_only: bool,
) -> tuple[str, ...]:
    names = []
    for field in attrs.fields(cls):
        if required_only and (field.default is not attrs.NOTHING or not field.init):
            continue
        tp = (field_types or {}).get(field.name, field.type)
        if _may_be_omitted(tp):
            names.append((rename or {}).get(field.name, field.name))
    return tuple(names)


def omission_reads_back(field: attrs.Attribute[Any]) -> bool:
    """Whether leaving the attribute out reads back as the value that was left out.

    Only None values and empty sets are left out. A missing attribute decodes as the
    field's default, or as None / an empty set when there is none; so a field like
    `x: int | None = 5` must store None as NULL instead, to read back None.
    """
    default = field.default
    if default is attrs.NOTHING or default is None:
        return True
    if isinstance(default, attrs.Factory):  # type: ignore[arg-type]
        return not default.takes_self and default.factory in (set, frozenset)
    return isinstance(default, (set, frozenset)) and not default


def _fields(
    cls: type, rename: Mapping[str, str] | None, field_types: Mapping[str, Any] | None
) -> list[tuple[attrs.Attribute[Any], str, Any]]:
    """(attribute, stored name, type) of each field of `cls`."""
    if any(isinstance(f.type, str) for f in attrs.fields(cls)):
        attrs.resolve_types(cls)  # as cattrs does: `from __future__ import annotations`
    return [
        (f, (rename or {}).get(f.name, f.name), (field_types or {}).get(f.name, f.type))
        for f in attrs.fields(cls)
    ]


# The built-in hooks the generated codecs write inline. A user's registration for one
# of these types replaces the hook, which is then called instead: inlining goes by
# the identity of the hook, never by the type.
_INLINE_ENCODE: Final[dict[Any, str]] = {
    _enc_str: "str",
    _enc_bool: "bool",
    _enc_int: "int",
    _enc_float: "float",
    _enc_decimal: "decimal",
    # Written inline by the compiled codecs only (the Python source calls the hook).
    _enc_uuid: "uuid",
    _enc_datetime: "datetime",
}
_INLINE_DECODE: Final[dict[Any, str]] = {
    _dec_str: "str",
    _dec_bool: "bool",
    _dec_int: "int",
    _dec_float: "float",
    _dec_decimal: "decimal",
    _dec_uuid: "uuid",
}
if sys.version_info >= (3, 11):  # before, fromisoformat refuses the "Z" we store
    _INLINE_DECODE[_dec_datetime] = "datetime"
# What the hooks built by the factories above are made of, so that the generated
# codecs can write them inline too (only the fast converter's hooks are listed).
_ENCODE_PARTS: weakref.WeakKeyDictionary[Any, tuple[Any, ...]] = weakref.WeakKeyDictionary()
_DECODE_PARTS: weakref.WeakKeyDictionary[Any, tuple[Any, ...]] = weakref.WeakKeyDictionary()


def _encode_inline(hook: Encoder) -> Inline:
    """How the generated encoder writes what `hook` does."""
    kind = _INLINE_ENCODE.get(hook)
    if kind is not None:
        return Inline(kind, hook)
    parts = _ENCODE_PARTS.get(hook)
    if parts is None:
        return Inline("hook", hook)
    if parts[0] == "class":
        return Inline("class", hook, function=parts[1], cls=parts[2])
    if parts[0] == "strset":
        return Inline("strset", hook)
    if parts[0] == "numset":
        return Inline("numset", hook, function=parts[1])
    return Inline(parts[0], hook, inner=_encode_inline(parts[1]))  # optional, list


def _decode_inline(hook: Decoder, tp: Any) -> Inline:
    """How the generated decoder reads what ``hook(av, tp)`` does."""
    kind = _INLINE_DECODE.get(hook)
    if kind == "uuid":
        return Inline(kind, hook, tp, function=_uuid_text)
    if kind is not None:
        return Inline(kind, hook, tp)
    parts = _DECODE_PARTS.get(hook)
    if parts is None:
        return Inline("hook", hook, tp)
    if parts[0] == "class":
        return Inline("class", hook, tp, function=parts[1], cls=parts[2])
    if parts[0] == "set":
        _, tag, element, make = parts
        return Inline("set", hook, tp, function=element, tag=tag, make=make)
    _, inner, inner_tp = parts  # optional, list
    return Inline(parts[0], hook, tp, inner=_decode_inline(inner, inner_tp))


def item_encoder(
    cls: type,
    converter: cattrs.Converter,
    rename: Mapping[str, str] | None = None,
    field_types: Mapping[str, Any] | None = None,
) -> Callable[[Any], dict[str, Any]]:
    """A generated function from an instance of `cls` to a DynamoDB item.

    Fields whose hook returns ``None`` (``None`` values, empty sets) are left out.
    `rename` maps field names to stored names; `field_types` overrides the declared
    type of some fields (a TTL field is stored as epoch seconds, say).
    """
    fields = [
        (f, stored, _encode_inline(unstructure_hook(converter, tp)))
        for f, stored, tp in _fields(cls, rename, field_types)
    ]
    omittable = _stored_names(cls, rename, field_types, required_only=False)
    by_stored = {stored: f for f, stored, _ in fields}
    omit = frozenset(n for n in omittable if omission_reads_back(by_stored[n]))
    return generate_encoder(fields, omit, frozenset(omittable) - omit, NULL)


def item_decoder(
    cls: type[T],
    converter: cattrs.Converter,
    rename: Mapping[str, str] | None = None,
    field_types: Mapping[str, Any] | None = None,
) -> Callable[[dict[str, Any]], T]:
    """A generated function from a DynamoDB item to an instance of `cls`.

    A missing attribute reads as ``None`` (Optional fields) or an empty set (set
    fields) when the field has no default, matching what `item_encoder` leaves out.
    With a converter of detailed validation, the function is cattrs' own, whose
    errors name every field that failed (used to explain a failure).
    """
    fillable = _stored_names(cls, rename, field_types, required_only=True)
    if not converter.detailed_validation:
        fields = [
            (f, stored, _decode_inline(structure_hook(converter, tp), tp))
            for f, stored, tp in _fields(cls, rename, field_types)
        ]
        return generate_decoder(cls, fields, frozenset(fillable), NULL)
    overrides = _overrides(cls, converter, rename, field_types)
    generated = make_dict_structure_fn(cls, converter, **overrides)
    if not fillable:
        return generated

    def decode(item: dict[str, Any]) -> T:
        for name in fillable:
            if name not in item:
                item[name] = NULL
        return generated(item)

    return decode


def _may_be_omitted(tp: Any) -> bool:
    if isinstance(tp, str):  # unresolved annotations: resolved by the caller first
        return True
    if _origin(tp) is typing.Annotated:
        return _may_be_omitted(typing.get_args(tp)[0])
    return tp is _NoneType or _is_optional(tp) or _is_set(tp) or _is_any(tp)


# Codecs of the classes being built, per converter: a class that holds itself (a tree:
# ``children: list[Node]``) meets its own hook while building it. It then gets one that
# looks the finished codec up when called (cattrs may keep either hook for the class:
# both work).
_BUILDING: dict[tuple[int, bool, type], list[Callable[..., Any]]] = {}


def _build(cls: type, converter: cattrs.Converter, encoding: bool) -> Any:
    """The item codec of `cls`, or, while it is being built, a list that will hold it."""
    key = (id(converter), encoding, cls)
    cell = _BUILDING.get(key)
    if cell is not None:
        return cell
    cell = _BUILDING[key] = []
    try:
        attrs.resolve_types(cls)
        built = item_encoder(cls, converter) if encoding else item_decoder(cls, converter)
    finally:
        del _BUILDING[key]
    cell.append(built)
    return built


def _unstructure_class(cls: type, converter: cattrs.Converter) -> Encoder:
    encode = _build(cls, converter, encoding=True)
    if isinstance(encode, list):  # cls holds itself: its encoder is not built yet
        cell = encode

        def encode_nested_later(value: Any) -> dict[str, Any]:
            if not isinstance(value, cls):
                raise _type_error(value, f"a {cls.__name__} instance")
            return {"M": cell[0](value)}

        return encode_nested_later

    def encode_nested(value: Any) -> dict[str, Any]:
        if not isinstance(value, cls):
            raise _type_error(value, f"a {cls.__name__} instance")
        return {"M": encode(value)}

    _ENCODE_PARTS[encode_nested] = ("class", encode, cls)
    return encode_nested


def _structure_class(cls: type, converter: cattrs.Converter) -> Decoder:
    decode = _build(cls, converter, encoding=False)
    if isinstance(decode, list):  # cls holds itself: its decoder is not built yet
        cell = decode
        copy = converter.detailed_validation  # cattrs' detailed one is given NULLs

        def decode_nested_later(av: Any, _: Any) -> Any:
            return cell[0](dict(av["M"]) if copy else av["M"])

        return decode_nested_later

    def decode_nested(av: Any, _: Any) -> Any:
        return decode(av["M"])  # the generated decoder leaves the map as it is

    def decode_nested_copy(av: Any, _: Any) -> Any:
        return decode(dict(av["M"]))  # cattrs' detailed one is given missing NULLs

    if converter.detailed_validation:
        return decode_nested_copy
    _DECODE_PARTS[decode_nested] = ("class", decode, cls)
    return decode_nested


# --- key types -----------------------------------------------------------------------------


def scalar_type(
    tp: Any, stored_as: Mapping[Any, Any] | None = None, _seen: frozenset[Any] = frozenset()
) -> str | None:
    """The DynamoDB scalar type (``"S"``, ``"N"``, ``"B"``) a field type is stored as.

    Returns ``None`` for types DynamoDB cannot use as a key (bool, lists, maps,
    sets, Optional...). `stored_as` maps user-registered types to the type their
    encoder produces.
    """
    if stored_as and tp in stored_as and tp not in _seen:  # registered converters first
        return scalar_type(stored_as[tp], stored_as, _seen | {tp})
    if _is_epoch(tp):
        return "N"
    if _origin(tp) is typing.Annotated:
        return scalar_type(typing.get_args(tp)[0], stored_as)
    supertype = getattr(tp, "__supertype__", None)  # typing.NewType
    if supertype is not None:
        return scalar_type(supertype, stored_as)
    if _is_enum(tp):
        kinds = {scalar_type(type(m.value), stored_as) for m in tp}
        return kinds.pop() if len(kinds) == 1 else None
    if _is_literal(tp):
        kinds = {scalar_type(type(v), stored_as) for v in typing.get_args(tp)}
        return kinds.pop() if len(kinds) == 1 else None
    hooks = _SCALAR_HOOKS.get(tp)
    if hooks is None or hooks[2] == "BOOL":
        return None
    return hooks[2]
