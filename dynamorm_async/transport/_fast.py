"""The fast path for responses: successful data-plane bodies read with orjson.

botocore reads a response by walking the operation's output shape value by value; for
a 100-item Query page that is ~10x the cost of ``orjson.loads`` of the same body. This
module reads a successful body with orjson instead, and then does the only conversion
botocore's JSON parser makes for these operations: Binary values (``B``, ``BS`` and any
blob member) from base64 to bytes. The result is the same dict botocore would return
(the differential tests in ``tests/unit/transport/test_fast_path.py`` prove it on
generated responses), so nothing downstream knows which path read a response.

It plugs in through botocore's public ``before-parse`` event: the handler puts the
parsed body in ``customized_response_dict`` (which botocore merges into its result) and
hands botocore's parser an empty object, which it reads in microseconds. Whatever the
fast path does not handle goes to botocore untouched: error responses, operations whose
output has timestamps (DescribeTable...) or other types botocore converts, and any body
with a ``null`` (botocore drops null members) or that orjson cannot read.
"""

from __future__ import annotations

import base64
import gc
from collections.abc import Callable, Iterable
from contextvars import ContextVar
from typing import Any, Final

import orjson
from botocore.model import OperationModel, Shape

__all__ = [
    "DECODED_ITEMS",
    "WIRE_ITEMS",
    "CollectionsPaused",
    "FastReader",
    "ItemDecoder",
    "check_item",
]

ItemDecoder = Callable[[dict[str, Any]], Any]

#: Set while a caller that decodes items itself waits for a Query or Scan: the items
#: are then left as orjson read them (Binary values in base64, unchecked) and the
#: caller's codecs read them; see `Transport.call`'s ``wire_items``. A function
#: instead of ``True`` decodes them as they are read, into `DECODED_ITEMS`.
WIRE_ITEMS: ContextVar[bool | ItemDecoder] = ContextVar("dynamorm_async_wire_items", default=False)

#: The response key of a page decoded as it was read, in place of ``Items``.
DECODED_ITEMS: Final = "dynamorm_async:DecodedItems"

# The shape types botocore's JSON parser leaves as JSON gives them (its default handler).
_PLAIN = frozenset({"string", "integer", "long", "boolean", "double", "float"})

_b64 = base64.b64decode


class CollectionsPaused:
    """``with CollectionsPaused():`` pauses garbage collection for the block (if it was
    on), and resumes it after.

    A page of results is thousands of new objects, all kept: collections started by
    their count could free none of them, only promote them, and promoted objects bring
    on full collections that walk every object of the process. Pause for a bounded
    block only (one page): the pause is process-wide.
    """

    __slots__ = ("_collecting",)

    def __enter__(self) -> None:
        self._collecting = gc.isenabled()
        if self._collecting:
            gc.disable()

    def __exit__(self, *_: object) -> None:
        if self._collecting:
            gc.enable()


def _expect(value: Any, kind: type, what: str) -> None:
    # botocore's walk fails on a container of the wrong type (AttributeError,
    # TypeError): so does ours, and the transport reports a malformed response.
    if type(value) is not kind:
        raise TypeError(f"{what} must be a JSON {kind.__name__}, not {type(value).__name__}")


# The tags whose values need nothing: with a single one, an AttributeValue is done.
_SCALAR_TAGS = ("S", "N", "BOOL", "NULL")


def _restore_av(av: Any) -> None:
    """Check an AttributeValue's containers and decode its Binary values, in place."""
    if type(av) is not dict:
        _expect(av, dict, "an AttributeValue")
    if "M" in av:
        values = av["M"]
        if type(values) is not dict:
            _expect(values, dict, "an M value")
        _restore_all(values.values())
    if "L" in av:
        values = av["L"]
        if type(values) is not list:
            _expect(values, list, "an L value")
        _restore_all(values)
    # (bytes: read by botocore already, when the fast path left a body to it)
    if "B" in av and type(av["B"]) is not bytes:
        av["B"] = _b64(av["B"])
    if "BS" in av:
        _expect(av["BS"], list, "a BS value")
        av["BS"] = [v if type(v) is bytes else _b64(v) for v in av["BS"]]
    for tag in ("SS", "NS"):
        if tag in av:
            _expect(av[tag], list, f"an {tag} value")


