"""`Database`: one pooled client, the registered mappers and their table names."""

from __future__ import annotations

import copy
import string
from collections.abc import Awaitable, Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar, cast, overload

from aiobotocore.session import AioSession

from dynamorm_async.db import _batch
from dynamorm_async.db._repository import Repository
from dynamorm_async.db._tables import Schema
from dynamorm_async.db._writes import Transaction, UnitOfWork
from dynamorm_async.errors import BatchGetError, MappingError, ValidationError
from dynamorm_async.mapping import Mapper
from dynamorm_async.specs import valid_name
from dynamorm_async.transport import (
    CircuitBreaker,
    ClientConfig,
    RecordingTransport,
    RetryPolicy,
    Transport,
)

__all__ = ["Database"]

T = TypeVar("T")
R = TypeVar("R")


class Database:
    """A connection to DynamoDB: the client, the mappers and their table names.

    Open it with ``async with Database.connect(...) as db`` (or ``await db.open()``
    and ``await db.close()``, e.g. in a FastAPI lifespan). One `Database` is meant to
    be shared by a whole application: its client pools connections.

    Example:
        ```python
        async with Database.connect(region_name="eu-west-1", mappers=[products]) as db:
            await db.schema.ensure(products)
            repo = db.repository(products)
        ```
    """

    def __init__(
        self,
        config: ClientConfig,
        *,
        mappers: Iterable[Mapper[Any]] = (),
        table_name_template: str = "{table}",
        table_name_vars: Mapping[str, str] | None = None,
        cursor_secret: str | bytes | None = None,
        retry_policy: RetryPolicy | None = None,
        circuit_breaker: CircuitBreaker | None = None,
        session: AioSession | None = None,
    ) -> None:
        self.config = config
        self.cursor_secret = _secret(cursor_secret)
        self.transport = Transport(
            config, session, retry_policy=retry_policy, breaker=circuit_breaker
        )
        self.table_name_template = table_name_template
        given: object = table_name_vars  # typed as a Mapping, but callers err
        if given is not None and not (
            isinstance(given, Mapping) and all(isinstance(k, str) for k in given)
        ):
            raise MappingError(
                f"table_name_vars must map names to strings, like {{'env': 'prod'}}; "
                f"got {table_name_vars!r}"
            )
        self.table_name_vars = dict(table_name_vars or {})
        _check_template(table_name_template, self.table_name_vars)
        self._mappers: dict[type, list[Mapper[Any]]] = {}
        self._repositories: dict[Mapper[Any], Repository[Any]] = {}
        self.schema = Schema(self)
        if isinstance(mappers, Mapper):
            mappers = [mappers]
        for mapper in mappers:
            self.register(mapper)

    @classmethod
    def connect(
        cls,
        endpoint_url: str | None = None,
        region_name: str | None = None,
        *,
        mappers: Iterable[Mapper[Any]] = (),
        table_name_template: str = "{table}",
        table_name_vars: Mapping[str, str] | None = None,
        profile_name: str | None = None,
        aws_access_key_id: str | None = None,
        aws_secret_access_key: str | None = None,
        aws_session_token: str | None = None,
        max_pool_connections: int = 50,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 3,
        cursor_secret: str | bytes | None = None,
        retry_policy: RetryPolicy | None = None,
        circuit_breaker: CircuitBreaker | None = None,
        session: AioSession | None = None,
        log_values: bool = False,
        fast_path: bool | None = None,
    ) -> Database:
        """A `Database` to open with ``async with``.

        Args:
            endpoint_url: a DynamoDB-compatible endpoint; ``None`` for AWS itself.
            region_name: the AWS region; ``None`` takes it from the environment or
                profile (``us-east-1`` for a local endpoint with none configured).
            mappers: the mappers to register (`register` adds more later).
            table_name_template: how a mapper's table name becomes the real one, e.g.
                ``"{env}-{table}"``; ``{table}`` is the mapper's name.
            table_name_vars: values for the template's other fields (``{"env": "prod"}``).
            profile_name: an AWS profile for credentials and region.
            aws_access_key_id: explicit credentials; by default the usual AWS chain
                (environment, profile, instance role) is used.
            aws_secret_access_key: explicit credentials, with `aws_access_key_id`.
            aws_session_token: a session token for temporary credentials.
            max_pool_connections: the size of the HTTP connection pool.
            connect_timeout: seconds to wait for a connection.
            read_timeout: seconds to wait for a response.
            max_attempts: tries per call (the first included) of the default retry
                policy; pass `retry_policy` for more control.
            cursor_secret: a key to sign page cursors with (HMAC-SHA256), so that a
                client cannot forge or alter one; use the same secret on every
                instance of the application. Without it a cursor is only checksummed.
            retry_policy: how every call is retried (`RetryPolicy`: exponential backoff
                with full jitter; its ``retries`` and ``gave_up`` count what happened).
            circuit_breaker: a `CircuitBreaker` to fail fast while DynamoDB keeps
                failing (none by default); its ``state`` says where it stands.
            session: an aiobotocore session to create the client from.
            log_values: show keys, items and expression values in the debug log of
                requests (logger ``dynamorm_async.requests``); redacted by default.
            fast_path: read successful responses with orjson and leave request
                validation to the library (on by default; ``False`` goes through
                botocore's parser and validator, for debugging). ``None``: on unless
                the environment variable ``DYNAMORM_FAST_PATH`` is ``0``.
        """
        config = ClientConfig(
            endpoint_url=endpoint_url,
            region_name=region_name,
            profile_name=profile_name,
            aws_access_key_id=aws_access_key_id,
            aws_secret_access_key=aws_secret_access_key,
            aws_session_token=aws_session_token,
            max_pool_connections=max_pool_connections,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_attempts=max_attempts,
            log_values=log_values,
            **({} if fast_path is None else {"fast_path": fast_path}),
        )
        return cls(
            config,
            mappers=mappers,
            table_name_template=table_name_template,
            table_name_vars=table_name_vars,
            cursor_secret=cursor_secret,
            retry_policy=retry_policy,
            circuit_breaker=circuit_breaker,
            session=session,
        )

    def __repr__(self) -> str:
        state = "open" if self.transport.is_open else "closed"
        return f"<Database {self.config!r} {state}>"

    async def open(self) -> Database:
        """Create the client; `connect` plus ``async with`` does this for you."""
        await self.transport.open()
        return self

    async def close(self) -> None:
        """Close the client and every pooled connection."""
        await self.transport.close()

    async def __aenter__(self) -> Database:
        return await self.open()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    def dry_run(self) -> Database:
        """A view of this database that reads for real but records its writes.

        Everything the view would change (CreateTable, UpdateTable, PutItem,
        BatchWriteItem...) is appended to ``view.transport.calls`` instead of being
        sent; reads go through this database's client. Waits for tables to become
        ACTIVE are skipped. Migrations' dry runs use it.
        """
        view = copy.copy(self)
        view.transport = RecordingTransport(self.transport)
        view.schema = Schema(view)
        view._repositories = {}
        view._mappers = {cls: list(group) for cls, group in self._mappers.items()}
        return view

    @property
    def client(self) -> Any:
        """The underlying aiobotocore DynamoDB client, for calls the library does not wrap."""
        return self.transport.client

    def register(self, mapper: Mapper[Any]) -> None:
        """Register a mapper, so that `model` finds it by its class."""
        if not isinstance(mapper, Mapper):
            raise MappingError(f"expected a Mapper, got {mapper!r}")
        self.table_name(mapper)  # a template that makes an invalid name fails now
        known = self._mappers.setdefault(mapper.cls, [])
        if mapper not in known:
            known.append(mapper)

    @property
    def mappers(self) -> list[Mapper[Any]]:
        """The registered mappers."""
        return [m for group in self._mappers.values() for m in group]

    def table_name(self, mapper: Mapper[Any]) -> str:
        """The real name of the mapper's table, after the template is applied."""
        name = self.table_name_template.format(table=mapper.table, **self.table_name_vars)
        if not valid_name(name):
            raise MappingError(
                f"table name {name!r} (from template {self.table_name_template!r}) must be "
                "3-255 characters of letters, digits, '_', '-', '.'",
                table=name,
            )
        return name

    def repository(self, mapper: Mapper[T]) -> Repository[T]:
        """The `Repository` of a mapper (registered or not)."""
        if not isinstance(cast(object, mapper), Mapper):
            raise MappingError(f"expected a Mapper, got {mapper!r}")
        repository = self._repositories.get(mapper)
        if repository is None:
            if not isinstance(mapper, Mapper):
                raise MappingError(f"expected a Mapper, got {mapper!r}")
            repository = self._repositories[mapper] = Repository(self, mapper)
        return repository

    def model(self, cls: type[T]) -> Repository[T]:
        """The `Repository` of the registered mapper of `cls`."""
        found = self._mappers.get(cls, [])
        if not found:
            names = sorted(c.__name__ for c in self._mappers)
            raise MappingError(
                f"{getattr(cls, '__name__', cls)!r} has no registered mapper; pass it in "
                f"Database.connect(mappers=[...]) or db.register() (registered: {names})"
            )
        if len(found) > 1:
            tables = [m.table for m in found]
            raise MappingError(
                f"{cls.__name__} has {len(found)} mappers (tables {tables}); use "
                "db.repository(mapper) to choose one"
            )
        return self.repository(found[0])

    # --- several items at once -------------------------------------------------------

    def unit_of_work(
        self, *, concurrency: int = 8, attempts: int = 10, deadline: float | None = 60.0
    ) -> UnitOfWork:
        """A `UnitOfWork`: writes collected, then sent in batches on commit.

        Args:
            concurrency: requests in flight at once during the commit.
            attempts: tries for a batch whose items DynamoDB leaves unprocessed.
            deadline: seconds after which unprocessed items are not retried any more
                (``None``: the retry policy's deadline).
        """
        return UnitOfWork(self, concurrency=concurrency, attempts=attempts, deadline=deadline)

    @overload
    def transaction(
        self, fn: None = None, *, attempts: int = 5, token: str | None = None
    ) -> Transaction: ...

    @overload
    def transaction(
        self,
        fn: Callable[[Transaction], Awaitable[R]],
        *,
        attempts: int = 5,
        token: str | None = None,
    ) -> Awaitable[R]: ...

    def transaction(
        self,
        fn: Callable[[Transaction], Awaitable[R]] | None = None,
        *,
        attempts: int = 5,
        token: str | None = None,
    ) -> Transaction | Awaitable[R]:
        """A `Transaction` (``async with db.transaction() as tx``), or, given `fn`, run
        ``await fn(tx)`` and commit: ``await db.transaction(transfer)``.

        `attempts` bounds the tries when other transactions conflict with this one.
        `token` is the ClientRequestToken of the first try: give the `Transaction.token`
        of a commit whose outcome is unknown to send the same writes again safely.
        """
        tx = Transaction(self, attempts=attempts, token=token)
        if fn is None:
            return tx
        return self._run_transaction(tx, fn)

    async def _run_transaction(
        self, tx: Transaction, fn: Callable[[Transaction], Awaitable[R]]
    ) -> R:
        async with tx:
            return await fn(tx)

    async def transact_get(self, targets: Iterable[tuple[Mapper[Any], Any]]) -> list[Any]:
        """Read up to 100 items atomically (TransactGetItems): ``[(mapper, key), ...]``;
        objects (or ``None`` for a missing item) in the same order."""
        wanted = []
        for entry in targets:
            if not (isinstance(cast(object, entry), tuple) and len(entry) == 2):
                raise ValidationError(
                    f"transact_get takes (mapper, key) pairs, not {entry!r}",
                    operation="TransactGetItems",
                )
            mapper, key = entry
            repository = self.repository(mapper)
            with repository._context("TransactGetItems", key):
                wanted.append((repository, mapper.key(key)))
        raws = await _batch.transact_get(self, wanted)
        return [
            None if raw is None else repository._decode(raw, key, projected=False)
            for (repository, key), raw in zip(wanted, raws, strict=True)
        ]

    async def batch_get(
        self, keys: Mapping[Mapper[Any], Iterable[Any]], *, consistent: bool = False
    ) -> dict[Mapper[Any], list[Any]]:
        """Read many items of several tables (BatchGetItem, 100 keys a request,
        concurrently); per mapper, objects in key order, ``None`` for missing keys.

        Raises:
            BatchGetError: keys were still unprocessed when the retry budget ran out.
        """
        wanted: dict[Mapper[Any], list[tuple[Repository[Any], dict[str, Any]]]] = {}
        for mapper, mapper_keys in keys.items():
            repository = self.repository(mapper)
            if isinstance(mapper_keys, (str, bytes)) or not isinstance(mapper_keys, Iterable):
                raise ValidationError(
                    f"batch_get takes a collection of keys per mapper, not {mapper_keys!r}",
                    operation="BatchGetItem",
                )
            wanted[mapper] = []
            for key in mapper_keys:
                with repository._context("BatchGetItem", key):
                    wanted[mapper].append((repository, mapper.key(key)))

        def shaped(found: dict[Any, dict[str, Any]]) -> dict[Mapper[Any], list[Any]]:
            """Objects per mapper, in key order."""
            return {
                mapper: [_found(repository, key, found) for repository, key in group]
                for mapper, group in wanted.items()
            }

        try:
            found = await _batch.batch_get(
                self, [w for group in wanted.values() for w in group], consistent=consistent
            )
        except BatchGetError as exc:  # what was read, shaped as the result would be
            exc.found = shaped(exc.found)
            raise
        return shaped(found)


