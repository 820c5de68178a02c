"""Migrations: a folder of versioned modules, a dry run, up, status, a backfill, down."""

import asyncio
import sys
import tempfile
import textwrap
from pathlib import Path

from dynamorm_async import Database
from dynamorm_async.migrations import Migrator
from dynamorm_async.testing import LOCAL_CREDENTIALS, local_dynamodb

# An application's models module and its migrations folder, written out here so that
# the example is self-contained; in a project they are ordinary files.
MODELS = """
import attrs
from dynamorm_async import GlobalIndex, Mapper

@attrs.define
class Product:
    id: str
    category: str
    name: str
    slug: str = ""

products = Mapper(
    Product,
    table="products",
    partition_key="id",
    indexes=[GlobalIndex("by-category", partition_key="category")],
)
"""

MIGRATIONS = {
    "0001_create_products.py": '''
        """Create the products table."""
        from dynamorm_async.migrations import Migration, MigrationContext
        from shop_models import products

        async def up(ctx: MigrationContext) -> None:
            await ctx.schema.create(products)

        async def down(ctx: MigrationContext) -> None:
            await ctx.schema.delete(products)

        migration = Migration("0001", up, down, description="create products")
    ''',
    "0002_fill_slugs.py": '''
        """Give every product a slug."""
        import attrs
        from dynamorm_async.migrations import Migration, MigrationContext
        from shop_models import Product, products

        def with_slug(product: Product) -> Product | None:
            if product.slug:
                return None  # already done: not rewritten
            return attrs.evolve(product, slug=product.name.lower().replace(" ", "-"))

        async def up(ctx: MigrationContext) -> None:
            report = await ctx.backfill(products, with_slug, segments=4)
            ctx.log(f"{report.written} of {report.scanned} products got a slug")

        migration = Migration("0002", up, None, description="fill product slugs")
    ''',
}


async def main(folder: Path) -> None:
    (folder / "shop_models.py").write_text(MODELS)
    (folder / "migrations").mkdir()
    for name, source in MIGRATIONS.items():
        (folder / "migrations" / name).write_text(textwrap.dedent(source))
    sys.path.insert(0, str(folder))  # the migrations import the application's models
    from shop_models import Product, products

    async with (
        local_dynamodb() as url,
        Database.connect(url, mappers=[products], **LOCAL_CREDENTIALS) as db,
    ):
        migrator = Migrator(db, folder / "migrations")
        for status in await migrator.status():
            print(status)  # both pending

        # A dry run prints the exact calls and changes nothing.
        for run in await migrator.up(dry_run=True):
            for operation, request in run.calls:
                print(f"  {run.version} would send {operation} to {request['TableName']}")
        assert not await db.schema.exists(products)

        await migrator.up(target="0001")  # create the table only
        repo = db.repository(products)
        async with db.unit_of_work() as uow:
            for n in range(250):
                uow.put(Product(f"p{n}", "books", f"Book Number {n}"))

        runs = await migrator.up()  # the backfill
        print("applied", [run.version for run in runs])
        print(await repo.get("p7"))
        assert (await repo.get("p7")).slug == "book-number-7"

        for status in await migrator.status():
            print(status)  # both applied, with when and how long

        # 0002 has no down: reverting past it is refused before anything runs.
        await migrator.down("0002")  # nothing to revert above 0002
        await migrator.up()  # nothing left to apply
        assert [s.state for s in await migrator.status()] == ["applied", "applied"]


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(main(Path(tmp)))
