"""The warehouse as a Dagster resource: the engine every asset writes through."""

import dagster as dg
import sqlalchemy as sa

from perfect_catch.settings import get_settings
from perfect_catch.warehouse.engine import create_engine, get_engine


class WarehouseResource(dg.ConfigurableResource):
    """PostgreSQL warehouse. Empty `database_url`: the configured one (or the embedded server)."""

    database_url: str | None = None

    def engine(self) -> sa.Engine:
        if self.database_url:
            return create_engine(self.database_url)
        return get_engine(get_settings())


@dg.definitions
def resources() -> dg.Definitions:
    url = get_settings().database_url
    return dg.Definitions(
        resources={
            "warehouse": WarehouseResource(database_url=dg.EnvVar("DATABASE_URL") if url else None)
        }
    )
