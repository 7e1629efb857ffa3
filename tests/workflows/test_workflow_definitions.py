"""Workflow YAML: the shipped files load, bad files fail with the file, step and field named,
the table mirrors the files by content hash and the switch is kept across deploys."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from perfect_catch.settings import WORKFLOWS_DIR
from perfect_catch.workflows.definitions import (
    WorkflowDefinitionError,
    WorkflowNotFoundError,
    load_definitions,
    load_file,
    parse_duration,
    set_enabled,
    stored_workflows,
    sync_definitions,
)

SHIPPED = {
    "estimate_followup",
    "review_request",
    "appointment_confirmation",
    "estimate_sent",
    "payment_reminders",
    "estimate_sold_ghl",
    "install_job_ghl",
    "estimate_lost_agent",
    "missed_call_text_back",
    "booking_confirmation",
    "invoice_email",
}

GOOD = """
name: test_flow
description: A workflow for tests.
trigger:
  event: estimate_created
steps:
  - key: sms_1
    type: send_sms
    body: "Hi {{ customer.name }}, call {{ business_phone }}"
"""


def _write(tmp_path: Path, text: str, name: str = "test_flow.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_workflows_load() -> None:
    loaded = {w.name: w for w in load_definitions(WORKFLOWS_DIR)}
    assert set(loaded) == SHIPPED
    followup = loaded["estimate_followup"].definition
    assert followup.max_messages == 4
    assert [s.type for s in followup.steps].count("send_sms") == 4
    assert "deadline" in followup.steps[-1].body and "discount_percent" in followup.steps[-1].body
    assert loaded["review_request"].definition.max_messages == 2
    assert loaded["estimate_lost_agent"].definition.enabled is False
    assert loaded["missed_call_text_back"].definition.trigger.event == "call_missed"
    assert loaded["missed_call_text_back"].definition.enabled is True
    for optional in ("booking_confirmation", "invoice_email"):
        assert loaded[optional].definition.enabled is False


def test_unknown_placeholder_fails_naming_workflow_step_and_placeholder(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("{{ business_phone }}", "{{ coupon_code }}"))
    with pytest.raises(WorkflowDefinitionError) as caught:
        load_file(path)
    message = str(caught.value)
    assert "test_flow.yaml" in message
    assert "workflow 'test_flow'" in message
    assert "step 'sms_1'" in message
    assert "field 'body'" in message
    assert "'coupon_code'" in message


def test_payload_roots_depend_on_the_trigger(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD.replace("{{ business_phone }}", "{{ invoice.balance }}"))
    with pytest.raises(WorkflowDefinitionError, match="unknown placeholder 'invoice'"):
        load_file(path)


def test_schema_errors_name_the_step_and_field(tmp_path: Path) -> None:
    bad = GOOD + "  - {key: wait_a_bit, type: wait, offset: 2 weeks}\n"
    with pytest.raises(WorkflowDefinitionError) as caught:
        load_file(_write(tmp_path, bad))
    assert "step 'wait_a_bit', field 'offset'" in str(caught.value)
    bad = GOOD + "  - {key: sms_1, type: send_sms, body: again}\n"
    with pytest.raises(WorkflowDefinitionError, match="used twice"):
        load_file(_write(tmp_path, bad))
    with pytest.raises(WorkflowDefinitionError, match="template syntax error"):
        load_file(_write(tmp_path, GOOD.replace("{{ business_phone }}", "{{ oops")))


def test_unknown_check_and_unsafe_agent_tools_fail(tmp_path: Path) -> None:
    bad = GOOD.replace("steps:", "conditions: {check: drop_tables}\nsteps:")
    with pytest.raises(WorkflowDefinitionError, match="unknown check 'drop_tables'"):
        load_file(_write(tmp_path, bad))
    agent = GOOD + (
        "  - {key: agent_1, type: agent, goal: Book it, tools: [lookup_customer, create_job]}\n"
    )
    with pytest.raises(WorkflowDefinitionError) as caught:
        load_file(_write(tmp_path, agent))
    assert "step 'agent_1', field 'tools'" in str(caught.value)
    assert "create_job" in str(caught.value) and "lookup_customer" not in str(caught.value)


def test_durations() -> None:
    assert parse_duration("2h").total_seconds() == 7200
    assert parse_duration("1d12h").total_seconds() == 36 * 3600
    assert parse_duration("-24h").total_seconds() == -86400
    with pytest.raises(ValueError):
        parse_duration("soon")


def test_table_mirrors_files_and_keeps_the_switch(engine: sa.Engine, tmp_path: Path) -> None:
    loaded = load_definitions(WORKFLOWS_DIR)
    assert sync_definitions(engine, loaded)["inserted"] == len(SHIPPED)
    assert sync_definitions(engine, loaded)["unchanged"] == len(SHIPPED)

    set_enabled(engine, "review_request", False)
    with engine.connect() as conn:
        enabled = {w.name for w in stored_workflows(conn)}
        everything = {w.name for w in stored_workflows(conn, enabled_only=False)}
    assert "review_request" not in enabled and "review_request" in everything

    # A changed file updates the definition and version but keeps the operator's switch.
    changed = tmp_path / "wf"
    changed.mkdir()
    for path in WORKFLOWS_DIR.glob("*.yaml"):
        text = path.read_text()
        if path.stem == "review_request":
            text = text.replace("How did\n      we do?", "How was it?")
        (changed / path.name).write_text(text)
    (changed / "estimate_sent.yaml").unlink()
    counts = sync_definitions(engine, load_definitions(changed))
    assert counts["updated"] == 1 and counts["removed"] == 1
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                sa.text(
                    "select name, enabled from automation.workflow_definitions"
                    " where removed_at is null"
                )
            ).all()
        )
    assert rows["review_request"] is False and "estimate_sent" not in rows

    with pytest.raises(WorkflowNotFoundError, match="known workflows"):
        set_enabled(engine, "no_such_flow", True)


def test_templates_are_sandboxed_and_never_render_with_a_gap() -> None:
    from perfect_catch.workflows.templates import TemplateError, render

    assert render("{{ n | money }} and {{ m | money }}", {"n": 1200, "m": 99.5}) == (
        "$1,200 and $99.50"
    )
    for source, values in (
        ("Hi {{ customer.name }}", {"customer": {"name": None}}),
        ("Hi {{ customer.nickname }}", {"customer": {"name": "Pat"}}),
        ("{{ ().__class__.__base__.__subclasses__() }}", {}),
    ):
        with pytest.raises(TemplateError):
            render(source, values)
