"""The MCP front: every registry tool is listed with its schema and hints, the schema
resource reads, and failures reach the model as readable errors."""

from __future__ import annotations

import anyio
import mcp

from mcp_server.server import SCHEMA_URI, build_server
from perfect_catch.tools.registry import all_tools

EXPECTED = {
    "query_database",
    "describe_warehouse",
    "call_st_api",
    "create_job",
    "get_job",
    "add_job_note",
    "search_jobs",
    "lookup_customer",
    "customer_timeline",
    "customer_insights",
    "customers_needing_followup",
    "get_technicians",
    "get_availability",
    "find_next_available_slot",
    "schedule_appointment",
    "reschedule_appointment",
    "get_dispatch_board",
    "technician_capacity",
    "search_pricebook",
    "get_estimate_details",
    "add_items_to_estimate",
    "update_estimate_status",
    "generate_estimate",
    "update_pricebook_price",
    "pipeline_by_stage",
    "ar_aging",
    "technician_utilization",
    "estimate_close_rate",
    "sync_health",
    "list_workflows",
    "workflow_status",
    "pause_workflow",
    "resume_workflow",
    "send_sms",
    "send_email",
    "get_message_status",
    "outbox_status",
    "reconcile_outbox",
    "release_outbox_rows",
    "supplier_prices",
    "cost_drift",
    "propose_cost_updates",
    "apply_cost_updates",
    "list_incidents",
    "explain_incident",
    "marketing_attribution",
    "lead_response_time",
    "create_customer",
    "update_customer_contacts",
}
ABSENT: set[str] = set()


def _list_tools() -> list:
    async def go() -> list:
        async with mcp.Client(build_server()) as client:
            return (await client.list_tools()).tools

    return anyio.run(go)


def test_every_registry_tool_is_served_with_its_hints() -> None:
    tools = {tool.name: tool for tool in _list_tools()}
    assert set(tools) == EXPECTED
    assert not ABSENT & set(tools)
    specs = {spec.name: spec for spec in all_tools()}
    for name, served in tools.items():
        spec = specs[name]
        assert served.description == spec.description and len(served.description) > 40
        assert served.annotations.read_only_hint is spec.read_only
        assert served.annotations.idempotent_hint is spec.idempotent
        assert served.annotations.destructive_hint is (spec.destructive and not spec.read_only)
        registry_fields = set(spec.input_model.model_fields)
        assert set(served.input_schema["properties"]) == registry_fields
    assert tools["query_database"].annotations.read_only_hint is True
    assert tools["update_estimate_status"].annotations.destructive_hint is True
    assert tools["create_job"].annotations.read_only_hint is False


def test_schema_resource_describes_tables_and_columns(world) -> None:
    async def go() -> str:
        async with mcp.Client(world.server) as client:
            listed = await client.list_resources()
            assert SCHEMA_URI in {str(r.uri) for r in listed.resources}
            result = await client.read_resource(SCHEMA_URI)
            return result.contents[0].text

    text = anyio.run(go)
    assert "## servicetitan.st_jobs" in text
    assert "- customer_id bigint: from raw.customerId" in text
    assert "## pricebook.services" in text
    assert "deleted_at" in text


def test_describe_warehouse_tool_filters_tables(world) -> None:
    described = world.ok("describe_warehouse", {"tables": ["servicetitan.st_invoices"]})
    assert "st_invoices" in described["schema"] and "st_jobs" not in described["schema"]
    assert "no such table" in world.error("describe_warehouse", {"tables": ["nope.nothing"]})


def test_bad_arguments_and_unknown_tools_are_readable_errors(world) -> None:
    assert "job_id" in world.error("get_job", {"job_id": "not a number"})
    assert "customer" in world.error(
        "create_job",
        {
            "job_type": "x",
            "campaign": "y",
            "summary": "abc",
            "appointment": {"start": "2030-01-01T10:00Z"},
        },
    )
    assert (
        "Unknown tool" in world.error("drop_everything", {})
        or "unknown" in world.error("drop_everything", {}).lower()
    )


def test_upstream_failure_names_the_call_and_hides_secrets(make_world) -> None:
    world = make_world(st_client_secret="wrong-secret-value")
    message = world.error("call_st_api", {"module": "jpm", "path": "jobs"})
    assert "ServiceTitan" in message and "ST_CLIENT" in message
    assert "wrong-secret-value" not in message
