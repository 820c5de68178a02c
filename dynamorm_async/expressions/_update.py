"""Update expressions: SET, REMOVE, ADD and DELETE actions in one UpdateExpression."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from dynamorm_async.errors import ValidationError
from dynamorm_async.expressions._condition import Path, attr, encode_for
from dynamorm_async.expressions._params import Params, Resolver, check_length

__all__ = ["PathLike", "Update", "as_paths"]

#: A path given as `attr(...)` or as text (``"address.city"``).
PathLike = Path | str


def _path(value: PathLike) -> Path:
    if isinstance(value, Path):
        return value
    if isinstance(value, str):
        return attr(value)
    raise ValidationError(f"expected an attribute name or attr(...), got {value!r}")


def _pairs_key(pairs: tuple[tuple[Path, Any], ...]) -> tuple[Any, ...]:
    return tuple((path.elements, value) for path, value in pairs)


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
    back as another default); ``remove`` deletes attributes; ``add`` adds to a
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
