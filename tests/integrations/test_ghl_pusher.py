"""ST -> GHL pushes: idempotent, forward-only, keyed by estimate, logged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from integration_support import TENANT, ghl_client, put_st

from perfect_catch.integrations.ghl_pusher import GhlPusher, push_estimate
from perfect_catch.integrations.ghl_reconcile import reconcile_ghl
from perfect_catch.integrations.ghl_stages import StageConfigError
from perfect_catch.settings import load_settings

SETTINGS = load_settings()
CUSTOMER = 10_000_001
ESTIMATE = 70_000_001
JOB = 40_000_001


def seed_st(engine: sa.Engine) -> sa.Engine:
    """One customer (phone and email), an open estimate, and two business units."""
    put_st(engine, "st_business_units", 501, name="Electrical Install")
    put_st(engine, "st_business_units", 502, name="Pool Service")
    put_st(engine, "st_customers", CUSTOMER, name="Jane Doe", city="Phoenix", state="AZ")
    put_st(
        engine,
        "st_customer_contacts",
        1,
        customer_id=CUSTOMER,
        type="Phone",
        value="(602) 555-0199",
    )
    put_st(
        engine,
        "st_customer_contacts",
        2,
        customer_id=CUSTOMER,
        type="Email",
        value="Jane.Doe@example.com",
    )
    put_st(
        engine,
        "st_estimates",
        ESTIMATE,
        customer_id=CUSTOMER,
        name="Panel Upgrade",
        status="Open",
        subtotal=4200.5,
    )
    return engine


@pytest.fixture
def st(engine: sa.Engine) -> sa.Engine:
    return seed_st(engine)


def _stage_name(state, opportunity: dict) -> str:
    pipeline = state.pipeline(opportunity["pipelineId"])
    stage = state.stage(opportunity["pipelineId"], opportunity["pipelineStageId"])
    return f"{pipeline['name']}/{stage['name']}"


def _opportunities_of(state, contact_id: str) -> list[dict]:
    return [o for o in state.opportunities.values() if o["contactId"] == contact_id]


def _log(engine: sa.Engine, entity: str) -> list[tuple[str, str]]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select entity_id, outcome from integrations.ghl_sync_log "
                "where entity = :e order by id"
            ),
            {"e": entity},
        )
        return [tuple(r) for r in rows]


def test_same_estimate_twice_makes_one_opportunity(sim, st: sa.Engine) -> None:
    state = sim.system("gohighlevel")
    contacts_before = len(state.contacts)
    with ghl_client(sim) as client:
        first = push_estimate(st, client, TENANT, ESTIMATE, SETTINGS)
        second = push_estimate(st, client, TENANT, ESTIMATE, SETTINGS)
    assert first.outcome in ("created", "updated")
    assert second.outcome == "unchanged"
    assert first.ghl_id == second.ghl_id
    assert len(state.contacts) == contacts_before + 1
    contact = state.contact_by_phone("+16025550199")
    assert len(contact) == 1
    assert {"id": "stCustomerIdField001", "value": str(CUSTOMER)} in contact[0]["customFields"]
    opportunities = _opportunities_of(state, contact[0]["id"])
    assert len(opportunities) == 1
    opportunity = opportunities[0]
    assert _stage_name(state, opportunity) == (
        "Sales Pipeline/Appointment Completed / Proposal Sent"
    )
    assert opportunity["monetaryValue"] == 4200.5
    with st.connect() as conn:
        links = conn.execute(
            sa.text(
                "select estimate_id, opportunity_id from integrations.ghl_estimate_opportunities"
            )
        ).all()
    assert links == [(ESTIMATE, opportunity["id"])]
    assert _log(st, "estimate") == [(str(ESTIMATE), first.outcome), (str(ESTIMATE), "unchanged")]


def test_sold_moves_stage_and_status_and_never_back(sim, st: sa.Engine) -> None:
    state = sim.system("gohighlevel")
    with ghl_client(sim) as client:
        opportunity_id = push_estimate(st, client, TENANT, ESTIMATE, SETTINGS).ghl_id
        put_st(
            st,
            "st_estimates",
            ESTIMATE,
            customer_id=CUSTOMER,
            name="Panel Upgrade",
            status="Sold",
            subtotal=4500,
        )
        sold = push_estimate(st, client, TENANT, ESTIMATE, SETTINGS)
        assert sold.outcome == "updated"
        opportunity = state.opportunities[opportunity_id]
        assert _stage_name(state, opportunity) == "Sales Pipeline/Job Sold"
        assert opportunity["status"] == "won"
        assert opportunity["monetaryValue"] == 4500

        put_st(
            st,
            "st_estimates",
            ESTIMATE,
            customer_id=CUSTOMER,
            name="Panel Upgrade",
            status="Open",
            subtotal=4500,
        )
        again = push_estimate(st, client, TENANT, ESTIMATE, SETTINGS)
    assert again.outcome == "unchanged"
    assert _stage_name(state, state.opportunities[opportunity_id]) == "Sales Pipeline/Job Sold"


def test_dismissed_is_lost_and_old_open_is_followup(sim, st: sa.Engine) -> None:
    state = sim.system("gohighlevel")
    put_st(
        st,
        "st_estimates",
        ESTIMATE + 1,
        customer_id=CUSTOMER,
        name="Pool Heater",
        status="Open",
        subtotal=900,
        created_on=datetime.now(UTC) - timedelta(days=10),
    )
    put_st(
        st,
        "st_estimates",
        ESTIMATE + 2,
        customer_id=CUSTOMER,
        name="Lights",
        status="Dismissed",
        subtotal=300,
    )
    with ghl_client(sim) as client:
        pusher = GhlPusher(st, client, TENANT, SETTINGS)
        old = pusher.push_estimate(ESTIMATE + 1)
        lost = pusher.push_estimate(ESTIMATE + 2)
    assert (
        _stage_name(state, state.opportunities[old.ghl_id]) == "Sales Pipeline/Estimate Follow-up"
    )
    assert _stage_name(state, state.opportunities[lost.ghl_id]) == "Sales Pipeline/Estimate Lost"
    assert state.opportunities[lost.ghl_id]["status"] == "lost"
    assert old.ghl_id != lost.ghl_id


def test_existing_contact_found_by_phone_is_reused(sim, st: sa.Engine) -> None:
    state = sim.system("gohighlevel")
    with ghl_client(sim) as client:
        existing, created = client.upsert_contact({"firstName": "Jane", "phone": "+16025550199"})
        assert created
        count = len(state.contacts)
        outcome = GhlPusher(st, client, TENANT, SETTINGS).push_customer(CUSTOMER)
    assert outcome.outcome == "created"
    assert len(state.contacts) == count
    with st.connect() as conn:
        link = conn.execute(
            sa.text("select contact_id, matched_by from integrations.ghl_customer_contacts")
        ).one()
    assert tuple(link) == (existing["id"], "phone")
    lead = state.opportunities[outcome.ghl_id]
    assert _stage_name(state, lead) == "Sales Pipeline/Contacted"


def test_booked_appointment_schedules_the_lead(sim, st: sa.Engine) -> None:
    state = sim.system("gohighlevel")
    put_st(
        st, "st_jobs", JOB + 5, customer_id=CUSTOMER, job_status="Scheduled", business_unit_id=502
    )
    put_st(
        st, "st_appointments", 50_000_001, job_id=JOB + 5, customer_id=CUSTOMER, status="Scheduled"
    )
    with ghl_client(sim) as client:
        outcome = GhlPusher(st, client, TENANT, SETTINGS).push_appointment(50_000_001)
    assert _stage_name(state, state.opportunities[outcome.ghl_id]) == (
        "Sales Pipeline/Appointment Scheduled"
    )


def test_install_job_walks_the_install_pipeline(sim, st: sa.Engine) -> None:
    state = sim.system("gohighlevel")
    put_st(
        st,
        "st_estimates",
        ESTIMATE,
        customer_id=CUSTOMER,
        name="Panel Upgrade",
        status="Sold",
        subtotal=4500,
    )
    put_st(
        st,
        "st_jobs",
        JOB,
        customer_id=CUSTOMER,
        job_status="Scheduled",
        business_unit_id=501,
        created_from_estimate_id=ESTIMATE,
    )
    with ghl_client(sim) as client:
        pusher = GhlPusher(st, client, TENANT, SETTINGS)
        scheduled = pusher.push_job(JOB)
        opportunity = state.opportunities[scheduled.ghl_id]
        assert _stage_name(state, opportunity) == "Install Pipeline/Install Scheduled"
        put_st(
            st,
            "st_jobs",
            JOB,
            customer_id=CUSTOMER,
            job_status="Completed",
            business_unit_id=501,
            created_from_estimate_id=ESTIMATE,
        )
        pusher.push_job(JOB)
        assert _stage_name(state, opportunity) == "Install Pipeline/Install Complete"
        assert pusher.push_job(JOB).outcome == "unchanged"
        put_st(
            st,
            "st_jobs",
            JOB + 1,
            customer_id=CUSTOMER,
            job_status="Scheduled",
            business_unit_id=502,
        )
        assert pusher.push_job(JOB + 1).outcome == "skipped"


def test_reconcile_repairs_drift_and_links_each_estimate(sim, st: sa.Engine) -> None:
    state = sim.system("gohighlevel")
    put_st(
        st,
        "st_estimates",
        ESTIMATE + 3,
        customer_id=CUSTOMER,
        name="Generator",
        status="Sold",
        subtotal=12000,
    )
    since = datetime.now(UTC) - timedelta(days=1)
    with ghl_client(sim) as client:
        first = reconcile_ghl(st, client, TENANT, SETTINGS, since=since)
        assert not first.failures
        with st.connect() as conn:
            links = dict(
                conn.execute(
                    sa.text(
                        "select estimate_id, opportunity_id "
                        "from integrations.ghl_estimate_opportunities"
                    )
                ).all()
            )
        assert set(links) == {ESTIMATE, ESTIMATE + 3}
        assert len(set(links.values())) == 2
        sold = state.opportunities[links[ESTIMATE + 3]]
        assert sold["status"] == "won"

        contacted = state.stage(state.pipelines[0]["id"], state.pipelines[0]["stages"][1]["id"])
        state.update_opportunity(sold, {"pipelineStageId": contacted["id"], "status": "open"})
        second = reconcile_ghl(st, client, TENANT, SETTINGS, since=since)
    assert not second.failures
    assert _stage_name(state, sold) == "Sales Pipeline/Job Sold"
    assert sold["status"] == "won"
    contact_id = state.contact_by_phone("+16025550199")[0]["id"]
    assert len(_opportunities_of(state, contact_id)) == 2


def test_unknown_stage_name_is_named_in_the_error(sim, st: sa.Engine) -> None:
    config = load_settings(ghl_sales_stages={"JOB_SOLD": "Won It"})
    with ghl_client(sim) as client, pytest.raises(StageConfigError, match="GHL_SALES_STAGES"):
        GhlPusher(st, client, TENANT, config).stage_map  # noqa: B018


@pytest.mark.parametrize("daily_limit", [2, 5, 8])
def test_push_stopped_by_daily_limit_resumes_without_duplicates(
    engine: sa.Engine, daily_limit: int
) -> None:
    from integration_support import start_server

    from perfect_catch.connectors.gohighlevel import GhlDailyLimitError

    st = seed_st(engine)
    put_st(
        st,
        "st_estimates",
        ESTIMATE + 3,
        customer_id=CUSTOMER,
        name="Generator",
        status="Sold",
        subtotal=12000,
    )
    server = start_server(daily_limit=daily_limit, burst_limit=10_000)
    try:
        state = server.system("gohighlevel")
        since = datetime.now(UTC) - timedelta(days=1)
        with ghl_client(server) as client, pytest.raises(GhlDailyLimitError):
            reconcile_ghl(st, client, TENANT, SETTINGS, since=since)
        state.limiter.daily = 10_000
        with ghl_client(server) as client:
            result = reconcile_ghl(st, client, TENANT, SETTINGS, since=since)
        assert not result.failures
        contacts = state.contact_by_phone("+16025550199")
        assert len(contacts) == 1
        opportunities = _opportunities_of(state, contacts[0]["id"])
        assert len(opportunities) == 2
        with st.connect() as conn:
            links = conn.execute(
                sa.text(
                    "select count(distinct opportunity_id) "
                    "from integrations.ghl_estimate_opportunities"
                )
            ).scalar_one()
        assert links == 2
    finally:
        server.stop()
