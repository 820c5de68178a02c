"""The database, repositories and table operations (layer 5)."""

from dynamorm_async.db._database import Database
from dynamorm_async.db._query import Page, Query, Scan
from dynamorm_async.db._repository import Repository
from dynamorm_async.db._schema_plan import (
    Call,
    Change,
    LiveTable,
    SchemaDiff,
    create_table_request,
)
from dynamorm_async.db._tables import Schema
from dynamorm_async.db._writes import State, Transaction, UnitOfWork

__all__ = [
    "Call",
    "Change",
    "Database",
    "LiveTable",
    "Page",
    "Query",
    "Repository",
    "Scan",
    "Schema",
    "SchemaDiff",
    "State",
    "Transaction",
    "UnitOfWork",
    "create_table_request",
]
