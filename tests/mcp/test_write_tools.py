"""Write tools through the MCP client: each write reaches the simulated ServiceTitan and is
reflected in the warehouse at once; bad input is refused with a clear message and changes
nothing, in ServiceTitan or in the warehouse."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import SecretStr

if TYPE_CHECKING:
    from tests.mcp.conftest import World


BASE = (datetime.now(UTC) + timedelta(days=40)).replace(hour=15, minute=0, second=0, microsecond=0)


def at(hours: float) -> str:
    return (BASE + timedelta(hours=hours)).isoformat().replace("+00:00", "Z")


class Unchanged:
    """Asserts that neither ServiceTitan nor the warehouse changed inside the block."""

    def __init__(self, world: World) -> None:
        self.world = world

    def __enter__(self) -> None:
        self.st = self.world.st_state()
        self.warehouse = self.world.snapshot()

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            assert self.world.st_state() == self.st
            assert self.world.snapshot() == self.warehouse


@pytest.fixture(scope="module")
def customer(world: World) -> dict:
    """A live customer with exactly one location and a phone."""
    return world.rows(
        """select c.id, c.name,
                  (select value from servicetitan.st_customer_contacts p
                   where p.customer_id = c.id and p.type in ('MobilePhone', 'Phone')
                   order by p.id limit 1) as phone
           from servicetitan.st_customers c
           where c.active and c.merged_to_id is null and not c.do_not_service
             and (select count(*) from servicetitan.st_locations l
                  where l.customer_id = c.id and l.active) = 1
             and exists (select 1 from servicetitan.st_customer_contacts p
                         where p.customer_id = c.id and p.type in ('MobilePhone', 'Phone'))
           order by c.id desc limit 1"""
    )[0]


@pytest.fixture(scope="module")
def technician(world: World) -> dict:
    return world.rows("select id, name from servicetitan.st_technicians order by id limit 1")[0]


def _job(world: World, customer: dict, technician: dict, start: str, **extra: Any) -> dict:
    arguments = {
        "customer_phone": customer["phone"],
        "job_type": "pool equipment repair",
        "campaign": "Referral",
        "summary": "Pump is loud and losing prime",
        "appointment": {"start": start, "technicians": [technician["name"]]},
        **extra,
    }
    return world.ok("create_job", arguments)


def test_create_job_books_it_and_updates_the_warehouse(
    world: World, customer: dict, technician: dict
) -> None:
    job = _job(world, customer, technician, at(0))
    assert job["customer"]["id"] == customer["id"]
    assert job["job_type"] == "Pool Equipment Repair" and job["business_unit"] == "Pool Repair"
    assert world.sim.system("servicetitan").get("jobs", job["job_id"])["summary"].startswith("Pump")
    row = world.rows(
        "select customer_id, job_status from servicetitan.st_jobs where id = :j", j=job["job_id"]
    )
    assert row == [{"customer_id": customer["id"], "job_status": "Scheduled"}]
    booked = world.rows(
        """select a.start_on, a.end_on, s.technician_id from servicetitan.st_appointments a
           join servicetitan.st_appointment_assignments s on s.appointment_id = a.id
           where a.job_id = :j""",
        j=job["job_id"],
    )
    assert len(booked) == 1 and booked[0]["technician_id"] == technician["id"]
    assert booked[0]["start_on"] == BASE
    assert booked[0]["end_on"] == BASE + timedelta(hours=2)  # the job type's duration
    shown = world.ok("get_job", {"job_id": job["job_id"]})
    assert shown["appointments"][0]["technicians"] == [technician["name"]]


def test_create_job_bad_input_changes_nothing(
    world: World, customer: dict, technician: dict
) -> None:
    base = {
        "customer_id": customer["id"],
        "job_type": "Pool Equipment Repair",
        "campaign": "Referral",
        "summary": "Check the heater",
        "appointment": {"start": at(100)},
    }
    _job(world, customer, technician, at(30))
    with Unchanged(world):
        assert "no customer matches" in world.error("create_job", {**base, "customer_id": 42})
        assert "no customer matches" in world.error(
            "create_job", {**base, "customer_id": None, "customer_phone": "555 000 0000"}
        )
        message = world.error("create_job", {**base, "job_type": "Roof Repair"})
        assert "unknown job type 'Roof Repair'" in message and "Pool Equipment Repair" in message
        assert "unknown campaign" in world.error("create_job", {**base, "campaign": "TV"})
        assert "unknown technician" in world.error(
            "create_job", {**base, "appointment": {"start": at(100), "technicians": ["Nobody"]}}
        )
        overlap = world.error(
            "create_job",
            {**base, "appointment": {"start": at(31), "technicians": [technician["id"]]}},
        )
        assert "overlaps" in overlap and technician["name"] in overlap
        assert "in the past" in world.error(
            "create_job", {**base, "appointment": {"start": "2020-01-01T10:00:00Z"}}
        )
        assert "location" in world.error("create_job", {**base, "location_id": 1})


def test_add_job_note(world: World) -> None:
    job_id = world.scalar("select max(id) from servicetitan.st_jobs where job_status = 'Completed'")
    added = world.ok("add_job_note", {"job_id": job_id, "text": "Customer asked for a quote"})
    assert added["note"]["text"] == "Customer asked for a quote"
    notes = world.ok("call_st_api", {"module": "jpm", "path": f"jobs/{job_id}/notes"})
    assert "Customer asked for a quote" in [n["text"] for n in notes["response"]["data"]]
    with Unchanged(world):
        assert "does not exist" in world.error("add_job_note", {"job_id": 7, "text": "x"})


def test_reschedule_appointment(world: World, customer: dict, technician: dict) -> None:
    first = _job(world, customer, technician, at(48))
    second = _job(world, customer, technician, at(52))
    appointment_id = second["appointment"]["id"]
    with Unchanged(world):
        clash = world.error(
            "reschedule_appointment", {"appointment_id": appointment_id, "start": at(48.5)}
        )
        assert "overlaps" in clash and str(first["appointment"]["id"]) in clash
        assert "in the past" in world.error(
            "reschedule_appointment",
            {"appointment_id": appointment_id, "start": "2021-03-01T10:00:00Z"},
        )
        assert "does not exist" in world.error(
            "reschedule_appointment", {"appointment_id": 1, "start": at(60)}
        )
    moved = world.ok("reschedule_appointment", {"appointment_id": appointment_id, "start": at(60)})
    assert moved["new"]["start"] == at(60)
    start = world.scalar(
        "select start_on from servicetitan.st_appointments where id = :a", a=appointment_id
    )
    assert start == BASE + timedelta(hours=60)
    done = world.scalar("select min(id) from servicetitan.st_appointments where status = 'Done'")
    assert "cannot move" in world.error(
        "reschedule_appointment", {"appointment_id": done, "start": at(70)}
    )


def _open_estimates(world: World, count: int) -> list[int]:
    return [
        r["id"]
        for r in world.rows(
            "select id from servicetitan.st_estimates where status = 'Open' order by id desc "
            "limit :n",
            n=count,
        )
    ]


def test_estimate_items_and_status(world: World, technician: dict) -> None:
    to_extend, to_sell, to_dismiss = _open_estimates(world, 3)
    before = world.ok("get_estimate_details", {"estimate_id": to_extend})
    added = world.ok(
        "add_items_to_estimate",
        {"estimate_id": to_extend, "items": [{"sku": "SVC-302", "quantity": 2}]},
    )
    after = added["estimate"]
    assert len(after["items"]) == len(before["items"]) + 1
    assert after["subtotal"] == pytest.approx(before["subtotal"] + 2 * 145.0)
    with Unchanged(world):
        assert "no single pricebook item" in world.error(
            "add_items_to_estimate", {"estimate_id": to_extend, "items": [{"sku": "SVC-999"}]}
        )
        assert "sold_by is required" in world.error(
            "update_estimate_status", {"estimate_id": to_sell, "action": "sell"}
        )
    sold = world.ok(
        "update_estimate_status",
        {"estimate_id": to_sell, "action": "sell", "sold_by": technician["name"]},
    )
    assert sold["status"] == "Sold" and sold["estimate"]["sold_by"] == technician["id"]
    dismissed = world.ok("update_estimate_status", {"estimate_id": to_dismiss, "action": "dismiss"})
    assert dismissed["status"] == "Dismissed"
    assert (
        world.scalar("select status from servicetitan.st_estimates where id = :e", e=to_dismiss)
        == "Dismissed"
    )
    with Unchanged(world):
        assert "not Open" in world.error(
            "update_estimate_status", {"estimate_id": to_sell, "action": "dismiss"}
        )
        assert "not Open" in world.error(
            "add_items_to_estimate", {"estimate_id": to_sell, "items": [{"sku": "SVC-302"}]}
        )


def test_call_st_api_allow_listed_write(world: World, customer: dict) -> None:
    answer = world.ok(
        "call_st_api",
        {
            "method": "POST",
            "module": "crm",
            "path": f"customers/{customer['id']}/notes",
            "body": {"text": "Prefers mornings"},
        },
    )
    assert answer["response"]["text"] == "Prefers mornings"
    assert answer["warehouse"]["synced"] == ["customers"]
    with Unchanged(world):
        refused = world.error(
            "call_st_api", {"method": "PUT", "module": "jpm", "path": "jobs/1/cancel", "body": {}}
        )
        assert "allow-list" in refused


def test_pricebook_price_dry_run(world: World) -> None:
    with Unchanged(world):
        preview = world.ok("update_pricebook_price", {"sku": "SVC-302", "price": 160})
        assert preview["dry_run"] and not preview["changed"]
        assert preview["old_price"] == 145 and preview["new_price"] == 160
        assert preview["change_percent"] == pytest.approx(10.3)
        open_using_it = world.scalar(
            """select count(distinct e.id) from servicetitan.st_estimate_items i
               join servicetitan.st_estimates e
                 on e.tenant_id = i.tenant_id and e.id = i.estimate_id
               join pricebook.services s on s.tenant_id = i.tenant_id and s.id = i.sku_id
               where s.code = 'SVC-302' and e.status = 'Open'"""
        )
        assert preview["open_estimates_using_it"] == open_using_it
        assert "at a loss" in world.error("update_pricebook_price", {"sku": "SVC-302", "price": 10})
        assert "no single pricebook item" in world.error(
            "update_pricebook_price", {"sku": "nothing like it", "price": 10}
        )


def test_pricebook_price_update(world: World) -> None:
    changed = world.ok("update_pricebook_price", {"sku": "SVC-311", "price": 520, "dry_run": False})
    assert changed["changed"] is True and changed["dry_run"] is False
    assert world.scalar("select price from pricebook.services where code = 'SVC-311'") == 520


DESCRIPTION = (
    "Replace the old pool pump with a variable speed pump, 2 skimmer baskets and a filter clean"
)


def test_generate_estimate_with_the_keyword_matcher(world: World) -> None:
    with Unchanged(world):
        draft = world.ok("generate_estimate", {"description": DESCRIPTION})
    assert draft["extraction"]["method"] == "keyword_matcher"
    assert "not Claude" in draft["extraction"]["note"]
    names = {line["item"]["name"]: line for line in draft["lines"]}
    assert {"Variable Speed Pump", "Skimmer Basket", "Filter Clean"} <= set(names)
    assert names["Skimmer Basket"]["quantity"] == 2
    assert names["Skimmer Basket"]["total"] == pytest.approx(2 * 60.66)
    assert all(0.5 <= line["confidence"] <= 1 for line in draft["lines"])
    assert draft["subtotal"] == pytest.approx(sum(line["total"] for line in draft["lines"]))
    assert draft["created"] is None and "confirm=true" in draft["next_step"]
    with Unchanged(world):
        assert "job_id or customer_id" in world.error(
            "generate_estimate", {"description": DESCRIPTION, "confirm": True}
        )


def test_generate_estimate_with_claude(world: World) -> None:
    """The Claude path against the Anthropic simulator, scripted to answer `record_work`."""
    lines = [
        {
            "work": "pump replacement labour",
            "kind": "service",
            "quantity": 1,
            "sku_code": "SVC-303",
        },
        {"work": "variable speed pump", "kind": "equipment", "quantity": 1, "sku_code": "EQ-200"},
        {"work": "hot tub cover", "kind": "material", "quantity": 1},
    ]
    claude = world.sim.system("anthropic")
    asked_before = len(claude.requests)
    claude.add_script(
        "record_work", [[{"type": "tool_use", "name": "record_work", "input": {"lines": lines}}]]
    )
    env = world.sim.env
    settings = world.context.settings
    world.context.settings = settings.model_copy(
        update={
            "anthropic_model": "claude-test",
            "anthropic_api_key": SecretStr(env["ANTHROPIC_API_KEY"]),
            "anthropic_base_url": env["ANTHROPIC_BASE_URL"],
        }
    )
    try:
        draft = world.ok("generate_estimate", {"description": DESCRIPTION})
    finally:
        world.context.settings = settings
        claude.scripts.pop("record_work", None)
    assert len(claude.requests) == asked_before + 1, "the Anthropic simulator was not called once"
    assert draft["extraction"]["model"] == "claude-test"
    assert draft["extraction"]["method"] == "claude"
    codes = [line["item"]["code"] for line in draft["lines"]]
    assert codes == ["SVC-303", "EQ-200"]
    assert min(line["confidence"] for line in draft["lines"]) >= 0.9
    alternatives = [item["code"] for item in draft["lines"][0]["alternatives"]]
    assert alternatives and "SVC-303" not in alternatives
    assert [line["work"] for line in draft["unmatched"]] == ["hot tub cover"]
    assert draft["subtotal"] == pytest.approx(650 + 960)


def test_generate_estimate_confirmed_creates_it(world: World) -> None:
    job_id = world.scalar("select max(id) from servicetitan.st_jobs where job_status = 'Scheduled'")
    created = world.ok(
        "generate_estimate", {"description": DESCRIPTION, "job_id": job_id, "confirm": True}
    )
    estimate_id = created["created"]["estimate_id"]
    stored = world.rows(
        "select job_id, subtotal from servicetitan.st_estimates where id = :e", e=estimate_id
    )
    assert [row["job_id"] for row in stored] == [job_id]
    assert float(stored[0]["subtotal"]) == pytest.approx(created["subtotal"])


def test_schedule_appointment_refuses_bad_input(world: World) -> None:
    completed = world.scalar(
        "select max(id) from servicetitan.st_jobs where job_status = 'Completed'"
    )
    with Unchanged(world):
        assert "does not exist" in world.error(
            "schedule_appointment", {"job_id": 3, "start": at(200), "end": at(202)}
        )
        assert "Completed" in world.error(
            "schedule_appointment", {"job_id": completed, "start": at(200), "end": at(202)}
        )
        assert "end after" in world.error(
            "schedule_appointment", {"job_id": completed, "start": at(202), "end": at(200)}
        )


def test_schedule_appointment_adds_a_visit(world: World, customer: dict, technician: dict) -> None:
    job = _job(world, customer, technician, at(300))
    added = world.ok(
        "schedule_appointment",
        {
            "job_id": job["job_id"],
            "start": at(324),
            "end": at(326),
            "technicians": [technician["name"]],
        },
    )
    assert added["appointment"]["jobId"] == job["job_id"]
    assert (
        world.scalar(
            "select count(*) from servicetitan.st_appointments where job_id = :j", j=job["job_id"]
        )
        == 2
    )
