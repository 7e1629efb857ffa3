"""Write tools that a retried call cannot repeat: what a tool wrote to ServiceTitan is kept in
`automation.tool_writes` under an idempotency key (the caller's, else one derived from the
request itself), and the same key with the same request answers with what was written the
first time instead of writing again. The same key with another request is refused: it would
otherwise silently drop the second request."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
import sqlalchemy as sa

from perfect_catch.tools.errors import ToolInputError


def request_hash(tool: str, tenant_id: int, request: Any) -> str:
    """A stable digest of a tool's request (keys sorted)."""
    data = orjson.dumps(
        {"tool": tool, "tenant": tenant_id, "request": request},
        option=orjson.OPT_SORT_KEYS,
        default=str,
    )
    return hashlib.sha256(data).hexdigest()


def key_for(tool: str, given: str | None, digest: str) -> str:
    """The caller's key, else one per distinct request."""
    return given.strip() if given and given.strip() else f"{tool}:{digest[:32]}"


def replay(conn: sa.Connection, key: str, tool: str, digest: str) -> dict[str, Any] | None:
    """What was written under `key` before (None if nothing); refuses a key reused for
    another request."""
    row = conn.execute(
        sa.text(
            "select tool, request_hash, result from automation.tool_writes"
            " where idempotency_key = :key"
        ),
        {"key": key},
    ).first()
    if row is None:
        return None
    if row.tool != tool or row.request_hash != digest:
        raise ToolInputError(
            f"idempotency_key {key!r} was already used by {row.tool} for another request; "
            "use a new key for a new write"
        )
    return {**row.result, "replayed": True}


def remember(
    engine: sa.Engine, key: str, tool: str, tenant_id: int, digest: str, result: dict[str, Any]
) -> None:
    """Record `result` under `key` (first writer wins)."""
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into automation.tool_writes (idempotency_key, tool, tenant_id,"
                " request_hash, result) values (:key, :tool, :tenant, :digest,"
                " cast(:result as jsonb)) on conflict (idempotency_key) do nothing"
            ),
            {
                "key": key,
                "tool": tool,
                "tenant": tenant_id,
                "digest": digest,
                "result": orjson.dumps(result, default=str).decode(),
            },
        )
