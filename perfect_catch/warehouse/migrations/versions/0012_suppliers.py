"""Supplier prices: current offers, their history, the material map and cost update batches.

- `pricebook.vendor_products`: each supplier part's current offer (one row per vendor + SKU).
- `pricebook.vendor_prices`: the history; a row only when a part's price or availability
  changed since its last row, so a repeat refresh with nothing new adds nothing.
- `pricebook.material_vendor_map`: which supplier part a ServiceTitan material is, at each
  vendor, and how that was decided (override, vendor part, manufacturer part, fuzzy + score).
- `pricebook.cost_update_batches` / `pricebook.cost_updates`: proposed pricebook cost changes,
  applied only on request, each with the values it replaced so a batch can be rolled back.

Revision ID: 0012_suppliers
Revises: 0011_monitoring
"""

from __future__ import annotations

from alembic import op

revision = "0012_suppliers"
down_revision = "0011_monitoring"
branch_labels = None
depends_on = None

STATEMENTS = (
    """
    create table pricebook.vendor_products (
        vendor text not null,
        sku text not null,
        manufacturer_part text,
        description text,
        unit text,
        price numeric(12, 2) not null check (price > 0),
        availability text not null
            check (availability in ('in_stock', 'out_of_stock', 'unknown')),
        branch text,
        url text,
        fetched_at timestamptz not null,
        first_seen_at timestamptz not null default now(),
        primary key (vendor, sku)
    )
    """,
    """
    create table pricebook.vendor_prices (
        id bigserial primary key,
        vendor text not null,
        sku text not null,
        price numeric(12, 2) not null check (price > 0),
        availability text not null
            check (availability in ('in_stock', 'out_of_stock', 'unknown')),
        unit text,
        branch text,
        fetched_at timestamptz not null,
        recorded_at timestamptz not null default now()
    )
    """,
    "create index vendor_prices_part_idx on pricebook.vendor_prices (vendor, sku, id desc)",
    "create index vendor_prices_fetched_at_idx on pricebook.vendor_prices (fetched_at)",
    """
    create table pricebook.material_vendor_map (
        tenant_id bigint not null,
        material_id bigint not null,
        vendor text not null,
        sku text not null,
        match_method text not null
            check (match_method in ('override', 'vendor_part', 'manufacturer_part', 'fuzzy')),
        score numeric(5, 2),
        matched_on text,
        mapped_at timestamptz not null default now(),
        primary key (tenant_id, material_id, vendor)
    )
    """,
    "create index material_vendor_map_part_idx on pricebook.material_vendor_map (vendor, sku)",
    """
    create table pricebook.cost_update_batches (
        id text primary key,
        tenant_id bigint not null,
        threshold_pct numeric not null,
        status text not null default 'proposed'
            check (status in ('proposed', 'applied', 'rolled_back')),
        created_at timestamptz not null default now(),
        applied_at timestamptz,
        rolled_back_at timestamptz
    )
    """,
    """
    create table pricebook.cost_updates (
        batch_id text not null references pricebook.cost_update_batches (id),
        material_id bigint not null,
        vendor text not null,
        sku text not null,
        old_cost numeric(12, 2),
        new_cost numeric(12, 2) not null check (new_cost > 0),
        before jsonb,
        applied_at timestamptz,
        rolled_back_at timestamptz,
        primary key (batch_id, material_id)
    )
    """,
)
TABLES = (
    "pricebook.cost_updates",
    "pricebook.cost_update_batches",
    "pricebook.material_vendor_map",
    "pricebook.vendor_prices",
    "pricebook.vendor_products",
)


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in TABLES:
        op.execute(f"drop table if exists {table}")
