"""Per-class item codecs and the converter registry they are built from.

A `TypeRegistry` holds two cattrs converters configured alike: a fast one whose
generated decoders do no bookkeeping, used on every item, and a detailed one used
only after a decode failed, to say which field and value were wrong. User
converters (`register_converter`) go on both.
"""

from __future__ import annotations

import contextlib
import typing
from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar, cast

import attrs
from cattrs.errors import ClassValidationError, IterableValidationError

from dynamorm_async.convert._hooks import (
    SCALAR_TYPES,
    item_decoder,
    item_encoder,
    make_converter,
    scalar_type,
    structure_hook,
    unstructure_hook,
)
from dynamorm_async.errors import ConversionError, MappingError

__all__ = ["ItemCodec", "TypeRegistry", "default_registry", "register_converter"]

T = TypeVar("T")
V = TypeVar("V")


class TypeRegistry:
    """The converters that encode and decode values, and the user types they know.

    Most programs use the process-wide `default_registry`; a `Mapper` can be given
    its own registry to keep a custom conversion local to it.
    """

    def __init__(self) -> None:
        self.fast = make_converter(detailed_validation=False)
        self.detailed = make_converter(detailed_validation=True)
        self.stored_as: dict[Any, Any] = {}
        # Expressions encode one value at a time: remember each type's hook.
        self._encoders: dict[Any, Callable[[Any], Any]] = {}

    def register_converter(
        self,
        cls: type[V],
        encode: Callable[[V], Any],
        decode: Callable[[Any], V],
        *,
        stored_as: Any = str,
    ) -> None:
        """Store instances of `cls` as `encode(value)`, read them back with `decode`.

        `stored_as` is the Python type `encode` returns (``str``, ``int``, ``bytes``,
        ``dict[str, Any]``...); the encoded value is converted as that type, which is
        also what decides whether `cls` can be a key attribute (``str`` → S). Register
        converters before a mapper of a class that uses them is first used.

        Example:
            >>> import uuid
            >>> registry = TypeRegistry()
            >>> registry.register_converter(uuid.UUID, encode=lambda u: u.bytes,
            ...                             decode=lambda b: uuid.UUID(bytes=b),
            ...                             stored_as=bytes)
        """
        if not isinstance(cls, type):
            raise MappingError(f"register_converter needs a class, not {cls!r}")
        if stored_as is cls or (stored_as not in SCALAR_TYPES and not _is_generic(stored_as)):
            raise MappingError(
                f"stored_as must be a type DynamoDB can store (str, int, float, Decimal, "
                f"bytes, bool, UUID, date, datetime, list[...], dict[str, ...]), not {stored_as!r}"
            )
        functions: tuple[Any, ...] = (encode, decode)
        if not all(callable(f) for f in functions):
            raise MappingError("register_converter needs callable encode and decode functions")
        for converter in (self.fast, self.detailed):
            inner_encode = unstructure_hook(converter, stored_as)
            inner_decode = structure_hook(converter, stored_as)
            converter.register_unstructure_hook(cls, _compose_encode(cls, encode, inner_encode))
            converter.register_structure_hook(
                cls, _compose_decode(cls, decode, inner_decode, stored_as)
            )
        self.stored_as[cls] = stored_as
        self._encoders.clear()

    def scalar_type(self, tp: Any) -> str | None:
        """The key type (``"S"``, ``"N"``, ``"B"``) `tp` is stored as, or ``None``."""
        return scalar_type(tp, self.stored_as)

    def encode_value(self, value: Any, tp: Any) -> dict[str, Any] | None:
        """One value as an AttributeValue, converted as type `tp` (``None``: store nothing)."""
        try:
            try:
                hook = self._encoders.get(tp)
            except TypeError:  # an unhashable type form: look it up every time
                hook = None
            if hook is None:
                hook = unstructure_hook(self.fast, tp)
                with contextlib.suppress(TypeError):
                    self._encoders[tp] = hook
            encoded: dict[str, Any] | None = hook(value)
        except ConversionError:
            raise
        except Exception as exc:
            raise ConversionError(
                f"cannot store {_short(value)} as {_type_name(tp)}: {exc}", value=value
            ) from exc
        return encoded

    def decode_value(self, av: Mapping[str, Any], tp: Any) -> Any:
        """One AttributeValue as a value of type `tp`."""
        try:
            return structure_hook(self.fast, tp)(av, tp)
        except ConversionError:
            raise
        except Exception as exc:
            raise ConversionError(
                f"cannot read {_short(av)} as {_type_name(tp)}: {exc}", value=av
            ) from exc


def _compose_encode(
    cls: type, encode: Callable[[Any], Any], inner: Callable[[Any], Any]
) -> Callable[[Any], Any]:
    def composed(value: Any) -> Any:
        if not isinstance(value, cls):
            raise ConversionError(
                f"expected a {cls.__name__}, got {type(value).__name__} {value!r}", value=value
            )
        return inner(encode(value))

    return composed


def _compose_decode(
    cls: type, decode: Callable[[Any], Any], inner: Callable[[Any, Any], Any], stored_as: Any
) -> Callable[[Any, Any], Any]:
    def composed(av: Any, _: Any) -> Any:
        return decode(inner(av, stored_as))

    return composed


def _is_generic(tp: Any) -> bool:
    return typing.get_origin(tp) in (list, dict, set, frozenset, tuple)


default_registry = TypeRegistry()


