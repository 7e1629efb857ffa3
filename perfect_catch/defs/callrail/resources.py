"""CallRail as a Dagster resource: a configured client of the account."""

import dagster as dg

from perfect_catch.connectors.callrail import CallRailClient
from perfect_catch.defs.secrets import secret_env
from perfect_catch.settings import get_settings


class CallRailResource(dg.ConfigurableResource):
    """Host, account and API key of CallRail (the key comes from an environment variable)."""

    api_url: str
    api_key: str
    account_id: str
    timeout_seconds: float = 60.0
    max_retries: int = 8

    def client(self) -> CallRailClient:
        """A client of the account; close it (or use `with`) when done."""
        return CallRailClient(
            self.api_url,
            self.api_key,
            self.account_id,
            timeout=self.timeout_seconds,
            max_retries=self.max_retries,
        )


def callrail_resource() -> CallRailResource:
    settings = get_settings()
    return CallRailResource(
        api_url=settings.callrail_api_url,
        api_key=secret_env("CALLRAIL_API_KEY"),
        account_id=settings.callrail_account_id,
        timeout_seconds=settings.http_timeout_seconds,
        max_retries=settings.http_max_retries,
    )


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"callrail": callrail_resource()})
