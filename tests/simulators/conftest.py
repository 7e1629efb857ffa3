"""Running simulators and a small ServiceTitan client for the simulator tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from perfect_catch.simulators.server import SimulatorServer
from perfect_catch.simulators.servicetitan import ServiceTitanSystem

EXPORT_PAGE_SIZE = 37


class StClient:
    """Just enough of a ServiceTitan client to exercise the simulator over HTTP."""

    def __init__(self, env: dict[str, str], timeout: float = 10.0) -> None:
        self.env = env
        self.tenant = int(env["ST_TENANT_IDS"].split(",")[0])
        self.http = httpx.Client(timeout=timeout)
        self.token = self.fetch_token()

    def fetch_token(self) -> str:
        response = self.http.post(
            f"{self.env['ST_AUTH_URL']}/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": self.env["ST_CLIENT_ID"],
                "client_secret": self.env["ST_CLIENT_SECRET"],
            },
        )
        response.raise_for_status()
        return response.json()["access_token"]

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}", "ST-App-Key": self.env["ST_APP_KEY"]}

    def url(self, module: str, path: str, tenant: int | None = None) -> str:
        return f"{self.env['ST_API_URL']}/{module}/v2/tenant/{tenant or self.tenant}/{path}"

    def request(self, method: str, module: str, path: str, **kwargs: Any) -> httpx.Response:
        return self.http.request(method, self.url(module, path), headers=self.headers(), **kwargs)

    def get(self, module: str, path: str, **params: Any) -> httpx.Response:
        return self.request("GET", module, path, params=params)

    def export_all(
        self, module: str, resource: str, start: str | None = None, recent: bool = False
    ) -> tuple[list[dict[str, Any]], str, int]:
        """Follow the export feed to its end: (records, last token, pages)."""
        records: list[dict[str, Any]] = []
        token = start
        pages = 0
        while True:
            params: dict[str, Any] = {}
            if token is not None:
                params["from"] = token
            if recent:
                params["includeRecentChanges"] = "true"
            response = self.get(module, f"export/{resource}", **params)
            assert response.status_code == 200, response.text
            body = response.json()
            assert set(body) == {"hasMore", "continueFrom", "data"}
            records += body["data"]
            token = body["continueFrom"]
            pages += 1
            if not body["hasMore"]:
                return records, token, pages

    def close(self) -> None:
        self.http.close()


def make_server(**system_kwargs: Any) -> SimulatorServer:
    kwargs = {"seed": 1, "size": "small", "export_page_size": EXPORT_PAGE_SIZE, "rate_limit": 0}
    kwargs.update(system_kwargs)
    system = ServiceTitanSystem(**kwargs)
    return SimulatorServer(
        seed=kwargs["seed"], size=kwargs["size"], systems={"servicetitan": system}
    )


@pytest.fixture(scope="session")
def st_client_factory() -> type[StClient]:
    return StClient


@pytest.fixture(scope="session")
def server_factory():  # type: ignore[no-untyped-def]
    """Build (not start) a simulator host whose ServiceTitan takes these keyword arguments."""
    return make_server


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    """A fresh small simulator per test module, with short export pages and no rate limit."""
    with make_server() as running:
        yield running


@pytest.fixture(scope="module")
def st(server: SimulatorServer) -> Iterator[StClient]:
    client = StClient(server.env)
    yield client
    client.close()
