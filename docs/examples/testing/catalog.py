"""The application code under test (in a real project: your package's models)."""

import attrs

from dynamorm_async import Mapper


@attrs.define
class Product:
    id: str
    name: str
    stock: int = 0
    version: int = 0


products = Mapper(Product, table="products", partition_key="id", version_attribute="version")
