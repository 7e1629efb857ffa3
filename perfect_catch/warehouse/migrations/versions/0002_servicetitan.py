"""ServiceTitan raw tables: one per entity, plus estimate and invoice items.

Every table has the primary key (tenant_id, id), typed columns derived from the record for the
queries and dbt models that need them, the whole API record in `raw`, and the bookkeeping
columns `modified_on` (the source's), `synced_at` (ours) and `deleted_at` (set when a full
refresh no longer finds the record). The DDL is spelled out here rather than derived from the
catalogue, so this revision keeps its meaning when the catalogue grows; a test checks that the
two agree.

Revision ID: 0002_servicetitan
Revises: 0001_foundation
"""

from __future__ import annotations

from alembic import op

revision = "0002_servicetitan"
down_revision = "0001_foundation"
branch_labels = None
depends_on = None

TABLES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (
        "servicetitan.st_customers",
        """
        create table servicetitan.st_customers (
            tenant_id bigint not null,
            id bigint not null,
            name text,
            type text,
            active boolean,
            balance numeric,
            do_not_mail boolean,
            do_not_service boolean,
            street text,
            city text,
            state text,
            zip text,
            merged_to_id bigint,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_customers_merged_to_id_idx"
            " on servicetitan.st_customers (tenant_id, merged_to_id)",
            "create index st_customers_modified_on_idx"
            " on servicetitan.st_customers (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_customer_contacts",
        """
        create table servicetitan.st_customer_contacts (
            tenant_id bigint not null,
            id bigint not null,
            customer_id bigint,
            type text,
            value text,
            memo text,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_customer_contacts_customer_id_idx"
            " on servicetitan.st_customer_contacts (tenant_id, customer_id)",
            "create index st_customer_contacts_value_idx"
            " on servicetitan.st_customer_contacts (tenant_id, value)",
            "create index st_customer_contacts_modified_on_idx"
            " on servicetitan.st_customer_contacts (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_locations",
        """
        create table servicetitan.st_locations (
            tenant_id bigint not null,
            id bigint not null,
            customer_id bigint,
            name text,
            active boolean,
            street text,
            city text,
            state text,
            zip text,
            zone_id bigint,
            merged_to_id bigint,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_locations_customer_id_idx"
            " on servicetitan.st_locations (tenant_id, customer_id)",
            "create index st_locations_merged_to_id_idx"
            " on servicetitan.st_locations (tenant_id, merged_to_id)",
            "create index st_locations_modified_on_idx"
            " on servicetitan.st_locations (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_jobs",
        """
        create table servicetitan.st_jobs (
            tenant_id bigint not null,
            id bigint not null,
            job_number text,
            customer_id bigint,
            location_id bigint,
            job_status text,
            business_unit_id bigint,
            job_type_id bigint,
            campaign_id bigint,
            priority text,
            sold_by_id bigint,
            invoice_id bigint,
            created_from_estimate_id bigint,
            total numeric,
            active boolean,
            completed_on timestamptz,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_jobs_customer_id_idx on servicetitan.st_jobs (tenant_id, customer_id)",
            "create index st_jobs_location_id_idx on servicetitan.st_jobs (tenant_id, location_id)",
            "create index st_jobs_business_unit_id_idx"
            " on servicetitan.st_jobs (tenant_id, business_unit_id)",
            "create index st_jobs_job_type_id_idx on servicetitan.st_jobs (tenant_id, job_type_id)",
            "create index st_jobs_campaign_id_idx on servicetitan.st_jobs (tenant_id, campaign_id)",
            "create index st_jobs_modified_on_idx on servicetitan.st_jobs (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_appointments",
        """
        create table servicetitan.st_appointments (
            tenant_id bigint not null,
            id bigint not null,
            job_id bigint,
            customer_id bigint,
            appointment_number text,
            status text,
            start_on timestamptz,
            end_on timestamptz,
            arrival_window_start timestamptz,
            arrival_window_end timestamptz,
            is_confirmed boolean,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_appointments_job_id_idx"
            " on servicetitan.st_appointments (tenant_id, job_id)",
            "create index st_appointments_customer_id_idx"
            " on servicetitan.st_appointments (tenant_id, customer_id)",
            "create index st_appointments_modified_on_idx"
            " on servicetitan.st_appointments (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_appointment_assignments",
        """
        create table servicetitan.st_appointment_assignments (
            tenant_id bigint not null,
            id bigint not null,
            appointment_id bigint,
            job_id bigint,
            technician_id bigint,
            technician_name text,
            status text,
            assigned_on timestamptz,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_appointment_assignments_appointment_id_idx"
            " on servicetitan.st_appointment_assignments (tenant_id, appointment_id)",
            "create index st_appointment_assignments_job_id_idx"
            " on servicetitan.st_appointment_assignments (tenant_id, job_id)",
            "create index st_appointment_assignments_technician_id_idx"
            " on servicetitan.st_appointment_assignments (tenant_id, technician_id)",
            "create index st_appointment_assignments_modified_on_idx"
            " on servicetitan.st_appointment_assignments (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_estimates",
        """
        create table servicetitan.st_estimates (
            tenant_id bigint not null,
            id bigint not null,
            job_id bigint,
            customer_id bigint,
            location_id bigint,
            name text,
            job_number text,
            status text,
            review_status text,
            sold_on timestamptz,
            sold_by bigint,
            subtotal numeric,
            tax numeric,
            business_unit_id bigint,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_estimates_job_id_idx on servicetitan.st_estimates (tenant_id, job_id)",
            "create index st_estimates_customer_id_idx"
            " on servicetitan.st_estimates (tenant_id, customer_id)",
            "create index st_estimates_location_id_idx"
            " on servicetitan.st_estimates (tenant_id, location_id)",
            "create index st_estimates_modified_on_idx"
            " on servicetitan.st_estimates (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_estimate_items",
        """
        create table servicetitan.st_estimate_items (
            tenant_id bigint not null,
            id bigint not null,
            estimate_id bigint not null,
            sku_id bigint,
            sku_name text,
            sku_type text,
            description text,
            qty numeric,
            unit_rate numeric,
            total numeric,
            unit_cost numeric,
            total_cost numeric,
            invoice_item_id bigint,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_estimate_items_estimate_id_idx"
            " on servicetitan.st_estimate_items (tenant_id, estimate_id)",
            "create index st_estimate_items_sku_id_idx"
            " on servicetitan.st_estimate_items (tenant_id, sku_id)",
            "create index st_estimate_items_modified_on_idx"
            " on servicetitan.st_estimate_items (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_invoices",
        """
        create table servicetitan.st_invoices (
            tenant_id bigint not null,
            id bigint not null,
            reference_number text,
            customer_id bigint,
            location_id bigint,
            job_id bigint,
            business_unit_id bigint,
            invoice_date timestamptz,
            due_date timestamptz,
            sub_total numeric,
            sales_tax numeric,
            total numeric,
            balance numeric,
            paid_on timestamptz,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_invoices_customer_id_idx"
            " on servicetitan.st_invoices (tenant_id, customer_id)",
            "create index st_invoices_location_id_idx"
            " on servicetitan.st_invoices (tenant_id, location_id)",
            "create index st_invoices_job_id_idx on servicetitan.st_invoices (tenant_id, job_id)",
            "create index st_invoices_modified_on_idx"
            " on servicetitan.st_invoices (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_invoice_items",
        """
        create table servicetitan.st_invoice_items (
            tenant_id bigint not null,
            id bigint not null,
            invoice_id bigint not null,
            sku_id bigint,
            sku_name text,
            type text,
            description text,
            quantity numeric,
            price numeric,
            total numeric,
            cost numeric,
            total_cost numeric,
            technician_id bigint,
            estimate_item_id bigint,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_invoice_items_invoice_id_idx"
            " on servicetitan.st_invoice_items (tenant_id, invoice_id)",
            "create index st_invoice_items_sku_id_idx"
            " on servicetitan.st_invoice_items (tenant_id, sku_id)",
            "create index st_invoice_items_modified_on_idx"
            " on servicetitan.st_invoice_items (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_payments",
        """
        create table servicetitan.st_payments (
            tenant_id bigint not null,
            id bigint not null,
            customer_id bigint,
            type text,
            total numeric,
            unapplied_amount numeric,
            reference_number text,
            paid_on timestamptz,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_payments_customer_id_idx"
            " on servicetitan.st_payments (tenant_id, customer_id)",
            "create index st_payments_modified_on_idx"
            " on servicetitan.st_payments (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_installed_equipment",
        """
        create table servicetitan.st_installed_equipment (
            tenant_id bigint not null,
            id bigint not null,
            location_id bigint,
            customer_id bigint,
            equipment_id bigint,
            name text,
            manufacturer text,
            model text,
            serial_number text,
            cost numeric,
            installed_on timestamptz,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_installed_equipment_location_id_idx"
            " on servicetitan.st_installed_equipment (tenant_id, location_id)",
            "create index st_installed_equipment_customer_id_idx"
            " on servicetitan.st_installed_equipment (tenant_id, customer_id)",
            "create index st_installed_equipment_modified_on_idx"
            " on servicetitan.st_installed_equipment (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_technicians",
        """
        create table servicetitan.st_technicians (
            tenant_id bigint not null,
            id bigint not null,
            user_id bigint,
            name text,
            email text,
            phone_number text,
            business_unit_id bigint,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_technicians_business_unit_id_idx"
            " on servicetitan.st_technicians (tenant_id, business_unit_id)",
            "create index st_technicians_modified_on_idx"
            " on servicetitan.st_technicians (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_employees",
        """
        create table servicetitan.st_employees (
            tenant_id bigint not null,
            id bigint not null,
            user_id bigint,
            name text,
            email text,
            phone_number text,
            role text,
            business_unit_id bigint,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_employees_business_unit_id_idx"
            " on servicetitan.st_employees (tenant_id, business_unit_id)",
            "create index st_employees_modified_on_idx"
            " on servicetitan.st_employees (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_business_units",
        """
        create table servicetitan.st_business_units (
            tenant_id bigint not null,
            id bigint not null,
            name text,
            official_name text,
            email text,
            phone_number text,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_business_units_modified_on_idx"
            " on servicetitan.st_business_units (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_job_types",
        """
        create table servicetitan.st_job_types (
            tenant_id bigint not null,
            id bigint not null,
            name text,
            priority text,
            class text,
            duration bigint,
            sold_threshold numeric,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_job_types_modified_on_idx"
            " on servicetitan.st_job_types (tenant_id, modified_on)",
        ),
    ),
    (
        "servicetitan.st_campaigns",
        """
        create table servicetitan.st_campaigns (
            tenant_id bigint not null,
            id bigint not null,
            name text,
            category_id bigint,
            category_name text,
            source text,
            medium text,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index st_campaigns_modified_on_idx"
            " on servicetitan.st_campaigns (tenant_id, modified_on)",
        ),
    ),
    (
        "pricebook.materials",
        """
        create table pricebook.materials (
            tenant_id bigint not null,
            id bigint not null,
            code text,
            display_name text,
            description text,
            active boolean,
            price numeric,
            member_price numeric,
            cost numeric,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        ("create index materials_modified_on_idx on pricebook.materials (tenant_id, modified_on)",),
    ),
    (
        "pricebook.equipment",
        """
        create table pricebook.equipment (
            tenant_id bigint not null,
            id bigint not null,
            code text,
            display_name text,
            description text,
            active boolean,
            price numeric,
            member_price numeric,
            cost numeric,
            created_on timestamptz,
            manufacturer text,
            model text,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        ("create index equipment_modified_on_idx on pricebook.equipment (tenant_id, modified_on)",),
    ),
    (
        "pricebook.services",
        """
        create table pricebook.services (
            tenant_id bigint not null,
            id bigint not null,
            code text,
            display_name text,
            description text,
            active boolean,
            price numeric,
            member_price numeric,
            cost numeric,
            created_on timestamptz,
            hours numeric,
            business_unit_id bigint,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        ("create index services_modified_on_idx on pricebook.services (tenant_id, modified_on)",),
    ),
    (
        "pricebook.categories",
        """
        create table pricebook.categories (
            tenant_id bigint not null,
            id bigint not null,
            name text,
            description text,
            parent_id bigint,
            position bigint,
            category_type text,
            active boolean,
            created_on timestamptz,
            raw jsonb not null,
            modified_on timestamptz not null,
            synced_at timestamptz not null,
            deleted_at timestamptz,
            primary key (tenant_id, id)
        )
        """,
        (
            "create index categories_parent_id_idx on pricebook.categories (tenant_id, parent_id)",
            "create index categories_modified_on_idx"
            " on pricebook.categories (tenant_id, modified_on)",
        ),
    ),
)


def upgrade() -> None:
    for _, create, indexes in TABLES:
        op.execute(create)
        for index in indexes:
            op.execute(index)


def downgrade() -> None:
    for table, _, _ in reversed(TABLES):
        op.execute(f"drop table if exists {table}")
