"""Read tools through the MCP client, checked against the seeded warehouse and simulator."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import sqlalchemy as sa

from perfect_catch.settings import load_settings
from perfect_catch.tools import reports
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ToolUnavailable

if TYPE_CHECKING:
    from tests.mcp.conftest import World


@pytest.fixture(scope="module")
def customer(world: World) -> dict:
    """A live customer with a phone, an email, a location and at least one job."""
    found = world.rows(
        """select c.id, c.name, c.street,
                  (select value from servicetitan.st_customer_contacts p
                   where p.customer_id = c.id and p.type in ('MobilePhone', 'Phone')
                   order by p.id limit 1) as phone,
                  (select value from servicetitan.st_customer_contacts e
                   where e.customer_id = c.id and e.type = 'Email' order by e.id limit 1) as email
           from servicetitan.st_customers c
           where c.active and c.merged_to_id is null
             and exists (select 1 from servicetitan.st_jobs j where j.customer_id = c.id)
             and exists (select 1 from servicetitan.st_invoices i where i.customer_id = c.id)
           order by c.id limit 1"""
    )
    assert found
    return found[0]


def _digits(phone: str) -> str:
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-10:]


def test_lookup_customer_by_phone_in_any_format(world: World, customer: dict) -> None:
    digits = _digits(customer["phone"])
    formats = [
        digits,
        f"+1{digits}",
        f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
        f"1.{digits[:3]}.{digits[3:6]}.{digits[6:]}",
        f"{digits[3:6]}-{digits[6:]}",
    ]
    for phone in formats:
        found = world.ok("lookup_customer", {"phone": phone})
        assert customer["id"] in [c["id"] for c in found["customers"]], phone
    detail = next(c for c in found["customers"] if c["id"] == customer["id"])

    def ids(table: str) -> set[int]:
        sql = f"select id from servicetitan.{table} where customer_id = :c"
        return {row["id"] for row in world.rows(sql, c=customer["id"])}

    assert len(detail["contacts"]) == len(ids("st_customer_contacts")) > 0
    assert {location["id"] for location in detail["locations"]} == ids("st_locations") != set()
    assert {job["id"] for job in detail["recent_jobs"]} == ids("st_jobs") != set()
    assert {i["id"] for i in detail["recent_invoices"]} == ids("st_invoices") != set()
    expected_balance = world.scalar(
        "select coalesce(sum(balance_due), 0) from marts.invoices where customer_id = :c",
        c=customer["id"],
    )
    assert detail["open_balance"] == pytest.approx(float(expected_balance))


def test_lookup_customer_by_name_email_and_address(world: World, customer: dict) -> None:
    by_email = world.ok("lookup_customer", {"email": customer["email"].upper()})
    assert [c["id"] for c in by_email["customers"]] == [customer["id"]]
    by_name = world.ok("lookup_customer", {"name": customer["name"].lower()})
    assert customer["id"] in [c["id"] for c in by_name["customers"]]
    by_address = world.ok("lookup_customer", {"address": customer["street"].upper()})
    assert customer["id"] in [c["id"] for c in by_address["customers"]]
    none = world.ok("lookup_customer", {"name": "Zzyzx Nobody"})
    assert none["count"] == 0 and "no customer" in none["note"]
    assert "give customer_id" in world.error("lookup_customer", {})


def test_customer_timeline_and_insights(world: World, customer: dict) -> None:
    timeline = world.ok("customer_timeline", {"customer_id": customer["id"]})
    kinds = {e["event"] for e in timeline["events"]}
    assert {"customer_created", "job_booked", "invoice_issued"} <= kinds
    stamps = [e["at"] for e in timeline["events"]]
    assert stamps == sorted(stamps, reverse=True)

    insights = world.ok("customer_insights", {"customer_id": customer["id"]})
    paid = world.scalar(
        "select coalesce(sum(total), 0) from marts.invoices "
        "where customer_id = :c and total > 0 and balance_due = 0",
        c=customer["id"],
    )
    assert insights["lifetime_value"] == pytest.approx(float(paid))
    assert insights["segment"] in {"prospect", "new", "lapsed", "high_value", "loyal", "occasional"}
    last = world.scalar(
        "select max(completed_on) from servicetitan.st_jobs "
        "where customer_id = :c and job_status = 'Completed'",
        c=customer["id"],
    )
    assert insights["last_service"].startswith(last.date().isoformat())
    as_of = world.ok(
        "customer_insights", {"customer_id": customer["id"], "as_of": "2019-01-01T00:00:00Z"}
    )
    assert as_of["segment"] == "prospect"
    assert "no customer" in world.error("customer_insights", {"customer_id": 1})


def test_customers_needing_followup(world: World) -> None:
    result = world.ok("customers_needing_followup", {"as_of": "2025-06-01T00:00:00Z", "limit": 500})
    reasons = {f["reason"] for f in result["followups"]}
    assert {"open_estimate", "overdue_invoice", "lapsed_service"} <= reasons
    open_estimates = world.scalar(
        """select count(*) from servicetitan.st_estimates e
           join servicetitan.st_customers c on c.id = e.customer_id
           where e.status = 'Open' and e.created_on <= '2025-05-25'
             and c.active and c.merged_to_id is null and not c.do_not_service"""
    )
    listed = [f for f in result["followups"] if f["reason"] == "open_estimate"]
    assert len(listed) == open_estimates
    only = world.ok(
        "customers_needing_followup",
        {"reasons": ["overdue_invoice"], "as_of": "2025-06-01T00:00:00Z"},
    )
    assert {f["reason"] for f in only["followups"]} == {"overdue_invoice"}


def test_search_and_get_job(world: World, customer: dict) -> None:
    jobs = world.ok("search_jobs", {"customer_id": customer["id"]})["jobs"]
    own = world.rows(
        "select id from servicetitan.st_jobs where customer_id = :c order by id", c=customer["id"]
    )
    assert sorted(j["id"] for j in jobs) == [row["id"] for row in own] != []
    assert {j["customer_id"] for j in jobs} == {customer["id"]}
    by_phone = world.ok("search_jobs", {"customer": customer["phone"]})["jobs"]
    assert {j["id"] for j in jobs} <= {j["id"] for j in by_phone}
    completed = world.ok("search_jobs", {"status": "completed", "limit": 5})
    assert completed["count"] == 5 and {j["job_status"] for j in completed["jobs"]} == {"Completed"}
    by_type = world.ok("search_jobs", {"job_type": "Pool Service - Weekly", "limit": 3})
    assert [j["job_type"] for j in by_type["jobs"]] == ["Pool Service - Weekly"] * 3
    assert "unknown job type" in world.error("search_jobs", {"job_type": "Roof Repair"})

    job = world.ok("get_job", {"job_id": jobs[0]["id"]})
    assert job["customer_name"] == customer["name"] and job["job_type"] == jobs[0]["job_type"]
    appointments = world.rows(
        "select id from servicetitan.st_appointments where job_id = :j order by id",
        j=jobs[0]["id"],
    )
    assert [a["id"] for a in job["appointments"]] == [row["id"] for row in appointments] != []
    staff = {row["name"] for row in world.rows("select name from servicetitan.st_technicians")}
    assert {name for a in job["appointments"] for name in a["technicians"]} <= staff
    assert "does not exist" in world.error("get_job", {"job_id": 999})


def test_technicians_board_and_capacity(world: World) -> None:
    technicians = world.ok("get_technicians", {})["technicians"]
    assert len(technicians) == world.scalar(
        "select count(*) from servicetitan.st_technicians where active"
    )
    pool = world.ok("get_technicians", {"business_unit": "Pool Service"})["technicians"]
    assert pool and {t["business_unit"] for t in pool} == {"Pool Service"}

    busiest = world.rows(
        """select (start_on at time zone 'America/New_York')::date as day, count(*) as n
           from servicetitan.st_appointments group by 1 order by 2 desc, 1 limit 1"""
    )[0]
    board = world.ok("get_dispatch_board", {"day": busiest["day"].isoformat()})
    assert board["appointments"] == busiest["n"]
    on_the_day = world.rows(
        """select id from servicetitan.st_appointments
           where (start_on at time zone 'America/New_York')::date = :d""",
        d=busiest["day"],
    )
    shown = {a["appointment_id"] for c in board["technicians"] for a in c["appointments"]}
    assert shown == {row["id"] for row in on_the_day}
    assert min(len(column["appointments"]) for column in board["technicians"]) >= 1

    capacity = world.ok(
        "technician_capacity", {"start_date": busiest["day"].isoformat(), "days": 1}
    )
    assert sum(t["appointments"] for t in capacity["technicians"]) >= 1
    assert len(capacity["technicians"]) == len(technicians)
    assert min(t["available_hours"] for t in capacity["technicians"]) >= 0


def test_availability_from_dispatch_capacity(world: World) -> None:
    day = date.today() + timedelta(days=10)
    slots = world.ok("get_availability", {"start_date": day.isoformat(), "days": 2})
    assert slots["count"] == len(slots["slots"]) > 0
    assert {s["available"] for s in slots["slots"]} == {True}
    assert min(len(s["technicians"]) for s in slots["slots"]) >= 1
    names = {
        row["id"]: row["name"]
        for row in world.rows("select id, name from servicetitan.st_technicians where active")
    }
    assert {(t["id"], t["name"]) for s in slots["slots"] for t in s["technicians"]} <= set(
        names.items()
    )

    first = world.ok("find_next_available_slot", {"job_type": "Pool Equipment Repair"})
    starts = [slot["start"] for slot in (first["slot"], *first["alternatives"])]
    assert len(starts) == 4 and starts == sorted(set(starts))
    assert first["slot"]["available"] is True
    tech = slots["slots"][0]["technicians"][-1]
    mine = world.ok("find_next_available_slot", {"technician": tech["name"], "alternatives": 0})
    assert mine["slot"]["technicians"] == [{"id": tech["id"], "name": tech["name"]}]


def test_pricebook_and_estimate_details(world: World) -> None:
    found = world.ok("search_pricebook", {"query": "variable speed pump"})
    assert found["items"][0]["name"] == "Variable Speed Pump"
    assert found["items"][0]["price"] > 0
    by_code = world.ok("search_pricebook", {"query": "SVC-303"})
    assert by_code["items"][0]["code"] == "SVC-303" and by_code["items"][0]["match"] == 1.0
    services = world.ok("search_pricebook", {"query": "pool", "kinds": ["service"]})
    assert {i["kind"] for i in services["items"]} == {"service"}

    estimate_id = world.scalar(
        "select estimate_id from servicetitan.st_estimate_items group by 1 "
        "having count(*) > 1 order by 1 limit 1"
    )
    estimate = world.ok("get_estimate_details", {"estimate_id": estimate_id})
    assert len(estimate["items"]) > 1
    assert estimate["subtotal"] == pytest.approx(sum(i["total"] for i in estimate["items"]))
    assert 0 < estimate["gross_margin"] < 1
    assert "does not exist" in world.error("get_estimate_details", {"estimate_id": 5})


def test_reports(world: World) -> None:
    pipeline = world.ok("pipeline_by_stage", {})
    by_status = {row["stage"]: row["count"] for row in pipeline["estimates_by_status"]}
    assert by_status == {
        r["status"]: r["n"]
        for r in world.rows(
            "select status, count(*) as n from servicetitan.st_estimates group by 1"
        )
    }
    assert {row["stage"]: row["count"] for row in pipeline["jobs_by_status"]} == {
        r["job_status"]: r["n"]
        for r in world.rows("select job_status, count(*) as n from servicetitan.st_jobs group by 1")
    }

    assert_ar_aging(world, datetime(2025, 6, 1, tzinfo=UTC))

    utilization = world.ok(
        "technician_utilization", {"start_date": "2024-01-01", "end_date": "2024-12-31"}
    )
    assert 0 < utilization["team_utilization"] < 5
    assert "start_date" in world.error("technician_utilization", {})

    close = world.ok("estimate_close_rate", {"by": "business_unit"})
    overall = close["overall"]
    assert overall["close_rate"] == pytest.approx(
        overall["sold"] / (overall["sold"] + overall["dismissed"]), abs=1e-3
    )
    assert len(close["groups"]) > 1
    assert sum(group["sold"] for group in close["groups"]) == overall["sold"] > 0
    assert sum(group["dismissed"] for group in close["groups"]) == overall["dismissed"] > 0

    health = world.ok("sync_health", {"stale_after_minutes": 600})
    assert health["healthy"], health["problems"]
    jobs = next(e for e in health["entities"] if e["entity"] == "jobs")
    assert jobs["live_rows"] == world.scalar("select count(*) from servicetitan.st_jobs")


AGING_BUCKETS = (("current", 0), ("1-30", 30), ("31-60", 60), ("61-90", 90), ("over 90", None))


def assert_ar_aging(world: World, as_of: datetime) -> None:
    """The report's buckets hold what `marts.invoices` says is owed, aged at `as_of` (not at
    the instant the marts were built), by whole days past due."""
    aging = world.ok("ar_aging", {"as_of": as_of.isoformat()})
    owed = world.rows(
        "select balance_due, due_at from marts.invoices "
        "where balance_due > 0 and invoiced_at <= :as_of",
        as_of=as_of,
    )
    assert owed
    expected: dict[str, list] = {}
    for row in owed:
        days = (as_of - row["due_at"]).days if row["due_at"] and row["due_at"] < as_of else 0
        name = next(n for n, last in AGING_BUCKETS if last is None or days <= last)
        expected.setdefault(name, []).append(float(row["balance_due"]))
    order = [name for name, _ in AGING_BUCKETS if name in expected]
    assert [b["bucket"] for b in aging["buckets"]] == order
    for bucket in aging["buckets"]:
        assert bucket["invoices"] == len(expected[bucket["bucket"]])
        assert bucket["balance"] == pytest.approx(sum(expected[bucket["bucket"]]))
    assert aging["total_outstanding"] == pytest.approx(sum(map(sum, expected.values())))
    assert sum(c["invoices"] for c in aging["top_customers"]) <= len(owed)


def test_ar_aging_ages_at_the_instant_asked_about(world: World) -> None:
    """Invoices are aged at `as_of`: a later instant moves balances to older buckets, and an
    invoice ServiceTitan still shows a balance on but whose payments cover it is not owed."""
    newest_due = world.scalar("select max(due_at) from marts.invoices where balance_due > 0")
    assert_ar_aging(world, newest_due + timedelta(days=10))
    on_due_date = world.ok("ar_aging", {"as_of": newest_due.isoformat()})
    ten_days_late = world.ok("ar_aging", {"as_of": (newest_due + timedelta(days=10)).isoformat()})
    late = world.ok("ar_aging", {"as_of": "2026-03-01T00:00:00Z"})
    assert on_due_date["buckets"][0]["bucket"] == "current"
    assert "current" not in [b["bucket"] for b in ten_days_late["buckets"]]
    assert "1-30" in [b["bucket"] for b in ten_days_late["buckets"]]
    assert [b["bucket"] for b in late["buckets"]] == ["over 90"]
    covered = world.scalar(
        "select count(*) from servicetitan.st_invoices i join marts.invoices m"
        " on m.tenant_id = i.tenant_id and m.invoice_id = i.id"
        " where i.balance > 0 and m.balance_due = 0 and i.invoice_date <= '2026-03-01'"
    )
    raw = world.scalar(
        "select sum(balance) from servicetitan.st_invoices"
        " where balance > 0 and invoice_date <= '2026-03-01'"
    )
    assert covered > 0
    assert late["total_outstanding"] < float(raw)


def test_ar_aging_names_the_mart_it_needs_when_dbt_has_not_built_it(
    engine: sa.Engine, database_url: str
) -> None:
    """On a migrated warehouse where dbt has not run yet."""
    settings = load_settings(database_url=database_url, st_tenant_ids=[1])
    context = ToolContext(engine=engine, settings=settings, st_client_factory=_no_client)
    with pytest.raises(ToolUnavailable, match=r"marts\.invoices.*dbt build"):
        reports.ar_aging(context, reports.AgingInput())


def _no_client(tenant_id: int) -> Any:
    raise AssertionError("ar_aging must not call ServiceTitan")


def test_sync_health_flags_rejects_and_staleness(make_world) -> None:
    world = make_world()
    with world.engine.begin() as conn:
        conn.exec_driver_sql(
            "update public.sync_state set updated_at = now() - interval '3 hours' "
            "where entity = 'jobs'"
        )
        conn.exec_driver_sql(
            "insert into public.sync_rejects (source, tenant_id, entity, record_id, reason, raw) "
            f"values ('servicetitan', '{world.tenant_id}', 'invoices', '1', 'bad total', '{{}}')"
        )
    health = world.ok("sync_health", {"stale_after_minutes": 60})
    assert not health["healthy"]
    status = {e["entity"]: e for e in health["entities"]}
    assert status["jobs"]["status"] == "stale"
    assert status["invoices"]["status"] == "rejects"
    assert status["invoices"]["latest_reject_reason"] == "bad total"


def test_call_st_api_get(world: World) -> None:
    job_id = world.scalar("select max(id) from servicetitan.st_jobs")
    answer = world.ok("call_st_api", {"module": "jpm", "path": f"jobs/{job_id}"})
    assert answer["response"]["id"] == job_id
    page = world.ok(
        "call_st_api", {"module": "crm", "path": "customers", "params": {"pageSize": 3}}
    )
    assert len(page["response"]["data"]) == 3
    assert "allow-list" in world.error(
        "call_st_api", {"method": "DELETE", "module": "jpm", "path": f"jobs/{job_id}"}
    )
    assert "relative" in world.error("call_st_api", {"module": "jpm", "path": "../auth/x"})
    assert "unknown module" in world.error("call_st_api", {"module": "payroll", "path": "x"})
