"""Update expressions: SET, REMOVE, ADD and DELETE actions in one UpdateExpression."""

from __future__ import annotations

import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from dynamorm_async.errors import DynamORMError, ValidationError
from dynamorm_async.expressions._condition import Path, attr
from dynamorm_async.expressions._params import Params, Resolver, check_length, encode_for

__all__ = [
    "Arithmetic",
    "IfNotExists",
    "ListAppend",
    "PathLike",
    "Update",
    "UpdateValue",
    "as_paths",
    "if_not_exists",
    "list_append",
]

#: A path given as `attr(...)` or as text (``"address.city"``).
PathLike = Path | str


def _path(value: PathLike) -> Path:
    if isinstance(value, Path):
        return value
    if isinstance(value, str):
        return attr(value)
    raise ValidationError(f"expected an attribute name or attr(...), got {value!r}")


def _operand_text(operand: Any, target: Path, tp: Any, resolver: Resolver, params: Params) -> str:
    """An operand of a SET value: a path, a function, or a value of the target's type.

    A path operand must hold the target's type, or the item would no longer read back.
    """
    if isinstance(operand, Path):
        text, source_tp = operand.compile(resolver, params)
        _check_copy(target, tp, operand, source_tp)
        return text
    if isinstance(operand, (IfNotExists, ListAppend)):
        return operand.compile_value(target, tp, resolver, params)
    if isinstance(operand, Arithmetic):
        raise ValidationError(
            f"SET {target}: DynamoDB allows one + or - per value, not {operand!r}"
        )
    if operand is None:
        raise ValidationError(f"SET {target}: an operand cannot be None")
    encoded = encode_for(target, operand, tp, resolver)
    if encoded is None:
        raise ValidationError(f"SET {target}: an operand cannot be an empty set")
    return params.value(encoded)


def _check_arithmetic(op: str) -> None:
    if op not in ("+", "-"):
        raise ValidationError(f"unknown arithmetic operator {op!r}; expected + or -")


@attrs.frozen(eq=False)
class Arithmetic:
    """``left + right`` or ``left - right`` as a SET value: ``attr("n") + 1``.

    Operands are paths, `if_not_exists`, or numbers (encoded as the target's type).
    """

    left: Any
    op: str = attrs.field(validator=lambda _, __, op: _check_arithmetic(op))
    right: Any

    def _chained(self, _: Any) -> Any:
        raise ValidationError(
            f"{self!r}: DynamoDB allows one + or - per SET value; use two updates"
        )

    __add__ = __sub__ = __radd__ = __rsub__ = _chained

    def compile_value(self, target: Path, tp: Any, resolver: Resolver, params: Params) -> str:
        """The SET value text for `target`, whose type is `tp`."""
        if tp is not Any:
            try:
                numeric = "N" in (resolver.encode_value(0, tp) or {})
            except DynamORMError:
                numeric = False
            if not numeric:
                raise ValidationError(f"SET {target} = {self!r}: + and - need a number field")
        for operand in (self.left, self.right):
            if not isinstance(operand, (Path, IfNotExists, Arithmetic)):
                encoded = None if operand is None else encode_for(target, operand, tp, resolver)
                if encoded is not None and "N" not in encoded:
                    raise ValidationError(
                        f"SET {target} = {self!r}: + and - work on numbers, not {operand!r}"
                    )
        left = _operand_text(self.left, target, tp, resolver, params)
        right = _operand_text(self.right, target, tp, resolver, params)
        return f"{left} {self.op} {right}"


@attrs.frozen(eq=False)
class IfNotExists:
    """``if_not_exists(path, value)``: the attribute's value, or `value` if it is absent."""

    path: Path
    default: Any

    def __add__(self, value: Any) -> Arithmetic:
        return Arithmetic(self, "+", value)

    def __radd__(self, value: Any) -> Arithmetic:
        return Arithmetic(value, "+", self)

    def __sub__(self, value: Any) -> Arithmetic:
        return Arithmetic(self, "-", value)

    def __rsub__(self, value: Any) -> Arithmetic:
        return Arithmetic(value, "-", self)

    def compile_value(self, target: Path, tp: Any, resolver: Resolver, params: Params) -> str:
        """The SET value text for `target`, whose type is `tp`."""
        path_text, path_tp = self.path.compile(resolver, params)
        _check_copy(target, tp, self.path, path_tp)
        default = _operand_text(self.default, self.path, path_tp, resolver, params)
        return f"if_not_exists({path_text}, {default})"


