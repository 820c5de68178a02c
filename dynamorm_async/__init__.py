"""dynamorm_async: an async-first data mapper for Amazon DynamoDB.

Plain attrs classes are mapped to tables by `Mapper` objects, cattrs converts
values to and from DynamoDB's wire format, and a `Database` sends requests over
one pooled aiobotocore client.

Example:
    ```python
    import attrs
    from dynamorm_async import Database, Mapper, attr

    @attrs.define
    class Product:
        id: str
        price: int

    products = Mapper(Product, table="products", partition_key="id")

    async with Database.connect(region_name="eu-west-1", mappers=[products]) as db:
        repo = db.repository(products)
        await repo.put(Product("p1", 12))
        await repo.update("p1", set={"price": 10}, condition=attr("price") > 5)
    ```
"""

from dynamorm_async._version import __version__
from dynamorm_async.convert import EpochSeconds, TypeRegistry, register_converter
from dynamorm_async.db import (
    Database,
    Page,
    Query,
    Repository,
    Scan,
    Schema,
    SchemaDiff,
    Transaction,
    UnitOfWork,
)
from dynamorm_async.errors import (
    BatchGetError,
    CancellationReason,
    CircuitOpenError,
    ConditionFailed,
    ConversionError,
    DynamoDBError,
    DynamORMError,
    InvalidCursor,
    ItemAlreadyExists,
    ItemNotFound,
    ItemTooLarge,
    MappingError,
    MigrationError,
    NoIndexForQuery,
    SchemaMismatch,
    TableNotFound,
    ThrottledError,
    TransactionCanceled,
    TransportError,
    UnitOfWorkError,
    ValidationError,
    VersionConflict,
    WriteFailure,
)
from dynamorm_async.expressions import (
    Condition,
    Path,
    Update,
    attr,
    if_not_exists,
    list_append,
    size,
    where,
)
from dynamorm_async.mapping import Mapper
from dynamorm_async.query import Explain
from dynamorm_async.specs import GlobalIndex, LocalIndex, Projection, TableOptions, Throughput
from dynamorm_async.transport import CircuitBreaker, RetryPolicy

__all__ = [
    "BatchGetError",
    "CancellationReason",
    "CircuitBreaker",
    "CircuitOpenError",
    "ConditionFailed",
    "Condition",
    "ConversionError",
    "Database",
    "DynamORMError",
    "DynamoDBError",
    "EpochSeconds",
    "Explain",
    "GlobalIndex",
    "InvalidCursor",
    "ItemAlreadyExists",
    "ItemNotFound",
    "ItemTooLarge",
    "LocalIndex",
    "Mapper",
    "MappingError",
    "MigrationError",
    "NoIndexForQuery",
    "Page",
    "Path",
    "Projection",
    "Query",
    "Repository",
    "RetryPolicy",
    "Scan",
    "Schema",
    "SchemaDiff",
    "SchemaMismatch",
    "TableNotFound",
    "TableOptions",
    "ThrottledError",
    "Throughput",
    "Transaction",
    "TransactionCanceled",
    "TransportError",
    "TypeRegistry",
    "UnitOfWork",
    "UnitOfWorkError",
    "Update",
    "ValidationError",
    "VersionConflict",
    "WriteFailure",
    "__version__",
    "attr",
    "if_not_exists",
    "list_append",
    "register_converter",
    "size",
    "where",
]
