"""GoHighLevel as a Dagster resource: a configured client of the location."""

import dagster as dg

from perfect_catch.connectors.gohighlevel import GoHighLevelClient
from perfect_catch.defs.secrets import secret_env
from perfect_catch.settings import get_settings


class GoHighLevelResource(dg.ConfigurableResource):
    """Host, location and token of the GHL API (the token comes from an environment variable)."""

    api_url: str
    token: str
    location_id: str
    timeout_seconds: float = 60.0
    max_retries: int = 8

    def client(self) -> GoHighLevelClient:
        """A client of the location; close it (or use `with`) when done."""
        return GoHighLevelClient(
            self.api_url,
            self.token,
            self.location_id,
            timeout=self.timeout_seconds,
            max_retries=self.max_retries,
        )


def gohighlevel_resource() -> GoHighLevelResource:
    settings = get_settings()
    return GoHighLevelResource(
        api_url=settings.ghl_api_url,
        token=secret_env("GHL_TOKEN"),
        location_id=settings.ghl_location_id,
        timeout_seconds=settings.http_timeout_seconds,
        max_retries=settings.http_max_retries,
    )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"gohighlevel": gohighlevel_resource()})
