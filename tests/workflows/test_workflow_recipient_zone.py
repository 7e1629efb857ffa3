"""A workflow's `timezone` decides the recipient's zone over the service location's, and the
text's rendered times, the stored zone and the quiet-hours hold all use that one zone."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import pytest
import sqlalchemy as sa
from workflow_support import CUSTOMER, TENANT, make_flow

from perfect_catch.messaging.claims import claim_due
from perfect_catch.messaging.dispatch_result import DispatchResult

PHX = ZoneInfo("America/Phoenix")
#: 06:30 in Phoenix (quiet hours), 09:30 in New York.
AT = datetime(2030, 6, 4, 13, 30, tzinfo=UTC)

WORKFLOW = """
name: {name}
description: Reminds the customer of a visit, naming its time.
{zone}
trigger: {{event: invoice_overdue}}
steps:
  - key: sms
    type: send_sms
    body: "We come at {{{{ invoice.visit | local('%H:%M') }}}} ({{{{ timezone }}}})."
"""


@pytest.mark.parametrize(
    ("zone", "expected", "source", "rendered", "held"),
    [
        ("timezone: America/Phoenix", "America/Phoenix", "workflow", "13:00", True),
        ("", "America/New_York", "location coordinates", "16:00", False),
    ],
)
def test_workflow_timezone_overrides_the_locations(
    events_engine: sa.Engine,
    tmp_path: Path,
    zone: str,
    expected: str,
    source: str,
    rendered: str,
    held: bool,
) -> None:
    (tmp_path / "visit.yaml").write_text(WORKFLOW.format(name="visit_note", zone=zone))
    flow = make_flow(events_engine, tmp_path)
    try:
        flow.add_customer()
        flow.add_invoice(31, 120.0)
        raw = {"id": 7001, "address": {"state": "NY", "latitude": 40.7306, "longitude": -73.9866}}
        with events_engine.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into servicetitan.st_locations (tenant_id, id, customer_id, active,"
                    " raw, modified_on, synced_at) values (:t, 7001, :c, true,"
                    " cast(:raw as jsonb), now(), now())"
                ),
                {"t": TENANT, "c": CUSTOMER, "raw": orjson.dumps(raw).decode()},
            )
        flow.add_event(
            "invoice_overdue",
            occurred_at=AT,
            invoice_id=31,
            payload={"invoice": {"id": 31, "visit": "2030-06-04T20:00:00Z"}},
        )
        flow.match(AT)
        instance_id = flow.instances_of("visit_note")[0]["id"]
        assert flow.run(instance_id, AT).status == "completed"
        [row] = flow.rows(
            "select body, recipient_timezone, recipient_timezone_source from automation.outbox"
        )
        assert (row["recipient_timezone"], row["recipient_timezone_source"]) == (expected, source)
        assert row["body"] == f"We come at {rendered} ({expected})."
        result = DispatchResult()
        claim_due(
            events_engine, flow.settings, flow.settings.messaging, now=AT, limit=10, result=result
        )
        assert (result.deferred, result.claimed) == ((1, 0) if held else (0, 1))
        if held:
            [waiting] = flow.rows("select due_at, deferred_reason from automation.outbox")
            assert waiting["due_at"] == datetime(2030, 6, 4, 8, 0, tzinfo=PHX)
            assert "America/Phoenix" in waiting["deferred_reason"]
    finally:
        flow.services.close()
