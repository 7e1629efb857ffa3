"""Sync CallRail calls into `integrations.callrail_calls`, linked to ST customers by phone.

CallRail changes calls after they happen (the recording arrives, someone tags the call or sets
its lead status) and has no "modified since" filter, so each run re-reads a trailing window of
days before the newest call already stored, and writes the calls whose record changed. Each
page commits with the watermark it reached.

Linking compares E.164 forms (`integrations.e164`, `phones.to_e164`) of the caller's number and
of ST customer phone contacts. When several customers share a number the link goes to an active,
unmerged one, lowest id first, so the choice is stable. Calls that matched nobody are tried again
on every run, since the customer may be synced later than the call.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa

from perfect_catch.connectors.callrail import CallRailClient
from perfect_catch.integrations.db import connection
from perfect_catch.integrations.ghl_sync import PullResult, write_rows
from perfect_catch.phones import to_e164
from perfect_catch.warehouse.sync_state import get_state, save_watermark

SOURCE = "callrail"

_UPSERT = """
insert into integrations.callrail_calls as t (
    account_id, id, company_id, direction, answered, customer_name, customer_phone_number,
    customer_phone_e164, tracking_phone_number, business_phone_number, start_time, duration,
    recording, lead_status, tags, raw, synced_at
) values (
    %(account_id)s, %(id)s, %(company_id)s, %(direction)s, %(answered)s, %(customer_name)s,
    %(customer_phone_number)s, %(customer_phone_e164)s, %(tracking_phone_number)s,
    %(business_phone_number)s, %(start_time)s, %(duration)s, %(recording)s, %(lead_status)s,
    %(tags)s::jsonb, %(raw)s::jsonb, now()
)
on conflict (account_id, id) do update set
    company_id = excluded.company_id, direction = excluded.direction,
    answered = excluded.answered, customer_name = excluded.customer_name,
    customer_phone_number = excluded.customer_phone_number,
    customer_phone_e164 = excluded.customer_phone_e164,
    st_customer_id = case when t.customer_phone_e164 is distinct from excluded.customer_phone_e164
        then null else t.st_customer_id end,
    st_tenant_id = case when t.customer_phone_e164 is distinct from excluded.customer_phone_e164
        then null else t.st_tenant_id end,
    tracking_phone_number = excluded.tracking_phone_number,
    business_phone_number = excluded.business_phone_number, start_time = excluded.start_time,
    duration = excluded.duration, recording = excluded.recording,
    lead_status = excluded.lead_status, tags = excluded.tags, raw = excluded.raw, synced_at = now()
where t.raw is distinct from excluded.raw
"""

# Link calls (unlinked ones, and those written by this run) to the customer owning the number.
_LINK = """
with wanted as (
    select id, customer_phone_e164 as phone from integrations.callrail_calls
    where account_id = %(account_id)s and customer_phone_e164 is not null
      and (st_customer_id is null or synced_at >= %(run_started)s)
),
owners as (
    select distinct on (integrations.e164(cc.value))
        integrations.e164(cc.value) as phone, cc.tenant_id, cc.customer_id
    from servicetitan.st_customer_contacts cc
    join servicetitan.st_customers cu on cu.tenant_id = cc.tenant_id and cu.id = cc.customer_id
    where cc.deleted_at is null and cu.deleted_at is null
      and cc.type in ('Phone', 'MobilePhone')
      and (cardinality(%(tenant_ids)s::bigint[]) = 0
           or cc.tenant_id = any(%(tenant_ids)s::bigint[]))
      and integrations.e164(cc.value) in (select phone from wanted)
    order by integrations.e164(cc.value), (cu.merged_to_id is null) desc,
        coalesce(cu.active, true) desc, cc.customer_id
)
update integrations.callrail_calls c
set st_tenant_id = o.tenant_id, st_customer_id = o.customer_id
from wanted w join owners o on o.phone = w.phone
where c.account_id = %(account_id)s and c.id = w.id
  and c.st_customer_id is distinct from o.customer_id
"""


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _safe_start(call: Any) -> datetime | None:
    try:
        return parse_time(call.get("start_time"))
    except (ValueError, TypeError, AttributeError):
        return None


def _row(account_id: str, call: dict[str, Any]) -> dict[str, Any]:
    duration = call.get("duration")
    return {
        "account_id": account_id,
        "id": str(call["id"]),
        "company_id": call.get("company_id"),
        "direction": call.get("direction"),
        "answered": call.get("answered"),
        "customer_name": call.get("customer_name"),
        "customer_phone_number": call.get("customer_phone_number"),
        "customer_phone_e164": to_e164(call.get("customer_phone_number")),
        "tracking_phone_number": call.get("tracking_phone_number"),
        "business_phone_number": call.get("business_phone_number"),
        "start_time": parse_time(call.get("start_time")),
        "duration": int(duration) if str(duration or "").isdigit() else None,
        "recording": call.get("recording"),
        "lead_status": call.get("lead_status"),
        "tags": orjson.dumps(call.get("tags") or []).decode(),
        "raw": orjson.dumps(call).decode(),
    }


def link_calls(
    conn: psycopg.Connection, account_id: str, run_started: datetime, tenant_ids: Sequence[int] = ()
) -> int:
    """Link unlinked calls (and those written since `run_started`) to ST customers."""
    cur = conn.execute(
        _LINK,
        {"account_id": account_id, "run_started": run_started, "tenant_ids": list(tenant_ids)},
    )
    return cur.rowcount


def sync_callrail_calls(
    engine: sa.Engine,
    client: CallRailClient,
    *,
    trailing_days: int = 3,
    initial_days: int = 365,
    full: bool = False,
    tenant_ids: Sequence[int] = (),
    now: datetime | None = None,
    on_page: Callable[[PullResult], None] | None = None,
) -> PullResult:
    """Calls since (newest stored call - `trailing_days`), or `initial_days` back on a first or
    `full` run; then link calls to ST customers of `tenant_ids` (all tenants when empty)."""
    account = client.account_id
    result = PullResult("calls", account)
    now = now or datetime.now(UTC)
    with connection(engine) as conn:
        row = conn.execute("select now()").fetchone()
        assert row is not None
        run_started = row[0]
        state = get_state(conn, SOURCE, account, "calls")
        if state.watermark is None or full:
            start = now - timedelta(days=initial_days)
        else:
            start = min(state.watermark, now) - timedelta(days=trailing_days)
        result.extra["window_start"] = start.isoformat()
        newest = state.watermark
        for calls in client.calls(start_date=start.date()):
            stamps = [t for t in (_safe_start(c) for c in calls) if t]
            page_newest = max(stamps, default=None)
            with conn.transaction():
                result.written += write_rows(
                    conn, _UPSERT, lambda c: _row(account, c), calls, (SOURCE, account, "calls")
                )
                if page_newest is not None and (newest is None or page_newest > newest):
                    newest = page_newest
                    save_watermark(conn, SOURCE, account, "calls", newest)
            result.records += len(calls)
            result.pages += 1
            if on_page:
                on_page(result)
        with conn.transaction():
            result.extra["linked"] = link_calls(conn, account, run_started, tenant_ids)
        result.watermark = newest
    return result
