"""The GHL and CallRail simulators enforce what the real APIs enforce."""

from __future__ import annotations

import httpx


def test_ghl_requires_token_version_and_location(sim) -> None:
    env = sim.env
    url = f"{env['GHL_API_URL']}/opportunities/pipelines"
    good = {"Authorization": f"Bearer {env['GHL_TOKEN']}", "Version": "2021-07-28"}
    params = {"locationId": env["GHL_LOCATION_ID"]}
    ok = httpx.get(url, headers=good, params=params)
    assert ok.status_code == 200
    for name in (
        "X-RateLimit-Limit-Daily",
        "X-RateLimit-Daily-Remaining",
        "X-RateLimit-Max",
        "X-RateLimit-Remaining",
        "X-RateLimit-Interval-Milliseconds",
    ):
        assert name in ok.headers
    names = [p["name"] for p in ok.json()["pipelines"]]
    assert names == ["Sales Pipeline", "Install Pipeline"]
    assert (
        httpx.get(url, headers={**good, "Authorization": "Bearer x"}, params=params).status_code
        == 401
    )
    assert (
        httpx.get(url, headers={"Authorization": good["Authorization"]}, params=params).status_code
        == 400
    )
    assert httpx.get(url, headers=good, params={"locationId": "other"}).status_code == 403


def test_callrail_auth_fields_and_dates(sim) -> None:
    env = sim.env
    url = f"{env['CALLRAIL_API_URL']}/v3/a/{env['CALLRAIL_ACCOUNT_ID']}/calls.json"
    auth = {"Authorization": f'Token token="{env["CALLRAIL_API_KEY"]}"'}
    assert httpx.get(url, headers={"Authorization": 'Token token="nope"'}).status_code == 401
    assert httpx.get(url, headers=auth, params={"fields": "bogus"}).status_code == 400
    page = httpx.get(url, headers=auth, params={"per_page": 5, "fields": "lead_status,tags"}).json()
    assert page["total_pages"] == -(-page["total_records"] // 5)
    assert {"lead_status", "tags", "customer_phone_number", "start_time"} <= set(page["calls"][0])
    assert "company_name" not in page["calls"][0]
    state = sim.system("callrail")
    newest = max(c["_start"] for c in state.calls.values())
    recent = httpx.get(url, headers=auth, params={"start_date": newest.date().isoformat()}).json()
    assert 0 < recent["total_records"] < len(state.calls)