@attrs.frozen(eq=False)
class ListAppend:
    """``list_append(first, second)``: two lists (paths or values) joined."""

    first: Any
    second: Any

    def compile_value(self, target: Path, tp: Any, resolver: Resolver, params: Params) -> str:
        """The SET value text for `target`, whose type is `tp` (a list type)."""
        for operand in (self.first, self.second):
            if not isinstance(operand, (Path, IfNotExists)) and (
                isinstance(operand, (str, bytes)) or not isinstance(operand, (list, tuple))
            ):
                raise ValidationError(f"list_append for {target} joins lists, not {operand!r}")
        first = _operand_text(self.first, target, tp, resolver, params)
        second = _operand_text(self.second, target, tp, resolver, params)
        return f"list_append({first}, {second})"


#: What ``set=`` accepts besides a plain value.
UpdateValue = Path | Arithmetic | IfNotExists | ListAppend


def if_not_exists(path: PathLike, default: Any) -> IfNotExists:
    """The value of `path`, or `default` when the item has no such attribute.

    Example:
        >>> if_not_exists("views", 0) + 1
        Arithmetic(left=IfNotExists(path=attr('views'), default=0), op='+', right=1)
    """
    return IfNotExists(_path(path), default)


def list_append(first: Any, second: Any) -> ListAppend:
    """Two lists joined; each is a path (``attr("tags")``) or a list value.

    ``attr("tags").append([...])`` and ``.prepend([...])`` are the usual spellings.
    """
    return ListAppend(first, second)


def _pairs_key(pairs: tuple[tuple[Path, Any], ...]) -> tuple[Any, ...]:
    # A path value compares by its elements (its == builds a condition).
    return tuple(
        (path.elements, ("path", value.elements) if isinstance(value, Path) else value)
        for path, value in pairs
    )


def _paths_key(paths: tuple[Path, ...]) -> tuple[Any, ...]:
    return tuple(path.elements for path in paths)


def as_paths(what: str, paths: Any) -> tuple[PathLike, ...]:
    """A single path or an iterable of paths, as a tuple (a str is one path)."""
    if paths is None:
        return ()
    if isinstance(paths, (str, Path)):
        return (paths,)
    if isinstance(paths, Mapping) or not isinstance(paths, Iterable):
        raise ValidationError(f"{what} takes attribute names or attr(...) paths, not {paths!r}")
    return tuple(paths)


def _pairs(what: str, values: Any) -> tuple[tuple[Path, Any], ...]:
    if values is None:
        return ()
    if not isinstance(values, Mapping):
        raise ValidationError(
            f"{what} takes a mapping of attribute names to values, not {values!r}"
        )
    return tuple((_path(k), v) for k, v in values.items())