def _restore_all(avs: Iterable[Any]) -> None:
    """`_restore_av` on each of `avs`; the many scalar values cost a test or two each."""
    s, n, boolean, null = _SCALAR_TAGS
    for av in avs:
        if (
            type(av) is dict
            and len(av) == 1
            and (s in av or n in av or boolean in av or null in av)
        ):
            continue
        _restore_av(av)


class _Unsupported(Exception):
    """The shape holds a type botocore converts (a timestamp...): not for the fast path."""


#: Checks a value in place (blobs in it decoded); or `_BLOB`: the value is a blob,
#: to be replaced by its decoding; or ``None``: a scalar, nothing to do.
_Fix = Callable[[Any], None]


def _blob(value: Any) -> None:
    """Marks a blob shape (see `_Fix`): never called, compared by identity."""
    raise AssertionError("a blob is replaced by its parent")


_BLOB: Final[_Fix] = _blob


def _compile(
    shape: Shape, building: frozenset[str] = frozenset(), *, wire_items: bool = False
) -> _Fix | None:
    """What makes a JSON value of `shape` what botocore returns, checking its containers
    as botocore's walk would (see `_Fix`)."""
    if shape.name == "AttributeValue":
        return _restore_av
    kind = shape.type_name
    if kind in _PLAIN:
        return None
    if kind == "blob":
        return _BLOB
    if kind == "list":
        return _list_fix(shape.name, _compile(shape.member, building))
    if kind == "map":
        if _compile(shape.key, building) is not None:
            raise _Unsupported(shape.name)
        return _map_fix(shape.name, _compile(shape.value, building))
    if kind != "structure" or shape.is_document_type or shape.is_tagged_union:
        raise _Unsupported(f"{shape.name} ({kind})")
    if shape.name in building:  # recursive (other than AttributeValue): not in DynamoDB
        raise _Unsupported(f"{shape.name} (recursive)")
    fixes: list[tuple[str, _Fix]] = []
    for name, member in shape.members.items():
        if member.serialization.get("name", name) != name:
            raise _Unsupported(f"{shape.name}.{name} (renamed)")
        fix = (
            _check_maps
            if wire_items and name == "Items"
            else _compile(member, building | {shape.name})
        )
        if fix is not None:
            fixes.append((name, fix))
    what = shape.name

    def fix_structure(value: Any) -> None:
        _expect(value, dict, what)
        for name, fix in fixes:
            if name in value:
                if fix is _BLOB:
                    value[name] = _b64(value[name])
                else:
                    fix(value[name])

    return fix_structure


def _list_fix(what: str, inner: _Fix | None) -> _Fix:
    def fix_list(values: Any) -> None:
        _expect(values, list, what)
        if inner is _restore_av:
            _restore_all(values)
        elif inner is _BLOB:
            values[:] = [_b64(v) for v in values]
        elif inner is not None:
            for v in values:
                inner(v)

    return fix_list


def _map_fix(what: str, inner: _Fix | None) -> _Fix:
    def fix_map(values: Any) -> None:
        _expect(values, dict, what)
        if inner is _restore_av:
            _restore_all(values.values())
        elif inner is _BLOB:
            for k, v in values.items():
                values[k] = _b64(v)  # the same keys: safe while iterating
        elif inner is not None:
            for v in values.values():
                inner(v)

    return fix_map


