"""Paging through a large GHL location loses and repeats nothing, in both paging styles."""

from __future__ import annotations

from collections import Counter

import pytest
from integration_support import ghl_client, start_server

from perfect_catch.connectors.gohighlevel import GhlError

CONTACTS = 10_050


@pytest.fixture(scope="module")
def big_location():
    server = start_server(contact_count=CONTACTS, opportunity_count=250, burst_limit=100_000)
    try:
        yield server
    finally:
        server.stop()


def _assert_exact(ids: list[str], expected: set[str]) -> None:
    repeats = [i for i, n in Counter(ids).items() if n > 1]
    assert not repeats, f"{len(repeats)} contacts repeated"
    assert set(ids) == expected, f"{len(expected - set(ids))} contacts missing"


def test_search_after_pages_past_ten_thousand(big_location) -> None:
    expected = set(big_location.system("gohighlevel").contacts)
    with ghl_client(big_location) as client:
        ids = [
            c["id"]
            for page in client.search_contacts(
                sort=[{"field": "dateAdded", "direction": "asc"}], page_limit=500
            )
            for c in page.records
        ]
    assert len(expected) == CONTACTS
    _assert_exact(ids, expected)


def test_start_after_cursor_pages_every_contact(big_location) -> None:
    expected = set(big_location.system("gohighlevel").contacts)
    with ghl_client(big_location) as client:
        pages = list(client.list_contacts())
        ids = [c["id"] for page in pages for c in page.records]
    assert len(pages) > 1 and max(len(page.records) for page in pages) <= 100
    _assert_exact(ids, expected)


def test_page_numbers_stop_at_ten_thousand(big_location) -> None:
    with ghl_client(big_location) as client, pytest.raises(GhlError) as caught:
        for _ in client.search_contacts_by_page(page_limit=500):
            pass
    assert caught.value.status == 400
    assert "searchAfter" in str(caught.value)


def test_opportunity_meta_paging(big_location) -> None:
    expected = set(big_location.system("gohighlevel").opportunities)
    with ghl_client(big_location, page_size=40) as client:
        ids = [o["id"] for page in client.search_opportunities() for o in page]
    _assert_exact(ids, expected)


def test_medium_location_counts() -> None:
    from perfect_catch.simulators.gohighlevel import GhlState

    state = GhlState(seed=3, size="medium")
    assert (len(state.contacts), len(state.opportunities)) == (108, 218)
    again = GhlState(seed=3, size="medium")
    assert list(again.contacts) == list(state.contacts)
