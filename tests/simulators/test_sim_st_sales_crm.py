"""Estimate, pricebook and customer writes of the simulated ServiceTitan: each change is in the
next export, and bad requests get an `ApiErrorResponse` naming the field."""

from __future__ import annotations

from typing import Any

import pytest

SERVICE, MATERIAL, EQUIPMENT = 8001, 6003, 7002
ADDRESS = {"street": "1 Palm Ln", "city": "Mesa", "state": "AZ", "zip": "85201", "country": "USA"}


def _errors(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    body = response.json()
    assert set(body) == {"type", "title", "status", "traceId", "errors", "data"}
    return body["errors"]


def _sku(server, entity: str, sku_id: int) -> dict:  # type: ignore[no-untyped-def]
    return server.system("servicetitan").get(entity, sku_id)


def _scheduled_job(server) -> dict:  # type: ignore[no-untyped-def]
    jobs = server.system("servicetitan").store().iter_by_id("jobs")
    return next(j for j in jobs if j["jobStatus"] == "Scheduled")


def test_create_estimate_on_a_job(server, st) -> None:
    job = _scheduled_job(server)
    _, token, _ = st.export_all("sales", "estimates")
    body = {
        "jobId": job["id"],
        "name": "Pump replacement",
        "summary": "Replace the pump and clean the filter",
        "items": [
            {"skuId": SERVICE, "quantity": 1},
            {"skuId": MATERIAL, "quantity": 2, "description": "Skimmer baskets"},
            {"skuId": EQUIPMENT, "quantity": 1, "unitPrice": 999.5},
        ],
    }
    created = st.request("POST", "sales", "estimates", json=body)
    assert created.status_code == 200, created.text
    estimate = created.json()
    assert estimate["jobId"] == job["id"] and estimate["jobNumber"] == job["jobNumber"]
    assert estimate["customerId"] == job["customerId"]
    assert estimate["locationId"] == job["locationId"]
    assert estimate["status"] == {"value": 1, "name": "Open"}
    assert estimate["name"] == "Pump replacement"
    assert [i["sku"]["type"] for i in estimate["items"]] == ["Service", "Material", "Equipment"]
    service, material, equipment = estimate["items"]
    assert service["unitRate"] == _sku(server, "services", SERVICE)["price"]
    assert material["total"] == round(2 * _sku(server, "materials", MATERIAL)["price"], 2)
    assert material["description"] == "Skimmer baskets"
    assert equipment["unitRate"] == 999.5
    assert estimate["subtotal"] == round(sum(i["total"] for i in estimate["items"]), 2)
    exported, _, _ = st.export_all("sales", "estimates", start=token)
    assert [e["id"] for e in exported] == [estimate["id"]] and exported[0] == estimate
    assert estimate["id"] in st.get("jpm", f"jobs/{job['id']}").json()["estimateIds"]


def test_create_estimate_without_a_job(st) -> None:
    location = st.get("crm", "locations", customerId=10_000_040, active="Any").json()["data"][0]
    created = st.request(
        "POST", "sales", "estimates", json={"locationId": location["id"], "name": "Quote"}
    )
    assert created.status_code == 200, created.text
    estimate = created.json()
    assert estimate["jobId"] is None and estimate["customerId"] == 10_000_040
    assert estimate["items"] == [] and estimate["subtotal"] == 0


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"name": "x"}, 400, "locationId"),
        ({"jobId": 1}, 404, "jobId"),
        ({"locationId": 1}, 404, "locationId"),
        ({"jobId": "JOB", "locationId": 20_000_000}, 400, "locationId"),
        ({"jobId": "JOB", "items": [{"skuId": 1}]}, 400, "items[0].skuId"),
        ({"jobId": "JOB", "items": [{"skuId": SERVICE, "quantity": 0}]}, 400, "items[0].quantity"),
        (
            {"jobId": "JOB", "items": [{"skuId": SERVICE, "unitPrice": "x"}]},
            400,
            "items[0].unitPrice",
        ),
        ({"jobId": "JOB", "status": "Won"}, 400, "status"),
        ({"jobId": "JOB", "status": "Sold"}, 400, "soldBy"),
        ({"jobId": "JOB", "items": "many"}, 400, "items"),
    ],
)
def test_create_estimate_validation(server, st, body: dict, status: int, field: str) -> None:
    job = _scheduled_job(server)
    before = server.system("servicetitan").store().stats()
    body = {**body}
    if body.get("jobId") == "JOB":
        body["jobId"] = job["id"]
    response = st.request("POST", "sales", "estimates", json=body)
    assert response.status_code == status, response.text
    assert field in _errors(response)
    assert server.system("servicetitan").store().stats() == before


