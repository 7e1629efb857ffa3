"""What is still owed on an invoice is one rule (migration 0010): the tools that read the raw
tables at workflow time agree with the `invoices` mart dbt builds, and an invoice ServiceTitan
still shows a balance on but whose applied payments cover it counts as paid."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.mcp.conftest import World


@pytest.fixture(scope="module")
def covered(world: World) -> dict:
    """An invoice of a live customer with a balance in ServiceTitan that payments cover."""
    found = world.rows(
        """select i.id, i.customer_id, i.balance
           from servicetitan.st_invoices i
           join marts.invoices m on m.tenant_id = i.tenant_id and m.invoice_id = i.id
           join servicetitan.st_customers c on c.tenant_id = i.tenant_id and c.id = i.customer_id
           where i.deleted_at is null and i.balance > 0 and m.balance_due = 0
             and c.active and c.merged_to_id is null and not coalesce(c.do_not_service, false)
           order by i.id limit 1"""
    )
    assert found, "the simulator seeds invoices paid before ServiceTitan's balance caught up"
    return found[0]


def test_the_raw_rule_equals_the_mart_for_every_invoice(world: World) -> None:
    differing = world.rows(
        """select m.invoice_id, m.balance_due,
                  servicetitan.invoice_balance_due(
                    i.tenant_id, i.customer_id, i.id, i.total, i.balance) as raw_due
           from marts.invoices m
           join servicetitan.st_invoices i on i.tenant_id = m.tenant_id and i.id = m.invoice_id
           where m.balance_due
             <> servicetitan.invoice_balance_due(
                  i.tenant_id, i.customer_id, i.id, i.total, i.balance)"""
    )
    assert differing == []
    assert world.scalar("select count(*) from marts.invoices where balance_due > 0") > 0


def test_lookup_customer_counts_a_covered_invoice_as_paid(world: World, covered: dict) -> None:
    found = world.ok("lookup_customer", {"customer_id": covered["customer_id"]})["customers"]
    detail = next(c for c in found if c["id"] == covered["customer_id"])
    owed = world.rows(
        "select coalesce(sum(balance_due), 0) as due, count(*) filter (where balance_due > 0) as n"
        " from marts.invoices where customer_id = :c",
        c=covered["customer_id"],
    )[0]
    raw = world.scalar(
        "select coalesce(sum(balance), 0) from servicetitan.st_invoices"
        " where customer_id = :c and deleted_at is null and balance > 0",
        c=covered["customer_id"],
    )
    assert detail["open_balance"] == pytest.approx(float(owed["due"]))
    assert detail["open_invoices"] == owed["n"]
    assert float(raw) - detail["open_balance"] >= float(covered["balance"])
    mart = {
        r["invoice_id"]: float(r["balance_due"])
        for r in world.rows(
            "select invoice_id, balance_due from marts.invoices where customer_id = :c",
            c=covered["customer_id"],
        )
    }
    shown = {i["id"]: float(i["balance"]) for i in detail["recent_invoices"]}
    assert shown
    assert shown == {invoice_id: mart[invoice_id] for invoice_id in shown}


def test_customer_insights_count_a_covered_invoice_as_paid(world: World, covered: dict) -> None:
    insights = world.ok("customer_insights", {"customer_id": covered["customer_id"]})
    paid = world.rows(
        "select coalesce(sum(total), 0) as value, count(*) as n from marts.invoices"
        " where customer_id = :c and total > 0 and balance_due = 0",
        c=covered["customer_id"],
    )[0]
    assert insights["lifetime_value"] == pytest.approx(float(paid["value"]))
    assert insights["paid_invoices"] == paid["n"]
    assert insights["open_balance"] == pytest.approx(
        float(
            world.scalar(
                "select coalesce(sum(balance_due), 0) from marts.invoices where customer_id = :c",
                c=covered["customer_id"],
            )
        )
    )


def test_followups_leave_out_covered_invoices(world: World, covered: dict) -> None:
    result = world.ok(
        "customers_needing_followup",
        {"reasons": ["overdue_invoice"], "as_of": "2030-01-01T00:00:00Z", "limit": 500},
    )
    listed = {f["ref_id"]: f["amount"] for f in result["followups"]}
    assert covered["id"] not in listed
    owed = {
        r["invoice_id"]: r["balance_due"]
        for r in world.rows(
            "select invoice_id, balance_due from marts.invoices where balance_due > 0"
        )
    }
    assert listed
    assert {ref: pytest.approx(float(owed[ref])) for ref in listed} == listed
