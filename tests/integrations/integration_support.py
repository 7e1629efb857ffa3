"""Helpers of the integration tests: simulators with tailored GHL/CallRail systems, clients, and
`put_st`, which writes ServiceTitan rows straight into the warehouse (the ST sync is tested
elsewhere; these tests need a few precise records)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import sqlalchemy as sa

from perfect_catch.connectors.callrail import CallRailClient
from perfect_catch.connectors.gohighlevel import GoHighLevelClient
from perfect_catch.connectors.http import RetryPolicy
from perfect_catch.simulators.callrail import CallRailSystem
from perfect_catch.simulators.gohighlevel import GoHighLevelSystem
from perfect_catch.simulators.server import SimulatorServer

TENANT = 1_000_001
FAST = RetryPolicy(max_retries=6, base_delay=0.01, max_delay=0.5, max_total_wait=20.0)


def start_server(**ghl_options: Any) -> SimulatorServer:
    systems = {
        "gohighlevel": GoHighLevelSystem(seed=7, size="small", **ghl_options),
        "callrail": CallRailSystem(seed=7, size="small"),
    }
    return SimulatorServer(seed=7, size="small", port=0, systems=systems).start()


def ghl_client(server: SimulatorServer, **options: Any) -> GoHighLevelClient:
    env = server.env
    options.setdefault("policy", FAST)
    return GoHighLevelClient(
        env["GHL_API_URL"], env["GHL_TOKEN"], env["GHL_LOCATION_ID"], **options
    )


def callrail_client(server: SimulatorServer, **options: Any) -> CallRailClient:
    env = server.env
    options.setdefault("policy", FAST)
    return CallRailClient(
        env["CALLRAIL_API_URL"], env["CALLRAIL_API_KEY"], env["CALLRAIL_ACCOUNT_ID"], **options
    )


_COLUMNS = {
    "st_customers": ("name", "street", "city", "state", "zip", "active", "merged_to_id"),
    "st_customer_contacts": ("customer_id", "type", "value", "active"),
    "st_estimates": ("customer_id", "job_id", "name", "status", "subtotal", "active"),
    "st_jobs": (
        "customer_id",
        "job_status",
        "business_unit_id",
        "job_type_id",
        "created_from_estimate_id",
    ),
    "st_appointments": ("job_id", "customer_id", "status"),
    "st_business_units": ("name",),
    "st_job_types": ("name",),
}


def put_st(engine: sa.Engine, table: str, record_id: int, **values: Any) -> None:
    """Insert or replace one ServiceTitan row (tenant TENANT) with the given columns."""
    columns = [c for c in _COLUMNS[table] if c in values]
    now = datetime.now(UTC)
    created = values.get("created_on", now)
    names = ["tenant_id", "id", *columns, "created_on", "raw", "modified_on", "synced_at"]
    params = {
        "tenant_id": TENANT,
        "id": record_id,
        **{c: values[c] for c in columns},
        "created_on": created,
        "raw": orjson.dumps({"id": record_id}).decode(),
        "modified_on": values.get("modified_on", now),
        "synced_at": now,
    }
    placeholders = ", ".join(f":{n}" if n != "raw" else "cast(:raw as jsonb)" for n in names)
    updates = ", ".join(f"{n} = excluded.{n}" for n in names[2:])
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"insert into servicetitan.{table} ({', '.join(names)}) values ({placeholders}) "
                f"on conflict (tenant_id, id) do update set {updates}"
            ),
            params,
        )
