"""Export feeds: paging to the ground truth, ties, includeRecentChanges, dates, changes."""

from __future__ import annotations

from collections import Counter

import pytest

EXPORT_PAGE_SIZE = 37  # the `server` fixture's page size (tests/simulators/conftest.py)

FEEDS = [
    ("crm", "customers", "customers"),
    ("crm", "customers/contacts", "customer-contacts"),
    ("crm", "locations", "locations"),
    ("jpm", "jobs", "jobs"),
    ("jpm", "appointments", "appointments"),
    ("dispatch", "appointment-assignments", "appointment-assignments"),
    ("sales", "estimates", "estimates"),
    ("accounting", "invoices", "invoices"),
    ("accounting", "invoice-items", "invoice-items"),
    ("accounting", "payments", "payments"),
    ("equipmentsystems", "installed-equipment", "installed-equipment"),
    ("settings", "technicians", "technicians"),
    ("settings", "employees", "employees"),
    ("settings", "business-units", "business-units"),
    ("pricebook", "materials", "materials"),
    ("pricebook", "equipment", "pricebook-equipment"),
    ("pricebook", "services", "services"),
    ("pricebook", "categories", "categories"),
]


@pytest.mark.parametrize(("module", "resource", "entity"), FEEDS)
def test_full_export_equals_ground_truth(server, st, module, resource, entity) -> None:
    records, _, pages = st.export_all(module, resource)
    truth = list(server.system("servicetitan").records(entity))
    assert server.system("servicetitan").export_page_size == EXPORT_PAGE_SIZE
    assert records == truth
    ids = [r["id"] for r in records]
    assert len(ids) == len(set(ids))
    assert pages == len(truth) // EXPORT_PAGE_SIZE + 1


def test_spec_module_aliases(st) -> None:
    assert st.get("salestech", "export/estimates").status_code == 200
    assert st.get("equipment-systems", "export/installed-equipment").status_code == 200


def test_ties_straddle_page_boundaries(server, st) -> None:
    state = server.system("servicetitan")
    truth = list(state.records("customers"))
    straddling = [
        k
        for k in range(EXPORT_PAGE_SIZE, len(truth), EXPORT_PAGE_SIZE)
        if truth[k - 1]["modifiedOn"] == truth[k]["modifiedOn"]
    ]
    tied = state.create_tied("customers", EXPORT_PAGE_SIZE + 3)
    assert len({r["modifiedOn"] for r in tied}) == 1
    records, _, _ = st.export_all("crm", "customers")
    assert records == list(state.records("customers"))
    assert straddling or len(tied) > EXPORT_PAGE_SIZE


def test_incremental_export_sees_changes_after_the_token(server, st) -> None:
    state = server.system("servicetitan")
    _, token, _ = st.export_all("jpm", "jobs")
    empty = st.get("jpm", "export/jobs", **{"from": token}).json()
    assert empty == {"hasMore": False, "continueFrom": token, "data": []}
    totals = state.simulate_business_day()
    assert totals["new_jobs"] and totals["completed_jobs"]
    changed, token2, _ = st.export_all("jpm", "jobs", start=token)
    assert changed and token2 != token
    changed_ids = {r["id"] for r in changed}
    truth = {r["id"]: r for r in state.records("jobs")}
    assert changed == [truth[r["id"]] for r in changed]
    # Seed 1's first business day: three new jobs, two of them already completed.
    assert (totals["new_jobs"], totals["completed_jobs"], len(changed)) == (3, 2, 3)
    assert sum(r["jobStatus"] == "Completed" for r in changed) == totals["completed_jobs"]
    assert sum(r["jobStatus"] == "Scheduled" and r["createdOn"] >= "2025-06" for r in changed) == 1
    assert len(changed_ids) == len(changed)
    for module, resource in (
        ("accounting", "invoices"),
        ("sales", "estimates"),
        ("crm", "customers"),
        ("accounting", "payments"),
    ):
        assert st.export_all(module, resource, start=token_for(st, module, resource))[0] == []


def token_for(st, module: str, resource: str) -> str:
    """A token at the current end of a feed."""
    return st.export_all(module, resource)[1]


def test_include_recent_changes_repeats_records(server, st) -> None:
    state = server.system("servicetitan")
    _, token, _ = st.export_all("crm", "locations")
    ids = [r["id"] for r in list(state.records("locations"))[:60]]
    state.touch("locations", ids)
    plain, _, _ = st.export_all("crm", "locations", start=token)
    assert sorted(r["id"] for r in plain) == sorted(ids)
    recent, _, pages = st.export_all("crm", "locations", start=token, recent=True)
    counts = Counter(r["id"] for r in recent)
    assert pages >= 2 and set(ids) <= set(counts)
    assert max(counts.values()) > 1, "includeRecentChanges should repeat recent records"


def test_from_accepts_a_date(server, st) -> None:
    truth = list(server.system("servicetitan").records("invoices"))
    since = "2024-01-01"
    records, _, _ = st.export_all("accounting", "invoices", start=since)
    assert records == [r for r in truth if r["modifiedOn"] >= since]
    assert 0 < len(records) < len(truth)
    bad = st.get("accounting", "export/invoices", **{"from": "not-a-token"})
    assert bad.status_code == 400 and "from" in bad.json()["errors"]


def test_malformed_records_are_served_as_is(server, st) -> None:
    state = server.system("servicetitan")
    _, token, _ = st.export_all("crm", "customers")
    ids = [r["id"] for r in list(state.records("customers"))[5:9]]
    for record_id, kind in zip(
        ids, ("bad_modified_on", "missing_id", "nul_char", "wrong_type"), strict=True
    ):
        state.make_malformed("customers", record_id, kind)
    served, _, _ = st.export_all("crm", "customers", start=token)
    assert len(served) == 4
    assert served[0]["modifiedOn"].startswith("2025-13")
    assert "id" not in served[1]
    assert "\u0000" in served[2]["name"]
    assert served[3]["active"] == "yes" and isinstance(served[3]["id"], str)
    assert served == list(state.records("customers"))[-4:]