def _open_estimate(server) -> int:  # type: ignore[no-untyped-def]
    estimates = server.system("servicetitan").store().iter_by_id("estimates")
    return [e["id"] for e in estimates if e["status"]["name"] == "Open"][-1]


def test_estimate_items_take_any_sku_priced_from_the_pricebook(server, st) -> None:
    estimate_id = _open_estimate(server)
    for sku_id, entity, kind in (
        (MATERIAL, "materials", "Material"),
        (EQUIPMENT, "pricebook-equipment", "Equipment"),
        (SERVICE, "services", "Service"),
    ):
        added = st.request(
            "PUT", "sales", f"estimates/{estimate_id}/items", json={"skuId": sku_id, "quantity": 3}
        )
        assert added.status_code == 200, added.text
        item = added.json()
        assert item["sku"]["type"] == kind and item["estimateId"] == estimate_id
        assert item["unitRate"] == _sku(server, entity, sku_id)["price"]
        assert item["total"] == round(3 * item["unitRate"], 2)
    changed = st.request(
        "PUT", "sales", f"estimates/{estimate_id}/items", json={"id": item["id"], "unitPrice": 10}
    )
    assert changed.status_code == 200 and changed.json()["total"] == 30.0
    unknown = st.request("PUT", "sales", f"estimates/{estimate_id}/items", json={"skuId": 5})
    assert unknown.status_code == 400 and "skuId" in _errors(unknown)
    assert (
        st.request("PUT", "sales", "estimates/1/items", json={"skuId": SERVICE}).status_code == 404
    )


def test_sell_returns_the_estimate_and_dismiss_returns_no_body(server, st) -> None:
    estimates = server.system("servicetitan").store().iter_by_id("estimates")
    first, second = [e["id"] for e in estimates if e["status"]["name"] == "Open"][:2]
    sold = st.request("PUT", "sales", f"estimates/{first}/sell", json={"soldBy": 1001})
    assert sold.status_code == 200 and sold.json()["id"] == first
    assert sold.json()["soldBy"] == 1001 and sold.json()["soldOn"]
    dismissed = st.request("PUT", "sales", f"estimates/{second}/dismiss")
    assert dismissed.status_code == 200 and dismissed.content == b""
    assert st.get("sales", f"estimates/{second}").json()["status"]["name"] == "Dismissed"


@pytest.mark.parametrize(
    ("resource", "entity", "sku_id", "export"),
    [
        ("services", "services", SERVICE, "services"),
        ("materials", "materials", MATERIAL, "materials"),
        ("equipment", "pricebook-equipment", EQUIPMENT, "equipment"),
    ],
)
def test_pricebook_patch_is_in_the_next_export(
    server, st, resource: str, entity: str, sku_id: int, export: str
) -> None:
    _, token, _ = st.export_all("pricebook", export)
    changes: dict[str, Any] = {"price": 1234.5, "memberPrice": 1100.0, "displayName": "Renamed"}
    patched = st.request("PATCH", "pricebook", f"{resource}/{sku_id}", json=changes)
    assert patched.status_code == 200, patched.text
    assert {k: patched.json()[k] for k in changes} == changes
    exported, _, _ = st.export_all("pricebook", export, start=token)
    assert [r["id"] for r in exported] == [sku_id] and exported[0]["price"] == 1234.5
    line = st.request(
        "PUT", "sales", f"estimates/{_open_estimate(server)}/items", json={"skuId": sku_id}
    )
    assert line.status_code == 200 and line.json()["unitRate"] == 1234.5
    for bad, field in (
        ({"price": "cheap"}, "price"),
        ({"price": -1}, "price"),
        ({"active": "yes"}, "active"),
        ({"categories": [1]}, "categories"),
    ):
        refused = st.request("PATCH", "pricebook", f"{resource}/{sku_id}", json=bad)
        assert refused.status_code == 400 and field in _errors(refused)
    assert st.request("PATCH", "pricebook", f"{resource}/1", json={"price": 1}).status_code == 404
    assert _sku(server, entity, sku_id)["price"] == 1234.5


