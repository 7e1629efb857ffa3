"""What an operator sees of the outbox and the one manual act on it.

`status` answers "is anything stuck?": counts by status and channel, the oldest message still
waiting, and every `unknown` row with its age and why. `release` puts chosen `unknown` rows
back to `pending` after a human checked they never reached the customer (the only manual way
out of `unknown`; `reconcile.reconcile` releases rows the provider itself says it never got).
Recipients are shown masked (last 4 characters): this output goes to terminals and to Claude.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

#: Most `unknown` rows listed by `status` (the count is always complete).
UNKNOWN_LISTED = 100


def masked(address: str | None) -> str:
    """A recipient with all but its last 4 characters hidden."""
    text = address or ""
    return f"***{text[-4:]}" if len(text) > 4 else "***"


def status(engine: sa.Engine, *, now: datetime) -> dict[str, Any]:
    """Counts by status and channel, the oldest pending message, and the `unknown` rows."""
    with engine.connect() as conn:
        counts = conn.execute(
            sa.text(
                "select status, channel, count(*) as n from automation.outbox"
                " group by status, channel order by status, channel"
            )
        ).all()
        oldest = (
            conn.execute(
                sa.text(
                    "select id, channel, created_at, due_at, deferred_reason, recipient_timezone"
                    " from automation.outbox where status = 'pending'"
                    " order by created_at, id limit 1"
                )
            )
            .mappings()
            .first()
        )
        unknown = (
            conn.execute(
                sa.text(
                    "select id, idempotency_key, channel, to_address, attempts, claimed_at,"
                    " updated_at, last_error from automation.outbox where status = 'unknown'"
                    " order by updated_at, id limit :limit"
                ),
                {"limit": UNKNOWN_LISTED},
            )
            .mappings()
            .all()
        )
    by_status: dict[str, dict[str, int]] = {}
    for row in counts:
        by_status.setdefault(row.status, {})[row.channel] = int(row.n)
    oldest_pending = None
    if oldest is not None:
        oldest_pending = {
            **dict(oldest),
            "age_seconds": int((now - oldest["created_at"]).total_seconds()),
        }
    return {
        "counts": by_status,
        "total": sum(sum(c.values()) for c in by_status.values()),
        "oldest_pending": oldest_pending,
        "unknown_count": sum(by_status.get("unknown", {}).values()),
        "unknown": [
            {
                "id": row["id"],
                "idempotency_key": row["idempotency_key"],
                "channel": row["channel"],
                "to": masked(row["to_address"]),
                "attempts": row["attempts"],
                "claimed_at": row["claimed_at"],
                "age_seconds": int(
                    (now - (row["claimed_at"] or row["updated_at"])).total_seconds()
                ),
                "why": row["last_error"],
            }
            for row in unknown
        ],
    }


def unknown_count(engine: sa.Engine) -> int:
    """How many rows are `unknown` (a healthy outbox has none)."""
    with engine.connect() as conn:
        return int(
            conn.execute(
                sa.text("select count(*) from automation.outbox where status = 'unknown'")
            ).scalar_one()
        )


def release(engine: sa.Engine, ids: list[int]) -> dict[int, str]:
    """Put the `unknown` rows `ids` back to `pending`; per id: 'released', or why not."""
    outcome: dict[int, str] = {}
    with engine.begin() as conn:
        found = dict(
            conn.execute(
                sa.text("select id, status from automation.outbox where id = any(:ids)"),
                {"ids": ids},
            ).all()
        )
        released = set(
            conn.execute(
                sa.text(
                    "update automation.outbox set status = 'pending', due_at = now(),"
                    " claim_token = null, claimed_at = null, updated_at = now(),"
                    " last_error = 'released by operator: ' || coalesce(last_error, '')"
                    " where id = any(:ids) and status = 'unknown' returning id"
                ),
                {"ids": ids},
            ).scalars()
        )
    for outbox_id in ids:
        if outbox_id in released:
            outcome[outbox_id] = "released"
        elif outbox_id not in found:
            outcome[outbox_id] = "no such outbox row"
        else:
            outcome[outbox_id] = f"not released: status is {found[outbox_id]}, not unknown"
    return outcome
