"""What every tool runs with: the warehouse engine, ServiceTitan clients and the settings.

Tools take their dependencies from a `ToolContext` instead of process globals, so the MCP server,
an agent step and a test can each hand them their own engine and simulator-backed clients.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from perfect_catch.connectors.servicetitan import ServiceTitanClient
from perfect_catch.settings import Settings
from perfect_catch.tools.errors import ToolInputError, ToolUnavailable

if TYPE_CHECKING:
    import anthropic

StClientFactory = Callable[[int], ServiceTitanClient]


def _default_factory(settings: Settings) -> StClientFactory:
    def build(tenant_id: int) -> ServiceTitanClient:
        return ServiceTitanClient.from_settings(settings, tenant_id)

    return build


@dataclass
class ToolContext:
    """Engine, settings and a ServiceTitan client per tenant, shared by every tool call.

    A `ServiceTitanClient` is not thread-safe while the MCP server runs tools on worker threads,
    so each tenant's client is used under its own lock; it is kept between calls to reuse the
    OAuth token.
    """

    engine: sa.Engine
    settings: Settings
    st_client_factory: StClientFactory
    anthropic_factory: Callable[[], anthropic.Anthropic | None] | None = None
    _clients: dict[int, ServiceTitanClient] = field(default_factory=dict, repr=False)
    _locks: dict[int, threading.Lock] = field(default_factory=dict, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_settings(cls, settings: Settings, engine: sa.Engine | None = None) -> ToolContext:
        """A context on the configured warehouse and ServiceTitan account."""
        from perfect_catch.warehouse.engine import get_engine

        return cls(
            engine=engine or get_engine(settings),
            settings=settings,
            st_client_factory=_default_factory(settings),
        )

    def tenant(self, tenant_id: int | None = None) -> int:
        """The tenant a call is about: the one asked for, or the only/first configured one."""
        configured = list(self.settings.st_tenant_ids)
        if tenant_id is None:
            if not configured:
                raise ToolUnavailable("no ServiceTitan tenant is configured (set ST_TENANT_IDS)")
            return configured[0]
        if configured and tenant_id not in configured:
            raise ToolInputError(
                f"tenant {tenant_id} is not configured; configured tenants: "
                + ", ".join(str(t) for t in configured)
            )
        return tenant_id

    @contextmanager
    def servicetitan(self, tenant_id: int) -> Iterator[ServiceTitanClient]:
        """Exclusive use of the tenant's ServiceTitan client for the duration of the block."""
        if not self.settings.st_client_id:
            raise ToolUnavailable(
                "ServiceTitan is not configured (set ST_CLIENT_ID, ST_CLIENT_SECRET, ST_APP_KEY)"
            )
        with self._guard:
            lock = self._locks.setdefault(tenant_id, threading.Lock())
        with lock:
            client = self._clients.get(tenant_id)
            if client is None:
                client = self.st_client_factory(tenant_id)
                self._clients[tenant_id] = client
            yield client

    def anthropic_client(self) -> anthropic.Anthropic | None:
        """A Claude client when ANTHROPIC_API_KEY is set, else None (callers fall back)."""
        if self.anthropic_factory is not None:
            return self.anthropic_factory()
        key = self.settings.anthropic_api_key.get_secret_value()
        if not key:
            return None
        import anthropic

        return anthropic.Anthropic(
            api_key=key, base_url=self.settings.anthropic_base_url, max_retries=2, timeout=60.0
        )

    def close(self) -> None:
        with self._guard:
            clients, self._clients = self._clients, {}
        for client in clients.values():
            client.close()

    def __enter__(self) -> ToolContext:
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()
