"""`Query[T]` and `Scan[T]`: immutable builders that plan once and read lazily.

Every builder method returns a new builder; the plan (table or index, request
payload) is made on first use and kept, so a builder stored once and run many
times compiles once. Reading is lazy and streaming: ``async for`` fetches the
next page while the current one is consumed, and a parallel scan runs its
segments as tasks that feed a bounded queue.

The tasks are plain asyncio tasks rather than an anyio task group: a task group
cannot stay open across the ``yield`` of an async generator, because a consumer
that stops early closes the generator from another task. Cancelling the tasks in
the generator's ``finally`` is safe from any task.
"""

from __future__ import annotations

import asyncio
import contextlib
import difflib
import sys
from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

import attrs

from dynamorm_async import query
from dynamorm_async.db._batch import identity
from dynamorm_async.errors import (
    ConversionError,
    InvalidCursor,
    ValidationError,
    error_context,
    readable_key,
)
from dynamorm_async.expressions import Condition, Path, PathLike, Size, where
from dynamorm_async.query import Explain, Plan, QuerySpec
from dynamorm_async.transport import DECODED_ITEMS, CollectionsPaused, check_item, malformed

if sys.version_info >= (3, 11):
    from typing import Self
else:  # pragma: no cover - Python 3.10
    from typing_extensions import Self

if TYPE_CHECKING:
    from dynamorm_async.db._repository import Repository

