"""ServiceTitan as a Dagster resource: a configured client per tenant.

The shared credentials are the resource's config (secrets as `EnvVar`s); a tenant's own
(`ST_<ID>_*` variables or its entry of the tenants file) are looked up when its client is made,
inside the run of that tenant, and never become config, tags or metadata of any run.
"""

from pathlib import Path

import dagster as dg

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.defs.secrets import secret_env
from perfect_catch.settings import get_settings
from perfect_catch.tenants import TenantCredentials, resolve_credentials


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
    tenants_file: str = ""
    """ST_TENANTS_FILE: tenants with their own credentials (empty: none)."""

    def credentials(self, tenant_id: int) -> TenantCredentials:
        """`tenant_id`'s own credentials, else the shared ones of this resource."""
        return resolve_credentials(
            tenant_id,
            shared=(self.client_id, self.client_secret, self.app_key),
            tenants_file=Path(self.tenants_file) if self.tenants_file else None,
        )

    def client(self, tenant_id: int) -> ServiceTitanClient:
        """A client bound to `tenant_id`, on its credentials; close it (or use `with`)."""
        own = self.credentials(tenant_id)
        return ServiceTitanClient(
            self.api_url,
            self.auth_url,
            own.client_id,
            own.client_secret.get_secret_value(),
            own.app_key.get_secret_value(),
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
        tenants_file=str(settings.st_tenants_file or ""),
    )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"servicetitan": servicetitan_resource()})
