"""Workflow progress: the one stored cursor over `events.workflow_events`.

Every path that starts workflows from events — the `workflow_events` sensor, the event lane's
`workflows/started` asset and the run-once pass — calls `match_new_events`, so they walk the
same position (`event_seq` in `public.sync_state`): an event matched by one is not walked again
by another, and none is skipped. The cursor row is locked for the batch and moved in the same
transaction that records the batch's instances, so two paths at once take turns instead of
matching the same events, and a crash leaves both the instances and the cursor as they were.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from perfect_catch.settings import Settings
from perfect_catch.workflows.matching import MatchResult, match_batch

CURSOR_KEY = {"source": "workflows", "tenant_id": "all", "entity": "workflow_events"}


def read_cursor(engine: sa.Engine) -> int:
    """The `event_seq` of the last event matched (0 before the first)."""
    with engine.connect() as conn:
        token = conn.execute(
            sa.text(
                "select continuation_token from public.sync_state where source = :source"
                " and tenant_id = :tenant_id and entity = :entity"
            ),
            CURSOR_KEY,
        ).scalar()
    return int(token) if token else 0


def _lock_cursor(conn: sa.Connection) -> int:
    """The stored cursor, its row locked until the caller's transaction ends."""
    conn.execute(
        sa.text(
            "insert into public.sync_state (source, tenant_id, entity, continuation_token,"
            " updated_at) values (:source, :tenant_id, :entity, '0', now())"
            " on conflict (source, tenant_id, entity) do nothing"
        ),
        CURSOR_KEY,
    )
    token = conn.execute(
        sa.text(
            "select continuation_token from public.sync_state where source = :source"
            " and tenant_id = :tenant_id and entity = :entity for update"
        ),
        CURSOR_KEY,
    ).scalar()
    return int(token) if token else 0


def _save_cursor(conn: sa.Connection, cursor: int) -> None:
    conn.execute(
        sa.text(
            "update public.sync_state set continuation_token = :token, updated_at = now()"
            " where source = :source and tenant_id = :tenant_id and entity = :entity"
        ),
        {**CURSOR_KEY, "token": str(cursor)},
    )


def match_new_events(
    engine: sa.Engine,
    settings: Settings,
    *,
    now: datetime | None = None,
    batches: int | None = None,
) -> MatchResult:
    """Match the events after the stored cursor and move it past them.

    Walks batch by batch (`WORKFLOW_EVENT_BATCH` events each) until no event is left, or after
    `batches` batches (a sensor tick takes one). `instances` holds each id once, in match order.
    """
    total: MatchResult | None = None
    taken = 0
    while batches is None or taken < batches:
        with engine.begin() as conn:
            cursor = _lock_cursor(conn)
            matched = match_batch(conn, settings, after_seq=cursor, now=now)
            if matched.cursor != cursor:
                _save_cursor(conn, matched.cursor)
        taken += 1
        if total is None:
            total = matched
        else:
            total.cursor = matched.cursor
            total.events += matched.events
            total.created += matched.created
            total.skipped_backfill += matched.skipped_backfill
            total.instances += [i for i in matched.instances if i not in total.instances]
        if not matched.events:
            break
    return total if total is not None else MatchResult(cursor=read_cursor(engine))