__all__ = ["Page", "Query", "Scan"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@attrs.frozen
class Page(Generic[T_co]):
    """One page of results and the cursor of the next (``None`` after the last page).

    Pass `next_cursor` to ``page(cursor=...)`` of the same query to read on.
    """

    items: list[T_co]
    next_cursor: str | None


def _condition(args: tuple[Any, ...], method: str) -> Condition:
    if len(args) == 1 and isinstance(args[0], Condition):
        return args[0]
    if len(args) >= 2 and isinstance(args[0], (str, Path, Size)) and isinstance(args[1], str):
        return where(args[0], args[1], *args[2:])
    raise ValidationError(
        f"{method}() takes a condition (attr('price') < 20) or the string form "
        f"({method}('price', '<', 20)), not {args!r}"
    )


#: Segments of a parallel scan read at the same time (the others wait their turn).
MAX_CONCURRENT_SEGMENTS = 32


def _discard(task: asyncio.Future[Any]) -> None:
    """Cancel a task nobody will await, without an "exception never retrieved" log."""
    task.cancel()
    task.add_done_callback(lambda t: t.cancelled() or t.exception())


class _Reader(Generic[T]):
    """What queries and scans share: filters, projection, limits, and the reading."""

    __slots__ = ("_plan", "_repo", "spec")

    def __init__(self, repository: Repository[Any], spec: QuerySpec) -> None:
        self._repo = repository
        self.spec = spec
        self._plan: Plan | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._repo.mapper.cls.__name__}, {self.spec!r})"

    def _with(self, **changes: Any) -> Self:
        return type(self)(self._repo, attrs.evolve(self.spec, **changes))

    def _error(self, message: str) -> ValidationError:
        operation = "Scan" if self.spec.scan else "Query"
        return ValidationError(message, table=self._repo.table, operation=operation)

    def _flag(self, value: object, what: str) -> bool:
        if not isinstance(value, bool):
            raise self._error(f"{what} takes True or False, not {value!r}")
        return value

    def _count(self, value: object, what: str, minimum: int) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise self._error(f"{what} must be an int >= {minimum}, got {value!r}")
        return value

    # --- building ---------------------------------------------------------------------

    def filter(self, *args: Any) -> Self:
        """Keep only items meeting a condition; it never selects the index.

        Takes a condition (``attr("price") < 20``) or the string form
        (``"price", "<", 20``). A filter is applied after reading: the items it
        drops still cost read units.
        """
        condition = _condition(args, "filter")
        return self._with(filters=(*self.spec.filters, condition))

    def project(self, *paths: PathLike | Iterable[PathLike]) -> Self:
        """Read only these fields (the key fields are always read).

        Objects need every field without a default: project those too, or read
        dicts with ``as_dicts()``.
        """
        flat: list[PathLike] = []
        for path in cast("tuple[object, ...]", paths):  # checked: users pass anything
            if isinstance(path, (str, Path)):
                flat.append(path)
            elif isinstance(path, Iterable) and not isinstance(path, (bytes, dict)):
                flat.extend(cast("Iterable[PathLike]", path))
            else:
                raise self._error(f"project() takes field names or attr(...) paths, not {path!r}")
        with self._context():
            projected = query.projection_paths(self._repo.mapper, flat)
        if not projected:
            raise self._error("project() needs at least one field")
        return self._with(projection=projected)

    def limit(self, count: int) -> Self:
        """Return at most `count` items in all (``first()`` is ``limit(1)``)."""
        return self._with(limit=self._count(count, "limit", 1))

    def offset(self, count: int) -> Self:
        """Skip the first `count` matching items.

        Emulated: the skipped items are read (and paid for) and dropped. Prefer
        cursors (``page(cursor=...)``) for deep pagination.
        """
        return self._with(offset=self._count(count, "offset", 0))

    def consistent(self, enabled: bool = True) -> Self:
        """Strongly consistent reads (twice the read units; not on a global index)."""
        return self._with(consistent=self._flag(enabled, "consistent()"))

    def index(self, name: str) -> Self:
        """Read from this index. For a query it is a hint that must fit the
        conditions: one that cannot serve them is an error, never a silent scan."""
        indexes = self._repo.mapper.indexes
        if not isinstance(cast(object, name), str) or name not in indexes:
            close = difflib.get_close_matches(str(name), list(indexes), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            known = ", ".join(map(repr, indexes)) or "none"
            raise self._error(
                f"{self._repo.mapper.cls.__name__} has no index {name!r} (its indexes: {known}){hint}"
            )
        return self._with(index=name)

    # --- planning -------------------------------------------------------------------

    def plan(self) -> Plan:
        """The plan (made once per builder): table or index, and the request."""
        if self._plan is None:
            repo = self._repo
            with self._context():
                self._plan = query.plan(repo.mapper, self.spec, repo.table)
        return self._plan

    def explain(self, item_size: int | None = None) -> Explain:
        """What will be sent and why; ``print()`` it. Nothing is sent.

        `item_size` (bytes) refines the estimate of read units per page.
        """
        if item_size is not None:
            self._count(item_size, "item_size", 1)
        return self.plan().explain(item_size)

    def _context(self) -> contextlib.AbstractContextManager[None]:
        operation = "Scan" if self.spec.scan else "Query"
        return error_context(table=self._repo.table, operation=operation)

    # --- reading --------------------------------------------------------------------

    async def first(self) -> T | None:
        """The first matching item, or ``None``."""
        items = self._with(limit=1)._iterate()
        async with contextlib.aclosing(items):
            async for item in items:
                found: T = item
                return found
        return None

    async def all(self) -> list[T]:
        """Every matching item (within ``limit``), as a list."""
        found: list[T] = []
        pages = self._decoded_pages()
        async with contextlib.aclosing(pages):
            async for page in pages:
                found += page
        return found

    async def count(self) -> int:
        """How many items match (``Select=COUNT`` summed over pages; no items are read
        into memory, but the read units are those of reading them)."""
        spec = attrs.evolve(self.spec, projection=(), as_dicts=True)
        plan = type(self)(self._repo, spec).plan()
        wanted = None if spec.limit is None else spec.offset + spec.limit
        request = {**plan.request, "Select": "COUNT"}
        segments = (
            [{**request, "Segment": s} for s in range(spec.segments)]
            if spec.segments > 1
            else [request]
        )

        async def count_segment(first: dict[str, Any]) -> int:
            total = 0
            request = first
            while True:
                response = await self._send(plan, request)
                total += int(response.get("Count", 0))
                lek = response.get("LastEvaluatedKey")
                if lek is None or (wanted is not None and total >= wanted):
                    return total
                request = {**request, "ExclusiveStartKey": lek}

        tasks = [asyncio.ensure_future(count_segment(r)) for r in segments]
        try:
            totals = await asyncio.gather(*tasks)
        finally:  # on an error or a cancellation, stop the other segments' reads
            for task in tasks:
                if not task.done():
                    _discard(task)
        found = max(0, sum(totals) - spec.offset)
        return found if spec.limit is None else min(found, spec.limit)

    async def page(self, size: int | None = None, cursor: str | None = None) -> Page[T]:
        """One page of up to `size` items, and the cursor of the next page.

        Without `size`, a page is ``limit`` items, or else what DynamoDB returns in
        one response (up to 1 MB). With a filter, reading goes on until `size`
        items match or the results end. ``offset`` applies to the first page only
        (the cursor carries the position after it). The cursor is bound to this
        query; with ``cursor_secret`` set on the Database it is also signed.

        Raises:
            InvalidCursor: `cursor` was altered or comes from another query.
        """
        plan = self.plan()
        if self.spec.segments > 1:
            raise ValidationError(
                "page() reads one segment; iterate a parallel scan with async for",
                table=plan.table,
                operation=plan.operation,
            )
        size = self.spec.limit if size is None else self._count(size, "page size", 1)
        limit = self.spec.limit
        request = dict(plan.request)
        skip = self.spec.offset
        before = 0  # items returned by the earlier pages (counted when there is a limit)
        if cursor is not None:
            request["ExclusiveStartKey"], returned = self._start_key(plan, cursor)
            before = returned or 0
            skip = 0
        if limit is not None and size is not None:
            size = min(size, limit - before)
            if size <= 0:  # the limit was reached on an earlier page
                return Page([], None)
        raw: list[dict[str, Any]] = []
        while True:
            if size is not None:
                # Without a filter every item evaluated is returned: ask for just what
                # is needed. With one, ask for a whole page each time, so that a
                # selective filter does not cost a request per item; a response with
                # more than the page needs is cut below.
                need = size - len(raw) + skip
                request["Limit"] = max(need, size) if plan.filtered else need
            response = await self._send(plan, request)
            items = response.get("Items", [])
            dropped = min(skip, len(items))
            skip -= dropped
            kept = items[dropped:]
            lek = response.get("LastEvaluatedKey")
            if size is not None and len(raw) + len(kept) > size:
                raw.extend(kept[: size - len(raw)])
                # The page ends inside the response: go on after its last item.
                lek = {name: raw[-1][name] for name in plan.key_names if name in raw[-1]}
                break
            raw.extend(kept)
            if lek is None or (skip == 0 and (size is None or len(raw) >= size)):
                break
            request["ExclusiveStartKey"] = lek
        next_cursor = None
        returned = None if limit is None else before + len(raw)
        if lek is not None and (limit is None or before + len(raw) < limit):
            next_cursor = query.encode_cursor(
                lek, plan.fingerprint, self._repo.database.cursor_secret, returned
            )
        return Page([self._decode(item, plan) for item in raw], next_cursor)

    def __aiter__(self) -> AsyncIterator[T]:
        return self._iterate()

    async def _iterate(self) -> AsyncGenerator[T, None]:
        pages = self._decoded_pages()
        async with contextlib.aclosing(pages):
            async for page in pages:
                for found in page:
                    yield found

    async def _decoded_pages(self) -> AsyncGenerator[list[T], None]:
        """The matching items, a page at a time (offset and limit applied)."""
        plan = self.plan()
        spec = self.spec
        skip = spec.offset
        remaining = spec.limit
        pages = self._parallel(plan) if spec.segments > 1 else self._pages(plan)
        try:
            async for items, decoded in pages:
                if skip:
                    dropped = min(skip, len(items))
                    skip -= dropped
                    items = items[dropped:]
                if remaining is not None:
                    items = items[:remaining]
                    remaining -= len(items)
                yield items if decoded else self._decode_page(items, plan)
                if remaining == 0:
                    return
        finally:
            await pages.aclose()

    def _decode_page(self, items: list[dict[str, Any]], plan: Plan) -> list[Any]:
        """A page of wire items decoded at once, garbage collection paused meanwhile
        (`CollectionsPaused`: one page is bounded, 1 MB read); the pause ends before
        the first item is handed over."""
        with CollectionsPaused():
            return [self._decode(item, plan, wire=True) for item in items]

    async def _pages(self, plan: Plan) -> AsyncGenerator[tuple[list[Any], bool], None]:
        """Pages in order (see `_items`); with no limit, the next page is fetched while
        one is consumed."""
        spec = self.spec
        wanted = None if spec.limit is None else spec.offset + spec.limit
        request = dict(plan.request)
        # Without a filter every evaluated item is returned: ask for just what is needed.
        if wanted is not None and not plan.filtered:
            request["Limit"] = wanted
        seen = 0
        pending: asyncio.Future[dict[str, Any]] | None = None
        try:
            response = await self._send(plan, request, wire=True)
            while True:
                page = _items(response)
                seen += len(page[0])
                lek = response.get("LastEvaluatedKey")
                if lek is not None and (wanted is None or seen < wanted):
                    request = {**request, "ExclusiveStartKey": lek}
                    if "Limit" in request and wanted is not None:
                        request["Limit"] = wanted - seen
                    if wanted is None:
                        pending = asyncio.ensure_future(self._send(plan, request, wire=True))
                else:
                    lek = None
                yield page
                if lek is None:
                    return
                if pending is not None:
                    response, pending = await pending, None
                else:
                    response = await self._send(plan, request, wire=True)
        finally:
            if pending is not None:
                _discard(pending)

    async def _parallel(self, plan: Plan) -> AsyncGenerator[tuple[list[Any], bool], None]:
        """Pages of every segment as they arrive.

        At most `MAX_CONCURRENT_SEGMENTS` segments are read at once, and the queue
        holds as many pages: memory is bounded by twice that many pages (1 MB each),
        whatever the number of segments.
        """
        spec = self.spec
        segments = spec.segments
        concurrent = min(segments, MAX_CONCURRENT_SEGMENTS)
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue(maxsize=concurrent)
        slots = asyncio.Semaphore(concurrent)
        closing = False
        first = dict(plan.request)
        if spec.limit is not None and not plan.filtered:
            first["Limit"] = spec.offset + spec.limit  # no segment needs more than that

        async def worker(segment: int) -> None:
            request = {**first, "Segment": segment}
            try:
                async with slots:
                    while True:
                        response = await self._send(plan, request, wire=True)
                        await queue.put(("items", _items(response)))
                        lek = response.get("LastEvaluatedKey")
                        if lek is None:
                            break
                        request = {**request, "ExclusiveStartKey": lek}
            except BaseException as exc:
                if closing:  # the consumer stopped and cancelled us
                    raise
                # Anything else, a stray cancellation included, reaches the consumer,
                # which would otherwise wait for this segment for ever.
                await queue.put(("error", exc))
            else:
                await queue.put(("done", None))

        tasks = [asyncio.ensure_future(worker(segment)) for segment in range(segments)]
        try:
            finished = 0
            while finished < segments:
                kind, payload = await queue.get()
                if kind == "items":
                    yield payload
                elif kind == "done":
                    finished += 1
                else:
                    raise payload
        finally:
            closing = True
            for task in tasks:
                _discard(task)

    async def _send(
        self, plan: Plan, request: dict[str, Any], *, wire: bool = False
    ) -> dict[str, Any]:
        """One Query or Scan request, its response checked. `wire`: the items are
        decoded by `_decode` only (``Transport.call``'s ``wire_items``)."""
        transport = self._repo.database.transport
        if wire:
            mapper = self._repo.mapper
            decode = mapper.decode_fields if self.spec.as_dicts else mapper.decode
            response = await transport.call(plan.operation, request, wire_items=decode)
        else:
            response = await transport.call(plan.operation, request)
        # Iterated items' keys are never read but to name an item that failed to
        # decode (and such an item is checked then): only a page's keys need checking.
        problem = _page_problem(response, request, frozenset() if wire else plan.key_names)
        if problem is not None:
            raise malformed(plan.operation, plan.table, problem)
        return response

    def _start_key(self, plan: Plan, cursor: str) -> tuple[dict[str, Any], int | None]:
        """The start key in `cursor` and the items returned before it, checked."""
        with self._context():
            key, returned = query.decode_page_cursor(
                cursor, plan.fingerprint, self._repo.database.cursor_secret, plan.key_names
            )
            types = self._repo.mapper.key_attributes
            for name, av in key.items():
                if types.get(name, next(iter(av))) not in av:
                    raise InvalidCursor(f"the cursor's key {name!r} has the wrong type")
            if plan.partition is not None:
                name, value = plan.partition
                # Numbers by value: "1.50" and "1.5" are one partition.
                if identity(plan.table, {name: key[name]}) != identity(plan.table, {name: value}):
                    raise InvalidCursor("the cursor points outside this query's partition")
            return key, returned

    def _decode(self, raw: dict[str, Any], plan: Plan, *, wire: bool = False) -> Any:
        mapper = self._repo.mapper
        try:
            if self.spec.as_dicts:
                return mapper.decode_fields(raw)
            return mapper.decode(raw)
        except ConversionError as exc:
            if wire:
                # Checked only now: the item may not be a map of AttributeValues at all.
                try:
                    check_item(raw)
                except (TypeError, ValueError) as problem:
                    raise malformed(plan.operation, plan.table, problem) from exc
                bad_key = _bad_key(raw, plan.key_names)  # as _page_problem checks pages
                if bad_key is not None:
                    raise malformed(plan.operation, plan.table, bad_key) from exc
            if self.spec.as_dicts:
                raise
            if self.spec.projection:
                exc.message += "; the projection may leave it out: or read dicts with .as_dicts()"
            key = {name: raw[name] for name in plan.key_names if name in raw}
            exc.add_context(table=plan.table, operation=plan.operation, key=readable_key(key))
            raise


class Query(_Reader[T]):
    """A query (or, if allowed, a scan) of one mapped class; get one from
    ``repo.query()`` or ``repo.where(...)``.

    Conditions given to `where` choose the table or index: an equality on a
    partition key is required, a sort key condition is used when it can be, and
    the rest becomes a filter. ``explain()`` shows the choice.

    Example:
        ```python
        books = await (
            repo.where("category", "=", "books")
            .where(attr("price") < 20)
            .order(descending=True)
            .limit(10)
            .all()
        )
        ```
    """

    __slots__ = ()

    def where(self, *args: Any) -> Query[T]:
        """Add a condition (ANDed with the others): ``where(attr("price") < 20)`` or
        ``where("price", "<", 20)``."""
        condition = _condition(args, "where")
        return self._with(conditions=(*self.spec.conditions, condition))

    def order(self, *, descending: bool = False) -> Query[T]:
        """Sort-key order: ascending (the default) or descending."""
        return self._with(descending=self._flag(descending, "order(descending=...)"))

    def allow_scan(self, enabled: bool = True) -> Query[T]:
        """Scan the whole table when no table or index fits the conditions."""
        return self._with(allow_scan=self._flag(enabled, "allow_scan()"))

    def as_dicts(self) -> Query[dict[str, Any]]:
        """Return dicts of the fields read (by Python name) instead of objects."""
        return Query(self._repo, attrs.evolve(self.spec, as_dicts=True))


class Scan(_Reader[T]):
    """A scan of a whole table or index; get one from ``repo.scan()``.

    Conditions are filters: every item is read (and paid for). With
    ``segments(n)`` the scan runs as `n` parallel segments and yields items as
    they arrive, in no particular order.
    """

    __slots__ = ()

    def where(self, *args: Any) -> Scan[T]:
        """Same as `filter`: a scan has no key conditions."""
        return self.filter(*args)

    def segments(self, count: int) -> Scan[T]:
        """Run as `count` parallel segments (1 to 1,000,000)."""
        if self._count(count, "segments", 1) > 1_000_000:
            raise self._error(f"segments must be at most 1,000,000, got {count}")
        return self._with(segments=count)

    def as_dicts(self) -> Scan[dict[str, Any]]:
        """Return dicts of the fields read (by Python name) instead of objects."""
        return Scan(self._repo, attrs.evolve(self.spec, as_dicts=True))


_KEY_TYPES = frozenset({"S", "N", "B"})


def _items(response: dict[str, Any]) -> tuple[list[Any], bool]:
    """A response's items, and whether they are decoded already (the fast path
    decodes a page as it reads it: see `Transport.call`'s ``wire_items``)."""
    decoded = response.get(DECODED_ITEMS)
    if decoded is not None:
        return decoded, True
    return response.get("Items", []), False


def _key_value(value: object) -> bool:
    """Whether `value` is a key attribute's AttributeValue: one S, N or B."""
    if not isinstance(value, dict) or len(value) != 1:
        return False
    ((tag, inner),) = value.items()
    return tag in _KEY_TYPES and isinstance(inner, (str, bytes))


def _bad_key(item: dict[str, Any], key_names: frozenset[str]) -> str | None:
    """What is wrong with an item's key attributes (each must be one S, N or B)."""
    for name in key_names:
        if name in item and not _key_value(item[name]):
            return f"an item's key attribute {name!r} is {item[name]!r}"
    return None


def _page_problem(
    response: dict[str, Any], request: dict[str, Any], key_names: frozenset[str]
) -> str | None:
    """What is wrong with a Query or Scan response, if anything: the fields paging and
    cursors rely on must have their shape, and a key must never come back twice."""
    items = response.get("Items", [])
    if not isinstance(items, list):
        return f"Items is a {type(items).__name__}, not a list"
    for item in items:
        if item.__class__ is not dict and not isinstance(item, dict):
            return f"an item is a {type(item).__name__}, not a map"
        bad_key = _bad_key(item, key_names)
        if bad_key is not None:
            return bad_key
    count = response.get("Count", 0)
    if type(count) is not int or count < 0:
        return f"Count is {count!r}"
    last = response.get("LastEvaluatedKey")
    if last is not None:
        if not (isinstance(last, dict) and last and all(map(_key_value, last.values()))):
            return f"LastEvaluatedKey is {last!r}"
        if last == request.get("ExclusiveStartKey"):
            return "the LastEvaluatedKey it was sent came back: reading would never end"
    return None
