"""The outbox tools through the MCP client: status lists `unknown` rows masked; reconcile and
release change nothing without confirm=true, and act with it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

if TYPE_CHECKING:
    from tests.mcp.conftest import World


@pytest.fixture(scope="module")
def oworld(make_world, st_sim) -> Iterator[World]:
    env = st_sim.env
    keys = ("TWILIO_API_URL", "TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER")
    yield make_world(**{key.lower(): env[key] for key in keys})


def _unknown(world: World, key: str, to: str) -> int:
    with world.engine.begin() as conn:
        return conn.execute(
            sa.text(
                "insert into automation.outbox (idempotency_key, tenant_id, channel, to_address,"
                " body, status, attempts, claim_token, claimed_at, due_at, last_error)"
                " values (:key, :tenant, 'sms', :to, :body, 'unknown', 1, :token,"
                " now() - interval '1 hour', now(), 'claimed and never recorded') returning id"
            ),
            {
                "key": key,
                "tenant": world.tenant_id,
                "to": to,
                "body": f"never sent ({key})",
                "token": uuid.uuid4(),
            },
        ).scalar_one()


def _status(world: World, row_id: int) -> str:
    return world.scalar("select status from automation.outbox where id = :i", i=row_id)


def test_outbox_tools_show_and_act_only_when_confirmed(oworld: World) -> None:
    first = _unknown(oworld, "tool-unknown-1", "+16025550401")
    second = _unknown(oworld, "tool-unknown-2", "+16025550402")
    status = oworld.ok("outbox_status")
    listed = {row["id"]: row for row in status["unknown"]}
    assert {first, second} <= set(listed) and status["unknown_count"] >= 2
    assert listed[first]["to"] == "***0401" and listed[first]["age_seconds"] >= 3600

    preview = oworld.ok("reconcile_outbox", {})
    assert "confirm=true" in preview["next_step"] and _status(oworld, first) == "unknown"
    held = oworld.ok("release_outbox_rows", {"outbox_ids": [second]})
    assert "confirm=true" in held["next_step"] and _status(oworld, second) == "unknown"

    released = oworld.ok("release_outbox_rows", {"outbox_ids": [second, 987654], "confirm": True})
    assert released["released"] == [second]
    assert released["outcome"]["987654"] == "no such outbox row"
    assert _status(oworld, second) == "pending"

    settled = oworld.ok("reconcile_outbox", {"confirm": True})
    assert settled["released"] >= 1 and settled["unknown"] == 0
    assert _status(oworld, first) == "pending"
    assert "outbox_ids" in oworld.error("release_outbox_rows", {"outbox_ids": []})
