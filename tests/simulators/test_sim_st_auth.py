"""OAuth client credentials, bearer tokens, the app key and tenant checks."""

from __future__ import annotations

import time

import httpx


def _error_shape(body: dict) -> None:
    assert set(body) == {"type", "title", "status", "traceId", "errors", "data"}


def test_token_endpoint(server, st) -> None:
    env = server.env
    url = f"{env['ST_AUTH_URL']}/connect/token"
    good = {
        "grant_type": "client_credentials",
        "client_id": env["ST_CLIENT_ID"],
        "client_secret": env["ST_CLIENT_SECRET"],
    }
    response = httpx.post(url, data=good)
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900 and body["access_token"]
    assert httpx.post(url, data={**good, "client_secret": "nope"}).status_code in (400, 401)
    assert httpx.post(url, data={**good, "grant_type": "password"}).status_code == 400


def test_api_needs_token_app_key_and_known_tenant(st) -> None:
    url = st.url("crm", "export/customers")
    no_token = st.http.get(url, headers={"ST-App-Key": st.env["ST_APP_KEY"]})
    assert no_token.status_code == 401
    _error_shape(no_token.json())
    unknown = st.http.get(url, headers={**st.headers(), "Authorization": "Bearer forged"})
    assert unknown.status_code == 401
    bad_key = st.http.get(url, headers={**st.headers(), "ST-App-Key": "wrong"})
    assert bad_key.status_code in (401, 403)
    _error_shape(bad_key.json())
    other_tenant = st.http.get(st.url("crm", "export/customers", tenant=42), headers=st.headers())
    assert other_tenant.status_code in (403, 404)
    _error_shape(other_tenant.json())
    assert st.get("crm", "export/customers").status_code == 200


def test_expired_token_is_rejected(server, st_client_factory) -> None:
    server.set_faults(token_ttl_seconds=0.3)
    try:
        client = st_client_factory(server.env)
        assert client.get("settings", "export/technicians").status_code == 200
        time.sleep(0.5)
        expired = client.get("settings", "export/technicians")
        assert expired.status_code == 401
        client.token = client.fetch_token()
        assert client.get("settings", "export/technicians").status_code == 200
        server.system("servicetitan").expire_tokens()
        assert client.get("settings", "export/technicians").status_code == 401
        client.close()
    finally:
        server.set_faults(token_ttl_seconds=None)


def test_rate_limit_answers_429_with_wait_in_title(server_factory, st_client_factory) -> None:
    with server_factory(rate_limit=5) as limited:
        client = st_client_factory(limited.env)
        statuses = [client.get("jpm", "job-types") for _ in range(12)]
        refused = [r for r in statuses if r.status_code == 429]
        assert refused and sum(r.status_code == 200 for r in statuses) == 5
        title = refused[0].json()["title"]
        assert title.startswith("Too many requests") and title.endswith(" seconds.")
        assert int(title.split(" in ")[1].split()[0]) >= 1
        assert refused[0].headers["Retry-After"].isdigit()
        client.close()