class _Operation:
    """What the fast path does for one operation's successful responses."""

    def __init__(self, output: Shape | None) -> None:
        self.members = frozenset(output.members) if output is not None else frozenset()
        self.fix = _compile(output) if output is not None else None
        # For a caller reading wire items: the same, but Items only checked to be a
        # list of maps (their values are the caller's codecs' to read).
        self.wire_fix = self.fix
        if output is not None and "Items" in self.members:
            self.wire_fix = _compile(output, wire_items=True)

    def read(self, body: bytes, wire_items: bool | ItemDecoder = False) -> dict[str, Any] | None:
        """The parsed body, or ``None`` to leave it to botocore; with an `ItemDecoder`,
        its ``Items`` decoded (see `WIRE_ITEMS`)."""
        if b"null" in body:
            return None  # botocore drops null members: leave such (rare) bodies to it
        # A page is ~10,000 new objects (see `CollectionsPaused`): each 700 of them
        # would start a collection, a third of a Query's time. orjson builds no
        # cycles, so a collection during it can free nothing it made. Items decoded
        # here are read in the same pause, and their wire form is gone before
        # collections resume: only the objects made of them are ever counted. The
        # pause ends here, also when reading fails.
        with CollectionsPaused():
            try:
                parsed = orjson.loads(body)
            except orjson.JSONDecodeError:
                return None
            if not isinstance(parsed, dict):
                return None
            if not self.members.issuperset(parsed):  # botocore keeps modeled members only
                parsed = {k: v for k, v in parsed.items() if k in self.members}
            fix = self.wire_fix if wire_items is not False else self.fix
            if fix is not None:
                fix(parsed)
            if callable(wire_items) and "Items" in parsed:
                _decode_items(parsed, wire_items)
            return parsed


def _decode_items(parsed: dict[str, Any], decode: ItemDecoder) -> None:
    """Replace ``Items`` by `DECODED_ITEMS`, unless an item fails to decode."""
    try:
        decoded = [decode(item) for item in parsed["Items"]]
    except Exception:  # left as read: the caller decodes them and explains the failure
        return
    del parsed["Items"]
    parsed[DECODED_ITEMS] = decoded


def _check_maps(values: Any) -> None:
    """Items read as wire items: a list of maps."""
    _expect(values, list, "Items")
    for value in values:
        if type(value) is not dict:
            _expect(value, dict, "an item")


def check_item(item: Any) -> None:
    """Raise `TypeError` or `ValueError` if a wire item is not a well-formed map of
    AttributeValues (Binary values are decoded in place); see `WIRE_ITEMS`."""
    _expect(item, dict, "an item")
    _restore_all(item.values())


class FastReader:
    """A ``before-parse`` handler that reads successful responses with orjson.

    Register it on a client (``client.meta.events.register("before-parse.dynamodb",
    FastReader())``). Operations are looked at once, on their first response; those
    the fast path cannot read exactly as botocore does are left to botocore.
    """

    def __init__(self) -> None:
        self._operations: dict[str, _Operation | None] = {}

    def __call__(
        self,
        operation_model: OperationModel,
        response_dict: dict[str, Any],
        customized_response_dict: dict[str, Any],
        **_: Any,
    ) -> None:
        """Parse `response_dict`'s body into `customized_response_dict` if it can."""
        if response_dict["status_code"] >= 300:
            return  # errors keep botocore's parsing
        body = response_dict["body"]
        if not isinstance(body, bytes) or not body:
            return
        name = operation_model.name
        try:
            operation = self._operations[name]
        except KeyError:
            operation = self._operations[name] = self._prepare(operation_model)
        if operation is None:
            return
        parsed = operation.read(body, WIRE_ITEMS.get())
        if parsed is not None:
            customized_response_dict.update(parsed)
            # botocore's parser still runs; give it nothing to do.
            response_dict["body"] = b"{}"

    @staticmethod
    def _prepare(operation_model: OperationModel) -> _Operation | None:
        if operation_model.has_streaming_output or operation_model.has_event_stream_output:
            return None
        try:
            return _Operation(operation_model.output_shape)
        except _Unsupported:
            return None
