"""Fault injection shared by every simulated system.

A client that survives the simulators should survive production, so every simulated API can be
told to answer with rate limits, server errors, hangs, slow responses or short-lived tokens. One
`FaultInjector` is shared by the host and all sub-apps; each sub-app decides how a fault looks in
its own error format. Decisions come from a seeded `random.Random`, so a run is repeatable.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
from typing import Literal

from pydantic import BaseModel, Field

FaultKind = Literal["429", "5xx", "timeout"]

_ENV_KEYS: dict[str, str] = {
    "rate_429": "SIM_FAULT_429_RATE",
    "rate_5xx": "SIM_FAULT_5XX_RATE",
    "rate_timeout": "SIM_FAULT_TIMEOUT_RATE",
    "latency_ms": "SIM_FAULT_LATENCY_MS",
    "token_ttl_seconds": "SIM_FAULT_TOKEN_TTL_SECONDS",
    "timeout_seconds": "SIM_FAULT_TIMEOUT_SECONDS",
    "supplier_login_refused": "SIM_FAULT_SUPPLIER_LOGIN_REFUSED",
    "supplier_layout": "SIM_FAULT_SUPPLIER_LAYOUT",
    "supplier_bot_check_rps": "SIM_FAULT_SUPPLIER_BOT_CHECK_RPS",
    "supplier_session_ttl_seconds": "SIM_FAULT_SUPPLIER_SESSION_TTL_SECONDS",
}


class FaultConfig(BaseModel):
    """How often and how badly the simulated APIs misbehave. Rates are shares of requests."""

    rate_429: float = Field(0.0, ge=0.0, le=1.0)
    rate_5xx: float = Field(0.0, ge=0.0, le=1.0)
    rate_timeout: float = Field(0.0, ge=0.0, le=1.0)
    latency_ms: int = Field(0, ge=0)
    token_ttl_seconds: float | None = Field(
        None, gt=0, description="Lifetime of issued tokens; None keeps each system's normal TTL."
    )
    timeout_seconds: float = Field(
        30.0, ge=0, description="How long a 'timeout' fault hangs before answering 504."
    )
    supplier_login_refused: bool = Field(
        False, description="Supplier sites refuse every login (a locked or changed account)."
    )
    supplier_layout: Literal["normal", "drifted"] = Field(
        "normal", description="'drifted': supplier pages rename classes and move the price."
    )
    supplier_bot_check_rps: float = Field(
        0.0,
        ge=0,
        description="Requests per second above which a supplier shows a bot check (HTML) or "
        "answers 429 (API); 0 never does.",
    )
    supplier_session_ttl_seconds: float | None = Field(
        None, gt=0, description="Lifetime of supplier login sessions; None keeps 12 hours."
    )

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> FaultConfig:
        """Read the `SIM_FAULT_*` variables; unset ones keep their defaults."""
        env = os.environ if environ is None else environ
        values = {field: env[key] for field, key in _ENV_KEYS.items() if env.get(key, "") != ""}
        return cls.model_validate(values)


class FaultInjector:
    """Holds the current `FaultConfig` and draws, per request, which fault (if any) happens."""

    def __init__(self, config: FaultConfig | None = None, seed: int = 1) -> None:
        self._config = config or FaultConfig()
        self._rng = random.Random(f"faults:{seed}")
        self._lock = threading.Lock()

    @property
    def config(self) -> FaultConfig:
        return self._config

    def set(self, config: FaultConfig) -> None:
        self._config = config

    def update(self, **changes: object) -> FaultConfig:
        """Change some fields, validating the result as a whole."""
        merged = {**self._config.model_dump(), **changes}
        self._config = FaultConfig.model_validate(merged)
        return self._config

    def draw(self) -> FaultKind | None:
        """Decide the fault for one request: one uniform draw split across the three rates."""
        cfg = self._config
        if not (cfg.rate_429 or cfg.rate_5xx or cfg.rate_timeout):
            return None
        with self._lock:
            roll = self._rng.random()
        if roll < cfg.rate_429:
            return "429"
        if roll < cfg.rate_429 + cfg.rate_5xx:
            return "5xx"
        if roll < cfg.rate_429 + cfg.rate_5xx + cfg.rate_timeout:
            return "timeout"
        return None

    async def delay(self) -> None:
        """Apply the configured latency before a response."""
        if self._config.latency_ms:
            await asyncio.sleep(self._config.latency_ms / 1000)

    async def hang(self) -> None:
        """What a 'timeout' fault does before its 504: wait longer than a client would."""
        await asyncio.sleep(self._config.timeout_seconds)

    async def strike(self) -> FaultKind | None:
        """What happens to one API request before it is handled: the configured latency, then
        the fault drawn for it, if any, which the caller answers in its system's error format.
        A 'timeout' has already hung when it is returned."""
        await self.delay()
        kind = self.draw()
        if kind == "timeout":
            await self.hang()
        return kind

    def token_ttl(self, normal_seconds: float) -> float:
        ttl = self._config.token_ttl_seconds
        return normal_seconds if ttl is None else ttl