def register_converter(
    cls: type[V],
    encode: Callable[[V], Any],
    decode: Callable[[Any], V],
    *,
    stored_as: Any = str,
) -> None:
    """Teach the default registry to store `cls`; see `TypeRegistry.register_converter`.

    Example:
        >>> from fractions import Fraction
        >>> register_converter(Fraction, encode=str, decode=Fraction)
    """
    default_registry.register_converter(cls, encode, decode, stored_as=stored_as)


class ItemCodec(Generic[T]):
    """The generated encode/decode pair of one attrs class, with field renames.

    `encode` turns an instance into a DynamoDB item; `decode` turns an item back
    into an instance. Both are generated by cattrs the first time they are needed.
    """

    def __init__(
        self,
        cls: type[T],
        registry: TypeRegistry,
        rename: Mapping[str, str] | None = None,
        field_types: Mapping[str, Any] | None = None,
    ) -> None:
        self.cls = cls
        self.registry = registry
        self.rename = dict(rename or {})
        self._field_types = dict(field_types or {})
        self._encode: Callable[[T], dict[str, Any]] | None = None
        self._decode: Callable[[dict[str, Any]], T] | None = None

    def encode(self, obj: T) -> dict[str, Any]:
        """`obj` as a DynamoDB item; raises `ConversionError` naming the bad field."""
        encode = self._encode
        if encode is None:
            encode = self._encode = item_encoder(
                self.cls, self.registry.fast, self.rename, self._field_types
            )
        if not isinstance(obj, self.cls):
            raise ConversionError(
                f"expected a {self.cls.__name__} instance, got {type(obj).__name__}",
                cls=self.cls,
                value=obj,
            )
        try:
            return encode(obj)
        except Exception as exc:
            raise self._explain_encode(obj, exc) from exc

    def decode(self, item: dict[str, Any]) -> T:
        """An instance from a DynamoDB item; raises `ConversionError` naming the bad field.

        The item dict may be modified (missing optional attributes are filled in).
        """
        decode = self._decode
        if decode is None:
            decode = self._decode = item_decoder(
                self.cls, self.registry.fast, self.rename, self._field_types
            )
        try:
            return decode(item)
        except Exception as exc:
            raise self._explain_decode(item, exc) from exc

    # Slow paths: run only after a failure, to name the field that caused it.

    def _explain_encode(self, obj: Any, exc: Exception) -> ConversionError:
        if not isinstance(obj, self.cls):
            return ConversionError(
                f"expected a {self.cls.__name__} instance, got {type(obj).__name__}",
                cls=self.cls,
                value=obj,
            )
        converter = self.registry.fast
        for field in attrs.fields(cast(Any, self.cls)):
            tp = self._field_types.get(field.name, field.type)
            value = getattr(obj, field.name)
            try:
                unstructure_hook(converter, tp)(value)
            except Exception as field_exc:
                return _field_error("encode", self.cls, field.name, value, field_exc)
        return ConversionError(f"cannot encode {self.cls.__name__}: {exc}", cls=self.cls)

    def _explain_decode(self, item: Any, exc: Exception) -> ConversionError:
        if not isinstance(item, dict):
            return ConversionError(
                f"cannot read {self.cls.__name__} from {type(item).__name__}: expected an item dict",
                cls=self.cls,
                value=item,
            )
        try:
            item_decoder(self.cls, self.registry.detailed, self.rename, self._field_types)(
                dict(item)
            )
        except ClassValidationError as detailed:
            field, cause = _first_failure(detailed)
            top = field.split(".")[0] if field else None
            stored = self.rename.get(top, top) if top else None
            value = item.get(stored) if stored else None
            if field is not None and field == top and stored not in item:
                return ConversionError(
                    f"{self.cls.__name__}.{field} is required but the item has no "
                    f"attribute {stored!r}",
                    cls=self.cls,
                    field=field,
                )
            return _field_error("decode", self.cls, field, value, cause)
        except Exception as other:
            exc = other
        return ConversionError(
            f"cannot decode {self.cls.__name__}: {exc}",
            cls=self.cls,
            value=item,
        )


def _first_failure(error: Exception, path: str = "") -> tuple[str | None, Exception]:
    """Walk a cattrs exception group to the first leaf: (dotted field path, error)."""
    if isinstance(error, (ClassValidationError, IterableValidationError)):
        with_notes, _ = error.group_exceptions()
        if with_notes:
            exc, note = with_notes[0]
            name = getattr(note, "name", None)
            index = getattr(note, "index", None)
            step = str(name) if name is not None else f"[{index}]"
            joined = f"{path}.{step}" if path and name is not None else f"{path}{step}"
            return _first_failure(exc, joined)
    return (path or None), error


def _field_error(
    operation: str, cls: type, field: str | None, value: Any, cause: Exception
) -> ConversionError:
    where = f"{cls.__name__}.{field}" if field else cls.__name__
    detail = cause.message if isinstance(cause, ConversionError) else _cause_text(cause)
    verb = "encode" if operation == "encode" else "decode"
    return ConversionError(
        f"cannot {verb} {where} = {_short(value)}: {detail}",
        cls=cls,
        field=field,
        value=value,
    )


def _cause_text(cause: Exception) -> str:
    if isinstance(cause, KeyError) and cause.args:
        missing = cause.args[0]
        if missing in _TAGS:
            return f"wrong DynamoDB type (expected a {missing!r} value)"
        return f"the map has no attribute {missing!r}"
    return f"{type(cause).__name__}: {cause}"


_TAGS = frozenset({"S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS"})


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or repr(tp)
