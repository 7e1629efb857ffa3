"""One consent model, checked by the dispatcher right before every send.

A message is suppressed when any of these says no:

- `automation.messaging_opt_outs` for (channel, address): STOP-family keywords texted to the
  sender (START/UNSTOP/YES undo them), Twilio error 21610 on a send, SendGrid unsubscribes,
  group unsubscribes, bounces, drops and spam reports;
- ServiceTitan's flags, read live from the synced tables so a change in ST takes effect at the
  next sync: the customer's `doNotService` / `doNotMail` (all channels) and, for SMS, a contact
  of that number whose `phoneSettings.doNotText` is true.

Steps never check consent themselves: a check at enqueue time would be stale by send time.
"""

from __future__ import annotations

from typing import Any

import orjson
import sqlalchemy as sa

#: Twilio's default opt-out and opt-in keywords (case-insensitive, the whole message).
STOP_KEYWORDS = frozenset({"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"})
START_KEYWORDS = frozenset({"START", "UNSTOP", "YES"})


def keyword_action(body: str | None) -> str | None:
    """'stop', 'start' or None for an inbound SMS body."""
    word = (body or "").strip().strip(".!").upper()
    if word in STOP_KEYWORDS:
        return "stop"
    if word in START_KEYWORDS:
        return "start"
    return None


def record_consent(
    conn: sa.Connection,
    *,
    channel: str,
    address: str,
    opted_out: bool,
    source: str,
    reason: str | None = None,
    tenant_id: int | None = None,
    customer_id: int | None = None,
    raw: dict[str, Any] | None = None,
) -> None:
    """Set the consent state of (channel, address): the latest word wins."""
    conn.execute(
        sa.text(
            "insert into automation.messaging_opt_outs (channel, address, opted_out, source,"
            " reason, tenant_id, customer_id, changed_at, raw) values (:channel, :address,"
            " :out, :source, :reason, :tenant, :customer, now(), cast(:raw as jsonb))"
            " on conflict (channel, address) do update set opted_out = excluded.opted_out,"
            " source = excluded.source, reason = excluded.reason,"
            " tenant_id = coalesce(excluded.tenant_id, automation.messaging_opt_outs.tenant_id),"
            " customer_id = coalesce(excluded.customer_id,"
            " automation.messaging_opt_outs.customer_id), changed_at = now(), raw = excluded.raw"
        ),
        {
            "channel": channel,
            "address": address.lower() if channel == "email" else address,
            "out": opted_out,
            "source": source,
            "reason": reason,
            "tenant": tenant_id,
            "customer": customer_id,
            "raw": None if raw is None else orjson.dumps(raw, default=str).decode(),
        },
    )


_REASONS = """
select o.id, coalesce(
    (select format('%s opt-out of %s (%s)', x.channel, x.address,
                   x.source || coalesce(': ' || x.reason, ''))
       from automation.messaging_opt_outs x
      where x.channel = o.channel and x.address = o.to_address and x.opted_out),
    (select case when c.do_not_service
                 then format('ServiceTitan customer %s is marked doNotService', c.id)
                 when c.do_not_mail
                 then format('ServiceTitan customer %s is marked doNotMail', c.id) end
       from servicetitan.st_customers c
      where c.tenant_id = o.tenant_id and c.id = o.customer_id),
    case when o.channel <> 'sms' then null
         when o.customer_id is not null then
        (select format('ServiceTitan contact %s of %s is marked doNotText', k.id, o.to_address)
           from servicetitan.st_customer_contacts k
          where k.tenant_id = o.tenant_id and k.customer_id = o.customer_id
            and k.deleted_at is null and integrations.e164(k.value) = o.to_address
            and (k.raw -> 'phoneSettings' ->> 'doNotText') = 'true' limit 1)
         else
        (select format('ServiceTitan contact %s of %s is marked doNotText', k.id, o.to_address)
           from servicetitan.st_customer_contacts k
          where k.tenant_id = o.tenant_id and k.deleted_at is null
            and integrations.e164(k.value) = o.to_address
            and (k.raw -> 'phoneSettings' ->> 'doNotText') = 'true' limit 1)
    end) as reason
from {source}
"""
_OUTBOX_ROWS = "automation.outbox o where o.id = any(cast(:ids as bigint[]))"
_ONE_RECIPIENT = (
    "(select 0 as id, cast(:tenant as bigint) as tenant_id, cast(:customer as bigint)"
    " as customer_id, cast(:channel as text) as channel, cast(:address as text) as to_address) o"
)


def suppression_reason(
    conn: sa.Connection,
    *,
    tenant_id: int,
    customer_id: int | None,
    channel: str,
    address: str,
) -> str | None:
    """Why a message to `address` must not be sent now, or None when it may be.

    The same rules as the dispatcher's batch check, for callers that want to know early (a
    workflow condition); the dispatcher still checks again right before sending.
    """
    row = conn.execute(
        sa.text(_REASONS.format(source=_ONE_RECIPIENT)),
        {
            "tenant": tenant_id,
            "customer": customer_id,
            "channel": channel,
            "address": address.lower() if channel == "email" else address,
        },
    ).first()
    return None if row is None else row.reason


def suppression_reasons(conn: sa.Connection, outbox_ids: list[int]) -> dict[int, str]:
    """Why each of these outbox rows must not be sent now: id -> reason, only for rows that
    must not (one query for a whole claimed batch)."""
    if not outbox_ids:
        return {}
    rows = conn.execute(sa.text(_REASONS.format(source=_OUTBOX_ROWS)), {"ids": outbox_ids}).all()
    return {row.id: row.reason for row in rows if row.reason}
