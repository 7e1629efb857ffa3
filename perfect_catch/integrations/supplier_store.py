"""Storing fetched supplier prices: the current offer per part, and a history row on change.

A refresh is stored whole or not at all (one transaction per supplier), so a run that fails
half way leaves the previous offers in place. History gets a row only when a part's price or
availability differs from its last history row: running the refresh again with nothing new
adds nothing, however often it runs. Refreshes of one supplier are serialised by an advisory
lock, so two overlapping runs cannot both record the same change.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from perfect_catch.connectors.suppliers.records import SupplierPrice
from perfect_catch.integrations.db import connection

_INCOMING = """
    create temp table incoming_vendor_products (
        vendor text, sku text, manufacturer_part text, description text, unit text,
        price numeric(12, 2), availability text, branch text, url text, fetched_at timestamptz
    ) on commit drop
"""
_HISTORY = """
    insert into pricebook.vendor_prices (vendor, sku, price, availability, unit, branch, fetched_at)
    select n.vendor, n.sku, n.price, n.availability, n.unit, n.branch, n.fetched_at
    from incoming_vendor_products n
    left join lateral (
        select p.price, p.availability from pricebook.vendor_prices p
        where p.vendor = n.vendor and p.sku = n.sku
        order by p.id desc limit 1
    ) last on true
    where last.price is null or last.price <> n.price or last.availability <> n.availability
"""
_CURRENT = """
    insert into pricebook.vendor_products as v (vendor, sku, manufacturer_part, description, unit,
        price, availability, branch, url, fetched_at)
    select vendor, sku, manufacturer_part, description, unit, price, availability, branch, url,
        fetched_at
    from incoming_vendor_products
    on conflict (vendor, sku) do update set
        manufacturer_part = excluded.manufacturer_part,
        description = excluded.description,
        unit = excluded.unit,
        price = excluded.price,
        availability = excluded.availability,
        branch = excluded.branch,
        url = excluded.url,
        fetched_at = excluded.fetched_at
    where v.fetched_at <= excluded.fetched_at
"""


@dataclass(frozen=True)
class StoreResult:
    offers: int
    history_rows: int


def store_prices(engine: sa.Engine, supplier: str, records: Sequence[SupplierPrice]) -> StoreResult:
    """Upsert the offers and add history rows for what changed, in one transaction."""
    unique = {r.sku: r for r in records if r.supplier == supplier}
    if len(unique) != len({r.sku for r in records}):
        raise ValueError(f"records of another supplier were passed to the {supplier} store")
    with connection(engine) as conn, conn.transaction():
        conn.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"supplier:{supplier}",))
        conn.execute(_INCOMING)
        with conn.cursor() as cur:
            cur.executemany(
                "insert into incoming_vendor_products values (%s, %s, %s, %s, %s, %s, %s, %s, "
                "%s, %s)",
                [
                    (
                        r.supplier,
                        r.sku,
                        r.manufacturer_part,
                        r.description,
                        r.unit,
                        r.price,
                        r.availability,
                        r.branch,
                        r.url,
                        r.fetched_at,
                    )
                    for r in unique.values()
                ],
            )
            cur.execute(_HISTORY)
            history = cur.rowcount
            cur.execute(_CURRENT)
    return StoreResult(offers=len(unique), history_rows=max(0, history))
