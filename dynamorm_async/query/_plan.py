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
import weakref
from collections.abc import Hashable, Iterable
from typing import Any, Literal

import attrs

from dynamorm_async.convert import decode_any
from dynamorm_async.errors import NoIndexForQuery, ValidationError, error_context
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
    """How a target serves a query, by positions in the query's conjuncts, so that it
    applies to any query of the same shape (see `_choices`)."""

    target: _Target
    #: Conjuncts forming the key condition: the partition equality, then the sort
    #: key's condition, or its ">=" and "<=" to merge into BETWEEN. Empty for a scan.
    key_positions: tuple[int, ...]
    #: Conjuncts that become the filter (the query's filters are always added).
    filter_positions: tuple[int, ...]
    covers: bool
    notes: tuple[str, ...] = ()

    @property
    def sort_constrained(self) -> bool:
        return len(self.key_positions) > 1

    def rank(self) -> tuple[int, int, int, int]:
        kind = self.target.kind
        return (int(self.sort_constrained), int(self.covers), _KIND_RANK[kind], -self.target.order)

    def conditions(
        self, conjuncts: list[Condition], filters: tuple[Condition, ...]
    ) -> tuple[Condition | None, Condition | None]:
        """The key condition and the filter, from this query's conjuncts and filters."""
        key_parts = [conjuncts[i] for i in self.key_positions]
        if len(key_parts) == 3:  # ">=" and "<=" on the sort key: one BETWEEN
            low, high = key_parts[1], key_parts[2]
            assert isinstance(low, Compare)
            assert isinstance(high, Compare)
            key_parts[1:] = [Between(low.path, low.value, high.value)]
        rest = [conjuncts[i] for i in self.filter_positions]
        return _and(key_parts), _and([*rest, *filters])


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
    fields = [_fields(c) for c in conjuncts]
    tests = [_key_test(c) for c in conjuncts]
    on_pk = [i for i, f in enumerate(fields) if pk in f]
    equalities = [i for i in on_pk if tests[i] == (pk, "=") and fields[i] == {pk}]
    if not equalities:
        return f"it needs an equality condition (=) on its partition key {pk!r}"
    if len(on_pk) > 1:
        return (
            f"there are {len(on_pk)} conditions on its partition key {pk!r}; a query takes "
            "exactly one equality, and cannot filter on its key attributes"
        )
    key_positions = [equalities[0]]
    on_sk = [i for i, f in enumerate(fields) if sk is not None and sk in f]
    if on_sk:
        usable = [i for i in on_sk if (tests[i] or ("", ""))[0] == sk and fields[i] == {sk}]
        if sk is not None and mapper.key_attributes.get(mapper.stored_name(sk)) == "N":
            # begins_with works on strings and binary only
            usable = [i for i in usable if (tests[i] or ("", ""))[1] != "begins_with"]
        ops = sorted((tests[i] or ("", ""))[1] for i in usable)
        if len(on_sk) == 1 and usable:
            key_positions.append(usable[0])
        elif len(on_sk) == 2 and len(usable) == 2 and ops == ["<=", ">="]:
            # ">=" first, then "<=": the bounds of the BETWEEN they become
            key_positions += sorted(usable, key=lambda i: (tests[i] or ("", ""))[1] == "<=")
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
    rest = tuple(i for i in range(len(conjuncts)) if i not in on_pk and i not in on_sk)
    all_filter_fields = filter_fields.union(*(fields[i] for i in rest))
    covers, reason, notes = _coverage(target, mapper, spec, all_filter_fields)
    if reason is not None:
        return reason
    return _Fit(target, tuple(key_positions), rest, covers=covers, notes=notes)


def _and(conditions: list[Condition]) -> Condition | None:
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else And(tuple(conditions))