def _found(
    repository: Repository[Any], key: dict[str, Any], found: dict[Any, dict[str, Any]]
) -> Any:
    raw = found.get(_batch.identity(repository.table, key))
    return None if raw is None else repository._decode(raw, key, projected=False)


def _secret(value: object) -> bytes | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = value.encode("utf-8")
    if not isinstance(value, bytes) or len(value) < 16:
        raise ValidationError("cursor_secret must be a str or bytes of at least 16 bytes")
    return value


def _check_template(template: str, variables: Mapping[str, str]) -> None:
    if not isinstance(template, str):
        raise MappingError(f"table_name_template must be a str, not {template!r}")
    if "table" in variables:
        raise MappingError("table_name_vars cannot set 'table': it is each mapper's name")
    try:
        fields = {n for _, n, _, _ in string.Formatter().parse(template) if n is not None}
    except ValueError as exc:
        raise MappingError(
            f"table_name_template {template!r} is not a valid template: {exc}"
        ) from exc
    if "table" not in fields:
        raise MappingError(f"table_name_template {template!r} must contain {{table}}")
    missing = fields - {"table"} - set(variables)
    if missing:
        raise MappingError(
            f"table_name_template {template!r} uses {sorted(missing)}; give them in table_name_vars"
        )
    try:
        template.format(table="t", **variables)
    except (ValueError, KeyError, IndexError, AttributeError) as exc:
        raise MappingError(
            f"table_name_template {template!r} is not a valid template: {exc}"
        ) from exc