@attrs.frozen
class Update:
    """The actions of one UpdateItem, by Python field names.

    ``set`` assigns values (``None`` or an empty set is stored as a put would
    store it: the attribute is removed, or set to NULL where its absence would read
    back as another default), or computed ones: another path, ``attr("n") + 1``,
    `if_not_exists`, ``attr("tags").append([...])``; ``remove`` deletes attributes; ``add`` adds to a
    number or adds elements to a set; ``delete`` removes elements from a set.

    Example:
        >>> Update.of(set={"price": 10}, add={"stock": -1}, remove=["discount"])
        Update(set=((attr('price'), 10),), remove=(attr('discount'),), add=((attr('stock'), -1),), delete=())
    """

    # Paths compare into conditions, so updates compare by the paths' elements.
    set: tuple[tuple[Path, Any], ...] = attrs.field(default=(), eq=_pairs_key)
    remove: tuple[Path, ...] = attrs.field(default=(), eq=_paths_key)
    add: tuple[tuple[Path, Any], ...] = attrs.field(default=(), eq=_pairs_key)
    delete: tuple[tuple[Path, Any], ...] = attrs.field(default=(), eq=_pairs_key)

    @classmethod
    def of(
        cls,
        *,
        set: Mapping[PathLike, Any] | None = None,
        remove: Iterable[PathLike] | None = None,
        add: Mapping[PathLike, Any] | None = None,
        delete: Mapping[PathLike, Any] | None = None,
    ) -> Update:
        """Build an update from the keyword form used by `Repository.update`."""
        return cls(
            set=_pairs("set", set),
            remove=tuple(_path(p) for p in as_paths("remove", remove)),
            add=_pairs("add", add),
            delete=_pairs("delete", delete),
        )

    def __bool__(self) -> bool:
        return bool(self.set or self.remove or self.add or self.delete)

    def paths(self) -> list[Path]:
        """Every path the update touches, in order."""
        return [
            *(p for p, _ in self.set),
            *self.remove,
            *(p for p, _ in self.add),
            *(p for p, _ in self.delete),
        ]

    def compile(self, resolver: Resolver, params: Params) -> str:
        """The UpdateExpression text, with placeholders allocated in `params`."""
        _check_no_overlap(self)
        sets: list[str] = []
        removes: list[str] = []
        for path, value in self.set:
            path_text, tp = path.compile(resolver, params)
            if isinstance(value, (Path, Arithmetic, IfNotExists, ListAppend)):
                if isinstance(value, Path):
                    computed = _operand_text(value, path, tp, resolver, params)
                else:
                    computed = value.compile_value(path, tp, resolver, params)
                sets.append(f"{path_text} = {computed}")
                continue
            encoded = None if value is None else encode_for(path, value, tp, resolver)
            if encoded is None:  # None or an empty set: left out, or NULL if that reads back wrong
                if resolver.omits_none(path.elements):
                    removes.append(path_text)
                else:
                    sets.append(f"{path_text} = {params.value({'NULL': True})}")
            else:
                sets.append(f"{path_text} = {params.value(encoded)}")
        removes.extend(path.compile(resolver, params)[0] for path in self.remove)
        adds = [self._operand("ADD", p, v, resolver, params) for p, v in self.add]
        deletes = [self._operand("DELETE", p, v, resolver, params) for p, v in self.delete]
        clauses = [
            f"{keyword} {', '.join(parts)}"
            for keyword, parts in (
                ("SET", sets),
                ("REMOVE", removes),
                ("ADD", adds),
                ("DELETE", deletes),
            )
            if parts
        ]
        if not clauses:
            raise ValidationError("an update needs at least one action (set, remove, add, delete)")
        return check_length("UpdateExpression", " ".join(clauses))

    @staticmethod
    def _operand(keyword: str, path: Path, value: Any, resolver: Resolver, params: Params) -> str:
        path_text, tp = path.compile(resolver, params)
        encoded = encode_for(path, value, tp, resolver)
        if encoded is None or not ({"N", "SS", "NS", "BS"} & encoded.keys()):
            raise ValidationError(
                f"{keyword} {path} needs a number or a non-empty set, got {value!r}"
            )
        if keyword == "DELETE" and "N" in encoded:
            raise ValidationError(f"DELETE {path} removes elements from a set; got a number")
        return f"{path_text} {params.value(encoded)}"


def _declared(tp: Any) -> Any:
    """A type without ``| None`` (a copied None is stored as the target would store it)."""
    args = typing.get_args(tp)
    if type(None) in args and (
        typing.get_origin(tp) is typing.Union or isinstance(tp, types.UnionType)
    ):
        rest = tuple(a for a in args if a is not type(None))
        return rest[0] if len(rest) == 1 else rest
    return tp


def _check_copy(target: Path, target_tp: Any, source: Path, source_tp: Any) -> None:
    """Refuse copying an attribute into a field of another type: DynamoDB would store it,
    and the item would no longer read back into its class."""
    left, right = _declared(target_tp), _declared(source_tp)
    if left is Any or right is Any or left == right:
        return
    raise ValidationError(
        f"cannot set {target} ({getattr(left, '__name__', left)}) to {source} "
        f"({getattr(right, '__name__', right)}): the types differ"
    )


def _check_no_overlap(update: Update) -> None:
    """DynamoDB refuses an update whose paths repeat or nest ("document paths overlap")."""
    touched = [
        *(("set", p) for p, _ in update.set),
        *(("remove", p) for p in update.remove),
        *(("add", p) for p, _ in update.add),
        *(("delete", p) for p, _ in update.delete),
    ]
    ordered = sorted(touched, key=lambda entry: len(entry[1].elements))
    for position, (action, shorter) in enumerate(ordered):
        size = len(shorter.elements)
        for other_action, longer in ordered[position + 1 :]:
            if longer.elements[:size] == shorter.elements:
                if len(longer.elements) == size:
                    what = f"{shorter} more than once (in {action}= and {other_action}=)"
                else:
                    what = f"{shorter} in {action}= and {longer} in {other_action}="
                raise ValidationError(
                    f"the update touches {what}: DynamoDB refuses overlapping paths in one "
                    "update; split it into two updates"
                )