def _describe(fit: _Fit, conjuncts: list[Condition]) -> str:
    tests = [" ".join(_key_test(conjuncts[i]) or ("?", "?")) for i in fit.key_positions]
    if len(tests) == 3:  # ">=" and "<=" merged
        tests[1:] = [f"{tests[1].split()[0]} between"]
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
    spec: QuerySpec
    #: Whether the request has a FilterExpression (pages may then hold fewer items).
    filtered: bool

    @property
    def fingerprint(self) -> bytes:
        """What binds a cursor to this plan (computed when a cursor is made or read)."""
        return fingerprint(self.request)

    def explain(self, item_size: int | None = None) -> Explain:
        """The plan for reading: expressions, placeholders, the choice and its cost.

        `item_size` (bytes) refines the read-unit estimate for a page of ``limit``
        items; without both, the estimate is the bound for a full 1 MB page.
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


@attrs.frozen
class _Choice:
    """What planning decided for a query shape: the operation, the fit, the verdicts."""

    operation: Literal["Query", "Scan"]
    fit: _Fit
    considered: tuple[tuple[str, str], ...]


#: Per mapper: query shape -> choice. The choice depends only on the shape (paths,
#: operators, kinds of values, options), never on the values.
_choices: weakref.WeakKeyDictionary[Mapper[Any], dict[Hashable, _Choice]] = (
    weakref.WeakKeyDictionary()
)
MAX_PLANS = 512


def _shape(spec: QuerySpec, conjuncts: list[Condition]) -> Hashable:
    ignored: list[Any] = []
    return (
        tuple([c.shape(ignored) for c in conjuncts]),
        tuple([c.shape(ignored) for c in spec.filters]),
        tuple([p.elements for p in spec.projection]),
        spec.index,
        spec.descending,
        spec.consistent,
        spec.allow_scan,
        spec.as_dicts,
        spec.scan,
        spec.segments,
    )


def plan(mapper: Mapper[Any], spec: QuerySpec, table: str) -> Plan:
    """Choose the table or index for `spec` and build the request; nothing is sent.

    The choice is remembered per mapper for the query's shape, so a query that
    differs only in its values (another customer, another date) is only compiled.

    Raises:
        NoIndexForQuery: nothing can serve the conditions and no scan was allowed,
            or the hinted index cannot serve them.
        ValidationError: an unknown index, a projection the class cannot be built
            from, a descending scan.
    """
    conjuncts = _conjuncts(spec.conditions)
    cache = _choices.get(mapper)
    if cache is None:
        cache = _choices.setdefault(mapper, {})
    try:
        shape: Hashable = _shape(spec, conjuncts)
        choice = cache.get(shape)
    except TypeError:  # an unhashable value type: plan without the cache
        shape, choice = None, None
    if choice is None:
        with error_context(table=table, operation="Scan" if spec.scan else "Query"):
            choice = _choose(mapper, spec, conjuncts)
        if shape is not None:
            if len(cache) >= MAX_PLANS:
                cache.clear()
            cache[shape] = choice
    return _build(mapper, spec, table, choice, conjuncts)


def _choose(mapper: Mapper[Any], spec: QuerySpec, conjuncts: list[Condition]) -> _Choice:
    _check_spec(mapper, spec)
    targets = _targets(mapper)
    if spec.index is not None:
        targets = [t for t in targets if t.index == spec.index]
    else:
        targets = [t for t in targets if t.kind == "table" or not spec.scan]
    if spec.scan:
        return _scan_choice(mapper, spec, targets[0], conjuncts, ())

    fits: list[_Fit] = []
    rejected: list[tuple[str, str]] = []
    orders: list[int] = []  # of the rejected targets, to list verdicts in target order
    for target in targets:
        fit = _fit(target, mapper, spec, conjuncts)
        if isinstance(fit, str):
            rejected.append((target.name, fit))
            orders.append(target.order)
        else:
            fits.append(fit)
    if not fits:
        summary = "".join(f"\n  {name}: {reason}" for name, reason in rejected)
        if spec.allow_scan and spec.index is None:
            considered = tuple((n, f"rejected: {r}") for n, r in rejected)
            return _scan_choice(mapper, spec, _targets(mapper)[0], conjuncts, considered)
        if spec.index is not None:
            message = f"index {spec.index!r} cannot serve this query: {rejected[0][1]}"
        else:
            message = (
                f"no table or index of {mapper.cls.__name__} can serve this query:{summary}\n"
                "Add an equality condition on a partition key, or allow a full table scan "
                "with allow_scan=True."
            )
        raise NoIndexForQuery(message, rejected=tuple(rejected))
    best = max(fits, key=_Fit.rank)
    verdicts = [
        (
            fit.target.order,
            fit.target.name,
            ("chosen: " if fit is best else "usable, ranked lower: ") + _describe(fit, conjuncts),
        )
        for fit in fits
    ]
    verdicts += [
        (order, name, f"rejected: {reason}")
        for order, (name, reason) in zip(orders, rejected, strict=True)
    ]
    verdicts.sort(key=lambda entry: entry[0])
    return _Choice("Query", best, tuple((name, verdict) for _, name, verdict in verdicts))


def _scan_choice(
    mapper: Mapper[Any],
    spec: QuerySpec,
    target: _Target,
    conjuncts: list[Condition],
    considered: tuple[tuple[str, str], ...],
) -> _Choice:
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
        )
    fit = _Fit(target, (), tuple(range(len(conjuncts))), covers=covers, notes=notes)
    where = "the whole table" if target.kind == "table" else f"the whole index {target.name!r}"
    if considered:  # a fallback: say so first, then why nothing fitted
        chosen = ("scan", f"chosen: {where}, as no table or index fits (allow_scan=True)")
    else:
        chosen = (target.name, f"chosen: scan of {where}")
    return _Choice("Scan", fit, (chosen, *considered))


def _build(
    mapper: Mapper[Any],
    spec: QuerySpec,
    table: str,
    choice: _Choice,
    conjuncts: list[Condition],
) -> Plan:
    fit = choice.fit
    target = fit.target
    key_condition, filter_condition = fit.conditions(conjuncts, spec.filters)
    params = Params()
    request: dict[str, Any] = {"TableName": table}
    if target.index is not None:
        request["IndexName"] = target.index
    partition: tuple[str, dict[str, Any]] | None = None
    if key_condition is not None:
        request["KeyConditionExpression"] = check_length(
            "KeyConditionExpression", key_condition.compile(mapper, params)
        )
        equality = conjuncts[fit.key_positions[0]]
        assert isinstance(equality, Compare)
        stored = mapper.stored_name(target.partition_key)
        partition = (
            stored,
            mapper.encode_value(equality.value, mapper.field_types[target.partition_key]) or {},
        )
    if filter_condition is not None:
        request["FilterExpression"] = check_length(
            "FilterExpression", filter_condition.compile(mapper, params)
        )
    if spec.projection:
        # The index's keys too: a page cut inside a response resumes from an item's key.
        index_keys = tuple(Path((k,)) for k in target.keys if k not in mapper.key_fields)
        request["ProjectionExpression"] = projection_expression(
            mapper, (*spec.projection, *index_keys), params
        )
    elif target.kind == "LSI" and not fit.covers:
        request["Select"] = "ALL_ATTRIBUTES"  # fetch what the LSI leaves out
    if spec.descending:
        request["ScanIndexForward"] = False
    if spec.consistent:
        request["ConsistentRead"] = True
    request.update(params.request_fields())
    if choice.operation == "Scan" and spec.segments > 1:
        request["TotalSegments"] = spec.segments
    key_names = frozenset(mapper.stored_name(name) for name in {*mapper.key_fields, *target.keys})
    return Plan(
        operation=choice.operation,
        table=table,
        index=target.index,
        request=request,
        considered=choice.considered,
        key_names=key_names,
        partition=partition,
        spec=spec,
        filtered=filter_condition is not None,
    )
