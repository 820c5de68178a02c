"""Query planning: which table or index serves a query, and the request that does it.

`plan` looks at the ``where`` conditions (ANDed) and, for the table and each
index, asks: is there an equality on its partition key? can the conditions on its
sort key be a key condition? can everything else be a filter (DynamoDB refuses
filters on the queried key attributes, and a GSI can only filter on and return
what it projects)? Among those that can, it prefers a constrained sort key, then
an index that covers what is asked for, then the table over an LSI over a GSI.
Nothing here does I/O: `Plan` is data, and `Plan.explain` renders it.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any, Literal

import attrs

from dynamorm_async.convert import decode_any
from dynamorm_async.errors import NoIndexForQuery, ValidationError
from dynamorm_async.expressions import (
    And,
    Between,
    Compare,
    Condition,
    Function,
    Params,
    Path,
    Size,
    check_length,
)
from dynamorm_async.mapping import Mapper
from dynamorm_async.query._cursor import fingerprint
from dynamorm_async.query._operations import projection_expression
from dynamorm_async.specs import GlobalIndex, LocalIndex

__all__ = ["Explain", "Plan", "QuerySpec", "plan"]

#: A Query or Scan page holds at most 1 MB; a read unit covers 4 KB.
PAGE_BYTES = 1024 * 1024
READ_UNIT_BYTES = 4096

_KEY_OPERATORS = ("=", "<", "<=", ">", ">=")
_KIND_RANK = {"table": 2, "LSI": 1, "GSI": 0}


@attrs.frozen
class QuerySpec:
    """What a query or scan asks for, as the builder collected it (Python names)."""

    conditions: tuple[Condition, ...] = ()
    filters: tuple[Condition, ...] = ()
    index: str | None = None
    descending: bool = False
    limit: int | None = None
    offset: int = 0
    projection: tuple[Path, ...] = ()
    consistent: bool = False
    allow_scan: bool = False
    as_dicts: bool = False
    scan: bool = False
    segments: int = 1


@attrs.frozen
class _Target:
    """The table or one index, as a place a query can read from."""

    name: str  # "table" or the index name
    kind: Literal["table", "LSI", "GSI"]
    partition_key: str
    sort_key: str | None
    projected: frozenset[str] | None  # field names an index holds; None: all of them
    order: int

    @property
    def index(self) -> str | None:
        return None if self.kind == "table" else self.name

    @property
    def keys(self) -> tuple[str, ...]:
        return (
            (self.partition_key,) if self.sort_key is None else (self.partition_key, self.sort_key)
        )


def _targets(mapper: Mapper[Any]) -> list[_Target]:
    targets = [_Target("table", "table", mapper.partition_key, mapper.sort_key, None, 0)]
    for order, index in enumerate(mapper.indexes.values(), start=1):
        kind: Literal["LSI", "GSI"]
        sk: str | None
        if isinstance(index, LocalIndex):
            kind, pk, sk = "LSI", mapper.partition_key, index.sort_key
        else:
            assert isinstance(index, GlobalIndex)
            kind, pk, sk = "GSI", index.partition_key, index.sort_key
        projection = index.projection
        projected: frozenset[str] | None = None
        if projection.type != "ALL":
            keys = {*mapper.key_fields, pk, *([sk] if sk else [])}
            projected = frozenset(keys | set(projection.attributes))
        targets.append(_Target(index.name, kind, pk, sk, projected, order))
    return targets


def _conjuncts(conditions: Iterable[Condition]) -> list[Condition]:
    out: list[Condition] = []
    for condition in conditions:
        out.extend(condition.conditions if isinstance(condition, And) else (condition,))
    return out


def _fields(condition: Condition) -> set[str]:
    return {str(elements[0]) for elements in condition.paths()}


def _key_test(condition: Condition) -> tuple[str, str] | None:
    """``(field, operator)`` when `condition` can be part of a key condition."""
    ops: tuple[str, ...]
    values: tuple[Any, ...]
    path: Any
    op: str
    if isinstance(condition, Compare):
        path, ops, values = condition.path, _KEY_OPERATORS, (condition.value,)
        op = condition.op
    elif isinstance(condition, Between):
        path, ops, values, op = (
            condition.path,
            ("between",),
            (condition.low, condition.high),
            "between",
        )
    elif isinstance(condition, Function) and condition.name == "begins_with":
        path, ops, values, op = condition.path, ("begins_with",), (condition.value,), "begins_with"
    else:
        return None
    if not isinstance(path, Path) or len(path.elements) != 1 or op not in ops:
        return None
    if any(v is None or isinstance(v, (Path, Size)) for v in values):
        return None
    return str(path.elements[0]), op


@attrs.frozen
class _Fit:
    target: _Target
    key_condition: Condition | None  # None for a scan
    filter: Condition | None
    sort_constrained: bool
    covers: bool
    notes: tuple[str, ...] = ()

    def rank(self) -> tuple[int, int, int, int]:
        kind = self.target.kind
        return (int(self.sort_constrained), int(self.covers), _KIND_RANK[kind], -self.target.order)


def _needed(mapper: Mapper[Any], spec: QuerySpec) -> set[str] | None:
    """Top-level fields the result needs; None: every field (the whole item)."""
    if spec.projection:
        return {str(p.elements[0]) for p in spec.projection} | set(mapper.key_fields)
    return None


def _coverage(
    target: _Target, mapper: Mapper[Any], spec: QuerySpec, filter_fields: set[str]
) -> tuple[bool, str | None, tuple[str, ...]]:
    """(covers, reason to reject or None, notes) for reading from `target`."""
    if target.projected is None:
        return True, None, ()
    needed = _needed(mapper, spec)
    missing_needed = sorted((needed or set(mapper.fields)) - target.projected)
    if target.kind == "LSI":
        # DynamoDB fetches what an LSI does not project from the table, at a cost.
        if missing_needed:
            note = f"reads {', '.join(missing_needed)} from the table (extra read units)"
            return False, None, (note,)
        return True, None, ()
    missing_filter = sorted(filter_fields - target.projected)
    if missing_filter:
        return (
            False,
            (
                f"it does not project {', '.join(missing_filter)}, which the filter reads "
                "(a global index can only filter on what it projects)"
            ),
            (),
        )
    if not missing_needed:
        return True, None, ()
    if spec.as_dicts and needed is None:
        return (
            False,
            None,
            (f"returns only its projected attributes, not {', '.join(missing_needed)}",),
        )
    return (
        False,
        (
            f"it does not project {', '.join(missing_needed)}; project only what it holds "
            f"(.project(...)) or read dicts (.as_dicts())"
        ),
        (),
    )


def _fit(
    target: _Target, mapper: Mapper[Any], spec: QuerySpec, conjuncts: list[Condition]
) -> _Fit | str:
    """How `target` serves the query, or why it cannot."""
    pk, sk = target.partition_key, target.sort_key
    if spec.consistent and target.kind == "GSI":
        return "a global index does not support consistent reads"
    on_pk = [c for c in conjuncts if pk in _fields(c)]
    equalities = [c for c in on_pk if _key_test(c) == (pk, "=") and _fields(c) == {pk}]
    if not equalities:
        return f"it needs an equality condition (=) on its partition key {pk!r}"
    if len(on_pk) > 1:
        return (
            f"there are {len(on_pk)} conditions on its partition key {pk!r}; a query takes "
            "exactly one equality, and cannot filter on its key attributes"
        )
    key_parts: list[Condition] = [equalities[0]]
    on_sk = [c for c in conjuncts if sk is not None and sk in _fields(c)]
    if on_sk:
        usable = [c for c in on_sk if (_key_test(c) or ("", ""))[0] == sk and _fields(c) == {sk}]
        ops = sorted((_key_test(c) or ("", ""))[1] for c in usable)
        if len(on_sk) == 1 and usable:
            key_parts.append(usable[0])
        elif len(on_sk) == 2 and len(usable) == 2 and ops == ["<=", ">="]:
            low, high = sorted(usable, key=lambda c: (_key_test(c) or ("", ""))[1] == "<=")
            assert isinstance(low, Compare)
            assert isinstance(high, Compare)
            key_parts.append(Between(low.path, low.value, high.value))
        else:
            return (
                f"the conditions on its sort key {sk!r} are not one key condition "
                "(=, <, <=, >, >=, between or begins_with), and a query cannot filter on "
                "its key attributes; combine >= and <= into between()"
            )
    filter_fields = set().union(*(_fields(c) for c in spec.filters)) if spec.filters else set()
    on_keys = filter_fields & set(target.keys)
    if on_keys:
        return f"the filter reads its key attribute {sorted(on_keys)[0]!r} (DynamoDB refuses that)"
    rest = [c for c in conjuncts if c not in on_pk and c not in on_sk]
    filters = [*rest, *spec.filters]
    all_filter_fields = filter_fields.union(*(_fields(c) for c in rest))
    covers, reason, notes = _coverage(target, mapper, spec, all_filter_fields)
    if reason is not None:
        return reason
    return _Fit(
        target,
        _and(key_parts),
        _and(filters),
        sort_constrained=len(key_parts) > 1,
        covers=covers,
        notes=notes,
    )


def _and(conditions: list[Condition]) -> Condition | None:
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else And(tuple(conditions))


def _describe(fit: _Fit) -> str:
    assert fit.key_condition is not None
    tests = [
        f"{field} {op}"
        for c in _conjuncts([fit.key_condition])
        for field, op in [_key_test(c) or ("?", "?")]
    ]
    text = "key condition on " + " and ".join(tests)
    return "; ".join([text, *fit.notes])


@attrs.frozen
class Explain:
    """What a query or scan will send, and why: print it to read it.

    Attributes:
        operation: ``"Query"`` or ``"Scan"``.
        table: the table's full name.
        index: the index read, or ``None`` for the table.
        key_condition, filter, projection: the expression texts (or ``None``).
        names, values: the placeholders (values shown as plain Python values).
        considered: ``(name, verdict)`` for the table and each index.
        read_units_per_page: an estimate of the read units one page costs.
        read_units_basis: how that estimate was made.
        request: the request payload of the first page, as it will be sent.
    """

    operation: str
    table: str
    index: str | None
    key_condition: str | None
    filter: str | None
    projection: str | None
    names: dict[str, str]
    values: dict[str, Any]
    considered: tuple[tuple[str, str], ...]
    read_units_per_page: float
    read_units_basis: str
    request: dict[str, Any]

    def __str__(self) -> str:
        where = f"index {self.index!r}" if self.index else "the table"
        lines = [f"{self.operation} on {self.table!r} using {where}"]
        for label, text in (
            ("key condition", self.key_condition),
            ("filter", self.filter),
            ("projection", self.projection),
        ):
            if text is not None:
                lines.append(f"  {label + ':':15}{text}")
        if self.names:
            lines.append("  names:         " + ", ".join(f"{k}={v}" for k, v in self.names.items()))
        if self.values:
            lines.append(
                "  values:        " + ", ".join(f"{k}={v!r}" for k, v in self.values.items())
            )
        options = [
            "consistent read" if self.request.get("ConsistentRead") else "eventually consistent",
            "descending" if self.request.get("ScanIndexForward") is False else "ascending",
        ]
        if self.operation == "Scan":
            options[1] = f"{self.request.get('TotalSegments', 1)} segment(s)"
        lines.append("  options:       " + ", ".join(options))
        lines.append(
            f"  read units:    ~{self.read_units_per_page:g} per page ({self.read_units_basis})"
        )
        lines.append("  considered:")
        lines.extend(f"    {name}: {verdict}" for name, verdict in self.considered)
        return "\n".join(lines)


@attrs.frozen
class Plan:
    """The request a query or scan sends (but for its start key and page size)."""

    operation: Literal["Query", "Scan"]
    table: str
    index: str | None
    request: dict[str, Any]
    considered: tuple[tuple[str, str], ...]
    #: Stored names of the attributes a LastEvaluatedKey holds.
    key_names: frozenset[str]
    #: The stored partition key name and value a Query reads (its cursors must stay in it).
    partition: tuple[str, dict[str, Any]] | None
    fingerprint: bytes
    spec: QuerySpec
    #: Whether the request has a FilterExpression (pages may then hold fewer items).
    filtered: bool

    def explain(self, item_size: int | None = None) -> Explain:
        """The plan for reading: expressions, placeholders, the choice and its cost.

        `item_size` (bytes) refines the read-unit estimate for a page of
        ``limit``/``page(size=)`` items; without it the estimate is the bound for a
        full 1 MB page.
        """
        request = self.request
        factor = 1.0 if request.get("ConsistentRead") else 0.5
        consistency = "strongly consistent" if factor == 1.0 else "eventually consistent"
        page_units = PAGE_BYTES / READ_UNIT_BYTES * factor
        page_items = self.spec.limit
        if page_items is not None and item_size is not None:
            units = min(page_units, math.ceil(page_items * item_size / READ_UNIT_BYTES) * factor)
            basis = f"{page_items} items of {item_size} bytes, {consistency}"
        else:
            units = page_units
            basis = f"at most, for a full 1 MB page, {consistency}"
        return Explain(
            operation=self.operation,
            table=self.table,
            index=self.index,
            key_condition=request.get("KeyConditionExpression"),
            filter=request.get("FilterExpression"),
            projection=request.get("ProjectionExpression"),
            names=dict(request.get("ExpressionAttributeNames", {})),
            values={
                k: decode_any(v) for k, v in request.get("ExpressionAttributeValues", {}).items()
            },
            considered=self.considered,
            read_units_per_page=units,
            read_units_basis=basis,
            request=dict(request),
        )


def _check_spec(mapper: Mapper[Any], spec: QuerySpec) -> None:
    if spec.index is not None and spec.index not in mapper.indexes:
        close = difflib.get_close_matches(str(spec.index), list(mapper.indexes), n=3)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        known = ", ".join(map(repr, mapper.indexes)) or "none"
        raise ValidationError(
            f"{mapper.cls.__name__} has no index {spec.index!r} (its indexes: {known}){hint}"
        )
    if spec.projection and not spec.as_dicts:
        projected = {str(p.elements[0]) for p in spec.projection} | set(mapper.key_fields)
        missing = [f.name for f in mapper.fields.values() if f.required and f.name not in projected]
        if missing:
            raise ValidationError(
                f"the projection leaves out {', '.join(missing)}, which "
                f"{mapper.cls.__name__} needs (no default): project them too, or read "
                "dicts with .as_dicts()"
            )


def plan(mapper: Mapper[Any], spec: QuerySpec, table: str) -> Plan:
    """Choose the table or index for `spec` and build the request; nothing is sent.

    Raises:
        NoIndexForQuery: nothing can serve the conditions and no scan was allowed,
            or the hinted index cannot serve them.
        ValidationError: an unknown index, a projection the class cannot be built
            from, a descending scan.
    """
    _check_spec(mapper, spec)
    targets = _targets(mapper)
    if spec.index is not None:
        targets = [t for t in targets if t.name == spec.index]
    else:
        targets = [t for t in targets if t.kind == "table" or not spec.scan]
    conjuncts = _conjuncts(spec.conditions)
    if spec.scan:
        return _scan_plan(mapper, spec, table, targets[0], conjuncts, ())

    fits: list[_Fit] = []
    rejected: list[tuple[str, str]] = []
    for target in targets:
        fit = _fit(target, mapper, spec, conjuncts)
        if isinstance(fit, str):
            rejected.append((target.name, fit))
        else:
            fits.append(fit)
    if not fits:
        summary = "".join(f"\n  {name}: {reason}" for name, reason in rejected)
        if spec.allow_scan and spec.index is None:
            considered = tuple((n, f"rejected: {r}") for n, r in rejected)
            return _scan_plan(mapper, spec, table, _targets(mapper)[0], conjuncts, considered)
        if spec.index is not None:
            message = f"index {spec.index!r} cannot serve this query: {rejected[0][1]}"
        else:
            message = (
                f"no table or index of {mapper.cls.__name__} can serve this query:{summary}\n"
                "Add an equality condition on a partition key, or allow a full table scan "
                "with allow_scan=True."
            )
        raise NoIndexForQuery(message, rejected=tuple(rejected), table=table, operation="Query")
    best = max(fits, key=_Fit.rank)
    verdicts = [
        (
            fit.target.name,
            ("chosen: " if fit is best else "usable, ranked lower: ") + _describe(fit),
        )
        for fit in fits
    ]
    verdicts += [(name, f"rejected: {reason}") for name, reason in rejected]
    order = [t.name for t in _targets(mapper)]
    verdicts.sort(key=lambda entry: order.index(entry[0]))
    return _build(mapper, spec, table, "Query", best, tuple(verdicts))


def _scan_plan(
    mapper: Mapper[Any],
    spec: QuerySpec,
    table: str,
    target: _Target,
    conjuncts: list[Condition],
    considered: tuple[tuple[str, str], ...],
) -> Plan:
    if spec.descending:
        raise ValidationError("a scan returns items in no particular order: it has no descending")
    if spec.consistent and target.kind == "GSI":
        raise ValidationError(f"index {target.name!r} is global: it has no consistent reads")
    filters = [*conjuncts, *spec.filters]
    fields = set().union(*(_fields(c) for c in filters)) if filters else set()
    covers, reason, notes = _coverage(target, mapper, spec, fields)
    if reason is not None:
        raise NoIndexForQuery(
            f"index {target.name!r} cannot serve this scan: {reason}",
            rejected=((target.name, reason),),
            table=table,
            operation="Scan",
        )
    fit = _Fit(target, None, _and(filters), sort_constrained=False, covers=covers, notes=notes)
    where = "the whole table" if target.kind == "table" else f"the whole index {target.name!r}"
    if considered:  # a fallback: say so first, then why nothing fitted
        chosen = ("scan", f"chosen: {where}, as no table or index fits (allow_scan=True)")
    else:
        chosen = (target.name, f"chosen: scan of {where}")
    return _build(mapper, spec, table, "Scan", fit, (chosen, *considered))


def _build(
    mapper: Mapper[Any],
    spec: QuerySpec,
    table: str,
    operation: Literal["Query", "Scan"],
    fit: _Fit,
    considered: tuple[tuple[str, str], ...],
) -> Plan:
    target = fit.target
    params = Params()
    request: dict[str, Any] = {"TableName": table}
    if target.index is not None:
        request["IndexName"] = target.index
    partition: tuple[str, dict[str, Any]] | None = None
    if fit.key_condition is not None:
        request["KeyConditionExpression"] = check_length(
            "KeyConditionExpression", fit.key_condition.compile(mapper, params)
        )
        equality = _conjuncts([fit.key_condition])[0]
        assert isinstance(equality, Compare)
        stored = mapper.stored_name(target.partition_key)
        partition = (
            stored,
            mapper.encode_value(equality.value, mapper.field_types[target.partition_key]) or {},
        )
    if fit.filter is not None:
        request["FilterExpression"] = check_length(
            "FilterExpression", fit.filter.compile(mapper, params)
        )
    if spec.projection:
        request["ProjectionExpression"] = projection_expression(mapper, spec.projection, params)
    elif target.kind == "LSI" and not fit.covers:
        request["Select"] = "ALL_ATTRIBUTES"  # fetch what the LSI leaves out
    if spec.descending:
        request["ScanIndexForward"] = False
    if spec.consistent:
        request["ConsistentRead"] = True
    request.update(params.request_fields())
    if operation == "Scan" and spec.segments > 1:
        request["TotalSegments"] = spec.segments
    key_names = frozenset(mapper.stored_name(name) for name in {*mapper.key_fields, *target.keys})
    return Plan(
        operation=operation,
        table=table,
        index=target.index,
        request=request,
        considered=considered,
        key_names=key_names,
        partition=partition,
        fingerprint=fingerprint(request),
        spec=spec,
        filtered=fit.filter is not None,
    )
