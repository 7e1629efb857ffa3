"""Claiming due outbox rows: consent, quiet hours and caps decide, then `sending` is committed.

Due `pending` rows are taken with `SELECT ... FOR UPDATE SKIP LOCKED` (so concurrent dispatchers
never take the same row). For each, in one transaction: consent (opted out -> `suppressed`),
quiet hours and frequency caps (-> stays `pending` with a later `due_at`), else `sending` with a
fresh `claim_token`, `claimed_at` and `attempts + 1`. The transaction COMMITS before any provider
is called.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from perfect_catch.messaging import caps, consent, quiet_hours
from perfect_catch.messaging.dispatch_result import DispatchResult
from perfect_catch.messaging.providers import Message
from perfect_catch.settings import MessagingSettings, Settings


@dataclass(frozen=True)
class Claim:
    """A row this pass holds in `sending`."""

    id: int
    token: uuid.UUID
    key: str
    channel: str
    to: str
    body: str
    subject: str | None
    html: str | None
    attempt: int

    def message(self) -> Message:
        return Message(self.key, self.channel, self.to, self.body, self.subject, self.html)


SELECT_ROWS = (
    "select id, idempotency_key, tenant_id, customer_id, channel, to_address, subject, body,"
    " html, attempts, metadata, claim_token, claimed_at, recipient_timezone"
    " from automation.outbox"
)
AMONG_KEYS = (
    " and (cast(:keys as text[]) is null or idempotency_key = any(cast(:keys as text[])))"
    " and (cast(:channels as text[]) is null or channel = any(cast(:channels as text[])))"
)


def claim_of(row: sa.RowMapping, token: uuid.UUID, attempt: int) -> Claim:
    return Claim(
        id=row["id"],
        token=token,
        key=row["idempotency_key"],
        channel=row["channel"],
        to=row["to_address"],
        body=row["body"],
        subject=row["subject"],
        html=row["html"],
        attempt=attempt,
    )


def claim_due(
    engine: sa.Engine,
    settings: Settings,
    messaging: MessagingSettings,
    *,
    now: datetime,
    limit: int,
    result: DispatchResult,
    only_keys: list[str] | None = None,
    channels: list[str] | None = None,
) -> list[Claim]:
    """Take due rows: suppress, defer or mark them `sending`; commits before returning.

    Consent is checked for the whole batch in one query. With caps on, each claim is written
    at once so the next row's cap count sees it; without caps the claims are written together.
    """
    claims: list[Claim] = []
    suppressed: list[tuple[int, str]] = []
    deferred: list[tuple[int, datetime, str]] = []
    capped_on = messaging.messaging_cap_per_day > 0 or messaging.messaging_cap_per_week > 0
    with engine.begin() as conn:
        rows = (
            conn.execute(
                sa.text(
                    f"{SELECT_ROWS} where status = 'pending' and due_at <= :now{AMONG_KEYS}"
                    " order by due_at, id limit :limit for update skip locked"
                ),
                {"now": now, "limit": limit, "keys": only_keys, "channels": channels},
            )
            .mappings()
            .all()
        )
        reasons = consent.suppression_reasons(conn, [row["id"] for row in rows])
        ordered = sorted(
            rows,
            key=lambda r: (
                caps.cap_key(r["tenant_id"], r["customer_id"], r["channel"], r["to_address"]),
                r["id"],
            ),
        )
        locked: set[str] = set()
        for row in ordered:
            reason = reasons.get(row["id"])
            if reason is not None:
                suppressed.append((row["id"], reason))
                continue
            tz = quiet_hours.customer_timezone(
                settings, messaging, row["tenant_id"], row["metadata"], row["recipient_timezone"]
            )
            wait = _quiet_deferral(messaging, row, tz, now)
            if wait is None and capped_on:
                wait = _cap_deferral(conn, messaging, row, tz, now, locked)
            if wait is not None:
                deferred.append((row["id"], *wait))
                continue
            claim = claim_of(row, uuid.uuid4(), row["attempts"] + 1)
            claims.append(claim)
            if capped_on:
                _write_claims(conn, [claim], now)
        if not capped_on:
            _write_claims(conn, claims, now)
        _write_outcomes(conn, suppressed, deferred)
    result.add("suppressed", len(suppressed))
    result.add("deferred", len(deferred))
    result.add("claimed", len(claims))
    return claims


def _quiet_deferral(
    messaging: MessagingSettings, row: sa.RowMapping, tz: ZoneInfo, now: datetime
) -> tuple[datetime, str] | None:
    if row["channel"] not in messaging.messaging_quiet_hours_channels:
        return None
    resume = quiet_hours.next_allowed_time(
        now, tz, messaging.messaging_quiet_hours_start, messaging.messaging_quiet_hours_end
    )
    if resume is None:
        return None
    return resume, f"quiet hours in {tz.key} until {resume.isoformat()}"


def _cap_deferral(
    conn: sa.Connection,
    messaging: MessagingSettings,
    row: sa.RowMapping,
    tz: ZoneInfo,
    now: datetime,
    locked: set[str],
) -> tuple[datetime, str] | None:
    key = caps.cap_key(row["tenant_id"], row["customer_id"], row["channel"], row["to_address"])
    if key not in locked:
        caps.lock_cap(conn, key)
        locked.add(key)
    capped = caps.cap_deferral(
        conn,
        messaging,
        tenant_id=row["tenant_id"],
        customer_id=row["customer_id"],
        channel=row["channel"],
        address=row["to_address"],
        now=now,
        tz=tz,
    )
    if capped is None:
        return None
    until, why = capped
    return max(until, now + timedelta(seconds=1)), why


def _write_claims(conn: sa.Connection, claims: list[Claim], now: datetime) -> None:
    if not claims:
        return
    conn.execute(
        sa.text(
            "update automation.outbox o set status = 'sending', claim_token = v.token,"
            " claimed_at = :now, attempts = v.attempt, deferred_reason = null,"
            " updated_at = now() from unnest(cast(:ids as bigint[]), cast(:tokens as uuid[]),"
            " cast(:attempts as integer[])) as v(id, token, attempt) where o.id = v.id"
        ),
        {
            "now": now,
            "ids": [c.id for c in claims],
            "tokens": [c.token for c in claims],
            "attempts": [c.attempt for c in claims],
        },
    )


def _write_outcomes(
    conn: sa.Connection,
    suppressed: list[tuple[int, str]],
    deferred: list[tuple[int, datetime, str]],
) -> None:
    if suppressed:
        conn.execute(
            sa.text(
                "update automation.outbox o set status = 'suppressed', last_error = v.why,"
                " updated_at = now() from unnest(cast(:ids as bigint[]), cast(:whys as text[]))"
                " as v(id, why) where o.id = v.id"
            ),
            {"ids": [s[0] for s in suppressed], "whys": [s[1] for s in suppressed]},
        )
    if deferred:
        conn.execute(
            sa.text(
                "update automation.outbox o set due_at = v.until, deferred_reason = v.why,"
                " updated_at = now() from unnest(cast(:ids as bigint[]),"
                " cast(:untils as timestamptz[]), cast(:whys as text[])) as v(id, until, why)"
                " where o.id = v.id"
            ),
            {
                "ids": [d[0] for d in deferred],
                "untils": [d[1] for d in deferred],
                "whys": [d[2] for d in deferred],
            },
        )
