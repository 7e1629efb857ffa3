"""ServiceTitan as a Dagster resource: a configured client per tenant."""

import dagster as dg

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.defs.secrets import secret_env
from perfect_catch.settings import get_settings


class ServiceTitanResource(dg.ConfigurableResource):
    """Credentials and hosts of the ServiceTitan API (secrets come from environment variables)."""

    api_url: str
    auth_url: str
    client_id: str
    client_secret: str
    app_key: str
    timeout_seconds: float = 60.0
    max_retries: int = 8
    page_size: int = 5000

    def client(self, tenant_id: int) -> ServiceTitanClient:
        """A client bound to `tenant_id`; close it (or use `with`) when done."""
        return ServiceTitanClient(
            self.api_url,
            self.auth_url,
            self.client_id,
            self.client_secret,
            self.app_key,
            tenant_id,
            timeout=self.timeout_seconds,
            max_retries=self.max_retries,
            page_size=self.page_size,
        )


def servicetitan_resource() -> ServiceTitanResource:
    settings = get_settings()
    return ServiceTitanResource(
        api_url=settings.st_api_url,
        auth_url=settings.st_auth_url,
        client_id=settings.st_client_id,
        client_secret=secret_env("ST_CLIENT_SECRET"),
        app_key=secret_env("ST_APP_KEY"),
        timeout_seconds=settings.http_timeout_seconds,
        max_retries=settings.http_max_retries,
        page_size=settings.st_page_size,
    )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"servicetitan": servicetitan_resource()})
