"""The simulator host: one ASGI app that mounts every simulated external system.

Each system lives under its own path prefix, so a single port serves them all and every client
is pointed at it only through its base URL. The host adds `/_admin/faults` to read or change the
shared fault injection at runtime, and `/_admin/env` to list what clients need.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import date
from typing import Any

from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route

from perfect_catch.simulators.anthropic import AnthropicSystem
from perfect_catch.simulators.callrail import CallRailSystem
from perfect_catch.simulators.ced import CedSystem
from perfect_catch.simulators.faults import FaultConfig, FaultInjector
from perfect_catch.simulators.gohighlevel import GoHighLevelSystem
from perfect_catch.simulators.homedepot import HomeDepotSystem
from perfect_catch.simulators.pool360 import Pool360System
from perfect_catch.simulators.sendgrid import SendGridSystem
from perfect_catch.simulators.servicetitan import ServiceTitanSystem
from perfect_catch.simulators.slack import SlackSystem
from perfect_catch.simulators.system import SimulatedSystem
from perfect_catch.simulators.timeline import resolve_anchor
from perfect_catch.simulators.twilio import TwilioSystem

SIZES = ("small", "medium", "large")

SystemFactory = Callable[[int, str, FaultInjector, date], SimulatedSystem]


def _servicetitan(seed: int, size: str, faults: FaultInjector, anchor: date) -> SimulatedSystem:
    """ServiceTitan, with tenants and export page size optionally set from the environment."""
    tenants = os.environ.get("SIM_ST_TENANT_IDS", "")
    kwargs: dict[str, Any] = {}
    if tenants.strip():
        kwargs["tenant_ids"] = [int(t) for t in tenants.split(",") if t.strip()]
    if os.environ.get("SIM_ST_EXPORT_PAGE_SIZE", "").strip():
        kwargs["export_page_size"] = int(os.environ["SIM_ST_EXPORT_PAGE_SIZE"])
    return ServiceTitanSystem(seed=seed, size=size, faults=faults, anchor=anchor, **kwargs)


SYSTEM_FACTORIES: dict[str, SystemFactory] = {
    "servicetitan": _servicetitan,
    "gohighlevel": lambda seed, size, faults, anchor: GoHighLevelSystem(
        seed, size, faults, anchor=anchor
    ),
    "callrail": lambda seed, size, faults, anchor: CallRailSystem(
        seed, size, faults, anchor=anchor
    ),
    "twilio": lambda seed, size, faults, anchor: TwilioSystem(seed, size, faults),
    "sendgrid": lambda seed, size, faults, anchor: SendGridSystem(seed, size, faults),
    "anthropic": lambda seed, size, faults, anchor: AnthropicSystem(seed, size, faults),
    "pool360": lambda seed, size, faults, anchor: Pool360System(seed, size, faults, anchor),
    "ced": lambda seed, size, faults, anchor: CedSystem(seed, size, faults, anchor),
    "homedepot": lambda seed, size, faults, anchor: HomeDepotSystem(seed, size, faults, anchor),
    "slack": lambda seed, size, faults, anchor: SlackSystem(seed, size, faults),
}


def _faults_endpoints(injector: FaultInjector) -> list[Route]:
    async def get_faults(request: Request) -> JSONResponse:
        return JSONResponse(injector.config.model_dump())

    async def put_faults(request: Request) -> JSONResponse:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            config = injector.update(**body)
        except (ValueError, ValidationError) as exc:
            return JSONResponse({"error": "invalid fault configuration", "detail": str(exc)}, 400)
        return JSONResponse(config.model_dump())

    return [
        Route("/_admin/faults", get_faults, methods=["GET"]),
        Route("/_admin/faults", put_faults, methods=["PUT", "PATCH"]),
    ]


def _advance_endpoint(systems: dict[str, SimulatedSystem]) -> Route:
    """`POST /_admin/advance {"days": N}`: the whole simulated world moves N days on — every
    system with an `advance_days` (ServiceTitan's activity, the suppliers' prices)."""

    async def advance(request: Request) -> JSONResponse:
        raw = await request.body()
        try:
            body = json.loads(raw) if raw else {}
            days = int(body.get("days", 1)) if isinstance(body, dict) else None
        except (ValueError, TypeError):
            days = None
        if days is None or days < 0:
            return JSONResponse({"error": 'body must be {"days": N} with N >= 0'}, 400)
        moved = {
            name: step(days)
            for name, system in systems.items()
            if (step := getattr(system, "advance_days", None)) is not None
        }
        return JSONResponse({"days": days, "systems": moved})

    return Route("/_admin/advance", advance, methods=["POST"])


def build_app(
    seed: int = 1,
    size: str = "small",
    faults: FaultConfig | None = None,
    systems: dict[str, SimulatedSystem] | None = None,
    anchor: date | str | None = None,
) -> Starlette:
    """Build the host app. `app.state.systems[name].state` is each system's in-process state.

    `systems` lets a caller pass pre-built systems (e.g. with small export pages for tests);
    the rest are made from `SYSTEM_FACTORIES`. `anchor` dates the simulated world (see
    `perfect_catch.simulators.timeline`; default `SIM_ANCHOR_DATE`, else today).
    """
    if size not in SIZES:
        raise ValueError(f"size must be one of {', '.join(SIZES)}, not {size!r}")
    anchor = resolve_anchor(anchor)
    injector = FaultInjector(faults if faults is not None else FaultConfig.from_env(), seed=seed)
    built: dict[str, SimulatedSystem] = {}
    for name, factory in SYSTEM_FACTORIES.items():
        given = (systems or {}).get(name)
        built[name] = given if given is not None else factory(seed, size, injector, anchor)
    for system in built.values():
        attach = getattr(system, "attach_faults", None)
        if attach is not None:
            attach(injector)

    async def env(request: Request) -> JSONResponse:
        return JSONResponse(system_env(built, str(request.base_url).rstrip("/")))

    routes: list[Any] = [
        *_faults_endpoints(injector),
        Route("/_admin/env", env),
        _advance_endpoint(built),
    ]
    routes += [Mount(system.prefix, app=system.app) for system in built.values()]
    app = Starlette(routes=routes)
    app.state.systems = built
    app.state.faults = injector
    app.state.seed = seed
    app.state.size = size
    app.state.anchor = anchor
    return app


def system_env(systems: dict[str, SimulatedSystem], base_url: str) -> dict[str, str]:
    """All `KEY=value` pairs clients need, for every mounted system."""
    env: dict[str, str] = {"SIMULATOR_URL": base_url}
    for system in systems.values():
        env.update(system.env(base_url))
    return env