def test_pricebook_patch_refuses_a_duplicate_code(st) -> None:
    taken = st.get("pricebook", f"services/{SERVICE + 1}").json()["code"]
    refused = st.request("PATCH", "pricebook", f"services/{SERVICE}", json={"code": taken})
    assert refused.status_code == 400 and "code" in _errors(refused)


def _customer_body(**extra: Any) -> dict:
    return {
        "name": "Rosa Diaz",
        "type": "Residential",
        "address": ADDRESS,
        "contacts": [
            {"type": "MobilePhone", "value": "+1 (480) 555-0142", "memo": "cell"},
            {"type": "Email", "value": "rosa@example.com"},
        ],
        "locations": [
            {
                "name": "Rosa Diaz",
                "address": ADDRESS,
                "contacts": [{"type": "Phone", "value": "4805550143"}],
            },
            {"name": "Rosa Diaz - Rental", "address": {**ADDRESS, "street": "9 Elm St"}},
        ],
        **extra,
    }


def test_create_customer_with_locations_and_contacts(st) -> None:
    tokens = {
        resource: st.export_all("crm", resource)[1]
        for resource in ("customers", "locations", "customers/contacts")
    }
    created = st.request("POST", "crm", "customers", json=_customer_body())
    assert created.status_code == 200, created.text
    customer = created.json()
    assert customer["name"] == "Rosa Diaz" and customer["active"] is True
    assert customer["address"]["street"] == "1 Palm Ln"
    assert [loc["name"] for loc in customer["locations"]] == ["Rosa Diaz", "Rosa Diaz - Rental"]
    assert customer["locations"][0]["contacts"][0]["value"] == "4805550143"
    assert [c["type"] for c in customer["contacts"]] == ["MobilePhone", "Email"]

    def exported(resource: str) -> list[dict]:
        return st.export_all("crm", resource, start=tokens[resource])[0]

    assert [c["id"] for c in exported("customers")] == [customer["id"]]
    locations = exported("locations")
    assert [loc["id"] for loc in locations] == [loc["id"] for loc in customer["locations"]]
    assert {loc["customerId"] for loc in locations} == {customer["id"]}
    assert locations[1]["address"]["street"] == "9 Elm St"
    contacts = exported("customers/contacts")
    assert [(c["customerId"], c["type"], c["value"]) for c in contacts] == [
        (customer["id"], "MobilePhone", "+1 (480) 555-0142"),
        (customer["id"], "Email", "rosa@example.com"),
    ]
    assert contacts[0]["phoneSettings"]["phoneNumber"] == "4805550142"
    job = st.request(
        "POST",
        "jpm",
        "jobs",
        json={
            "customerId": customer["id"],
            "locationId": customer["locations"][1]["id"],
            "businessUnitId": 3000,
            "jobTypeId": 4001,
            "campaignId": 5000,
            "appointments": [{"start": "2026-05-04T15:00:00Z", "end": "2026-05-04T17:00:00Z"}],
        },
    )
    assert job.status_code == 200, job.text


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"name": ""}, "name"),
        ({"type": "Alien"}, "type"),
        ({"address": None}, "address"),
        ({"address": {**ADDRESS, "zip": ""}}, "address.zip"),
        ({"locations": []}, "locations"),
        ({"locations": [{"address": ADDRESS}]}, "locations[0].name"),
        ({"locations": [{"name": "x", "address": {"street": "1"}}]}, "locations[0].address.city"),
        ({"contacts": [{"type": "Pager", "value": "1"}]}, "contacts[0].type"),
        ({"contacts": [{"type": "Email", "value": " "}]}, "contacts[0].value"),
        ({"doNotMail": "no"}, "doNotMail"),
    ],
)
def test_create_customer_validation(server, st, changes: dict, field: str) -> None:
    before = server.system("servicetitan").store().stats()
    response = st.request("POST", "crm", "customers", json=_customer_body(**changes))
    assert response.status_code == 400, response.text
    assert field in _errors(response)
    assert server.system("servicetitan").store().stats() == before
