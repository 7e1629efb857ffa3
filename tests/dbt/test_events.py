"""Event models against the simulator's ground truth: which records qualify, once each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
import sqlalchemy as sa

from perfect_catch.simulators.servicetitan.timefmt import format_date, parse_instant, ticks_of
from perfect_catch.warehouse.event_types import EVENT_TYPES

THRESHOLDS = (1, 7, 14, 30)
#: The event types derived from ServiceTitan, whose ground truth is the ST simulator's records
#: (`call_missed` comes from CallRail: tests/marketing/test_missed_call_text_back.py).
ST_EVENT_TYPES = tuple(kind for kind in EVENT_TYPES if kind != "call_missed")
Key = tuple[str, int, int | None]


def _at(text: str) -> datetime:
    return datetime.fromtimestamp(parse_instant(text) / 10_000_000, UTC)


def _money(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def expected_events(st: Any, as_of: str) -> set[Key]:
    """(event_type, entity id, threshold) of every event the simulator's records qualify for
    at `as_of`, by the rules written down independently of the SQL."""
    now = _at(as_of)
    names = {r["id"]: r["name"] for r in st.records("job-types")}
    units = {r["id"]: r["name"] for r in st.records("business-units")}
    out: set[Key] = set()
    for e in st.records("estimates"):
        if not e["active"]:
            continue
        out.add(("estimate_created", e["id"], None))
        status = e["status"]["name"]
        if status == "Sold":
            out.add(("estimate_approved", e["id"], None))
        elif status == "Dismissed":
            out.add(("estimate_rejected", e["id"], None))
    for j in st.records("jobs"):
        out.add(("job_created", j["id"], None))
        if j["jobStatus"] == "Completed":
            out.add(("job_completed", j["id"], None))
        job_type, unit = names.get(j["jobTypeId"]) or "", units.get(j["businessUnitId"]) or ""
        # The default install patterns: %install% on either name, or the Pool Construction unit.
        if "install" in f"{job_type} {unit}".lower() or unit.lower() == "pool construction":
            out.add(("install_job_created", j["id"], None))
    for a in st.records("appointments"):
        if a["active"]:
            out.add(("appointment_created", a["id"], None))
    applied: dict[int, Decimal] = {}
    for p in st.records("payments"):
        if p.get("active", True):
            for application in p.get("appliedTo") or []:
                invoice_id = application["appliedTo"]
                applied[invoice_id] = applied.get(invoice_id, Decimal(0)) + _money(
                    application["appliedAmount"]
                )
    for i in st.records("invoices"):
        if not i["active"]:
            continue
        out.add(("invoice_created", i["id"], None))
        total = _money(i["total"])
        due = max(Decimal(0), min(_money(i["balance"]), total - applied.get(i["id"], Decimal(0))))
        if due > 0 and i.get("dueDate"):
            for days in THRESHOLDS:
                if _at(i["dueDate"]) + timedelta(days=days) <= now:
                    out.add(("invoice_overdue", i["id"], days))
    return out


_ENTITY = {
    "estimate": "estimate_id",
    "job": "job_id",
    "install": "job_id",
    "invoice": "invoice_id",
    "appointment": "appointment_id",
}


def key_of(event: dict[str, Any]) -> Key:
    kind = event["event_type"]
    entity_id = event[_ENTITY[kind.split("_")[0]]]
    threshold = event["payload"].get("threshold_days")
    return kind, entity_id, threshold


def by_type(keys: set[Key]) -> dict[str, int]:
    counts = dict.fromkeys(EVENT_TYPES, 0)
    for kind, _, _ in keys:
        counts[kind] += 1
    return counts


@dataclass
class Day:
    """What the warehouse held before and after one simulated business day."""

    before: set[Key]
    expected_before: set[Key]
    after: list[dict[str, Any]]
    expected_after: set[Key]


def _one_day(wh: Any) -> Day:
    """Sync and build, then a business day plus a few targeted changes, then sync and build.

    The targeted changes make sure the day has an event of every type: an open estimate is
    dismissed, an install job is booked and an unpaid invoice falls due a day and a half ago.
    """
    st = wh.st
    wh.sync()
    as_of_before = st.now()
    wh.build(as_of_before, test=False)
    before = {key_of(e) for e in wh.events()}
    expected_before = expected_events(st, as_of_before)

    st.advance(1)
    mutator = st.mutator()
    open_estimate = next(e for e in st.records("estimates") if e["status"]["name"] == "Open")
    mutator.dismiss_estimate(open_estimate["id"])
    install_type = next(r for r in st.records("job-types") if "Install" in r["name"])
    customer = next(iter(st.records("customers")))
    start = ticks_of(_at(st.now()) + timedelta(days=2))
    mutator.create_job(
        {
            "customerId": customer["id"],
            "locationId": mutator.locations_of(customer["id"])[0],
            "businessUnitId": next(iter(st.records("business-units")))["id"],
            "jobTypeId": install_type["id"],
            "campaignId": next(iter(st.records("campaigns")))["id"],
            "appointments": [{"start": _iso(start), "end": _iso(start + 2 * 3600 * 10_000_000)}],
        }
    )
    unpaid = next(
        i
        for i in st.records("invoices")
        if i["active"] and _money(i["balance"]) > 0 and not _has_payment(st, i["id"])
    )
    due = ticks_of(_at(st.now()) - timedelta(days=1, hours=12))
    st.modify("invoices", unpaid["id"], dueDate=format_date(due))
    wh.sync()
    as_of_after = st.now()
    wh.build(as_of_after, everything=True)
    return Day(before, expected_before, wh.events(), expected_events(st, as_of_after))


def _iso(ticks: int) -> str:
    return datetime.fromtimestamp(ticks / 10_000_000, UTC).isoformat()


def _has_payment(st: Any, invoice_id: int) -> bool:
    return any(
        a["appliedTo"] == invoice_id for p in st.records("payments") for a in p["appliedTo"] or []
    )


@pytest.fixture(scope="module")
def day(module_warehouse: Any) -> Day:
    return _one_day(module_warehouse)


def test_first_build_emits_history_as_backfill(day: Day) -> None:
    assert day.before == day.expected_before
    assert all(by_type(day.expected_before)[kind] > 0 for kind in ST_EVENT_TYPES)
    history = [e for e in day.after if key_of(e) in day.before]
    assert {key_of(e) for e in history} == day.before != set()
    assert {(e["is_backfill"], e["payload"]["is_backfill"]) for e in history} == {(True, True)}


def test_a_business_day_fires_each_event_type_for_exactly_the_records_that_qualify(
    day: Day,
) -> None:
    new = [e for e in day.after if key_of(e) not in day.before]
    assert not any(e["is_backfill"] for e in new)
    new_keys = {key_of(e) for e in new}
    assert new_keys == day.expected_after - day.expected_before
    counts = by_type(new_keys)
    assert all(counts[kind] > 0 for kind in ST_EVENT_TYPES), counts
    assert len(new) == len(new_keys)


def test_payload_carries_what_a_workflow_needs(day: Day, module_warehouse: Any) -> None:
    st = module_warehouse.st
    new = {key_of(e): e for e in day.after if key_of(e) not in day.before}
    approved = next(e for k, e in new.items() if k[0] == "estimate_approved")
    estimate = st.get("estimates", approved["estimate_id"])
    payload = approved["payload"]
    assert payload["estimate"]["status"] == "Sold"
    assert Decimal(str(payload["estimate"]["subtotal"])) == _money(estimate["subtotal"])
    assert payload["customer"]["id"] == estimate["customerId"]
    assert payload["customer"]["name"] == st.get("customers", estimate["customerId"])["name"]
    phones = {
        "+1" + c["phoneSettings"]["phoneNumber"]
        for c in st.records("customer-contacts")
        if c["customerId"] == estimate["customerId"] and c["phoneSettings"] and c["active"]
    }
    assert payload["customer"]["phone"] in phones
    overdue = next(e for k, e in new.items() if k[0] == "invoice_overdue")
    assert Decimal(str(overdue["payload"]["invoice"]["balance"])) > 0
    due = st.get("invoices", overdue["invoice_id"])["dueDate"]
    assert overdue["payload"]["invoice"]["due_date"] == due[:10]
    appointment = next(e for k, e in new.items() if k[0] == "appointment_created")
    assigned = [
        a["technicianName"]
        for a in st.records("appointment-assignments")
        if a["appointmentId"] == appointment["appointment_id"] and a["active"]
    ]
    assert appointment["payload"]["appointment"]["technicians"] == assigned != []
    assert appointment["payload"]["appointment"]["technician"] == assigned[0]
    job = st.get("jobs", appointment["job_id"])
    assert appointment["payload"]["job"]["number"] == job["jobNumber"]


def test_the_marts_apply_the_shared_invoice_and_close_rate_rules(
    day: Day, module_warehouse: Any
) -> None:
    """What is owed and the close rate are SQL functions (migration 0010) that the workflow
    checks and tools call over the raw tables: the marts built from the same rows agree."""
    with module_warehouse.engine.connect() as conn:
        owed = conn.execute(
            sa.text(
                "select count(*) filter (where m.balance_due <> servicetitan.invoice_balance_due("
                "   i.tenant_id, i.customer_id, i.id, i.total, i.balance)),"
                " count(*) filter (where m.balance_due = 0 and i.balance > 0)"
                " from marts.invoices m join servicetitan.st_invoices i"
                " on i.tenant_id = m.tenant_id and i.id = m.invoice_id"
            )
        ).one()
        rates = conn.execute(
            sa.text(
                "select close_rate, estimates_sold, estimates_dismissed"
                " from marts.estimate_pipeline"
            )
        ).all()
    assert owed[0] == 0
    assert owed[1] > 0, "no invoice paid through payments while ServiceTitan shows a balance"
    assert any(r.estimates_sold and r.estimates_dismissed for r in rates)
    for rate, sold, dismissed in rates:
        expected = round(Decimal(sold) / (sold + dismissed), 4) if sold + dismissed else None
        assert rate == expected


def test_rebuilding_and_changing_records_emit_nothing_twice(
    day: Day, module_warehouse: Any
) -> None:
    wh, st = module_warehouse, module_warehouse.st
    wh.build(test=False)
    again = wh.events()
    assert [e["event_id"] for e in again] == [e["event_id"] for e in day.after]

    approved = next(e for e in again if e["event_type"] == "estimate_approved")
    completed = next(e for e in again if e["event_type"] == "job_completed")
    st.modify("estimates", approved["estimate_id"], name="Edited after approval", subtotal=1.0)
    st.modify("jobs", completed["job_id"], summary="Edited after completion")
    open_estimate = next(
        e for e in st.records("estimates") if e["status"]["name"] == "Open" and e["active"]
    )
    st.mutator().sell_estimate(open_estimate["id"], st.records("technicians").__next__()["id"])
    wh.sync()
    wh.build()
    newest = wh.events()[len(again) :]
    assert [key_of(e) for e in newest] == [("estimate_approved", open_estimate["id"], None)]
    assert len({e["event_id"] for e in wh.events()}) == len(wh.events())


def test_an_invoice_paid_after_its_7_day_event_gets_no_14_day_event(warehouse: Any) -> None:
    wh, st = warehouse, warehouse.st
    unpaid = [
        i
        for i in st.records("invoices")
        if i["active"] and _money(i["balance"]) > 0 and not _has_payment(st, i["id"])
    ][:2]
    due = format_date(ticks_of(_at(st.now()) - timedelta(days=8)))
    for invoice in unpaid:
        st.modify("invoices", invoice["id"], dueDate=due)
    wh.sync()
    wh.build(test=False)
    paid, still_unpaid = (i["id"] for i in unpaid)

    def thresholds(invoice_id: int) -> list[int]:
        rows = wh.events(event_type="invoice_overdue", invoice_id=invoice_id)
        return sorted(e["payload"]["threshold_days"] for e in rows)

    assert thresholds(paid) == thresholds(still_unpaid) == [1, 7]

    # Paid by a payment alone: the invoice record (its balance, its sync status) is unchanged.
    invoice = st.get("invoices", paid)
    st.mutator().create_like(
        "payments",
        {
            "total": invoice["balance"],
            "customer": invoice["customer"],
            "appliedTo": [
                {
                    "appliedAmount": invoice["balance"],
                    "appliedTo": paid,
                    "appliedOn": st.now(),
                    "appliedId": 1,
                }
            ],
            "active": True,
        },
    )
    wh.sync()
    wh.build(as_of=(_at(st.now()) + timedelta(days=8)).isoformat())
    assert thresholds(paid) == [1, 7]
    assert thresholds(still_unpaid) == [1, 7, 14]
