"""The catalogue of ServiceTitan entities the warehouse copies.

One `EntitySpec` per entity says where its records come from (API module, export or list
resource), which table they land in, and which typed columns are derived from the raw record.
The loader, the sync engine, the Dagster assets and the schema test all read this one list, so
adding an entity is one `EntitySpec` here plus its table in a migration.

Typed columns are SQL expressions over the jsonb record, built from a fixed set of types and
JSON paths that are checked here at import time: nothing from an API response ever becomes part
of an SQL identifier.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

SOURCE = "servicetitan"

ColumnType = Literal["bigint", "text", "numeric", "boolean", "timestamptz", "date", "jsonb"]
_TYPES: frozenset[str] = frozenset(
    ("bigint", "text", "numeric", "boolean", "timestamptz", "date", "jsonb")
)
_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_JSON_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

#: Columns every raw table has besides its typed ones, in table order.
KEY_COLUMNS: tuple[tuple[str, str], ...] = (("tenant_id", "bigint"), ("id", "bigint"))
META_COLUMNS: tuple[tuple[str, str], ...] = (
    ("raw", "jsonb"),
    ("modified_on", "timestamptz"),
    ("synced_at", "timestamptz"),
    ("deleted_at", "timestamptz"),
)


@dataclass(frozen=True)
class Column:
    """A typed column: `name` in the table, read from `path` (JSON keys) in the record."""

    name: str
    type: ColumnType
    path: tuple[str, ...]
    index: bool = False

    def __post_init__(self) -> None:
        if not _IDENT.match(self.name):
            raise ValueError(f"bad column name {self.name!r}")
        if self.type not in _TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")
        if not self.path or not all(_JSON_KEY.match(key) for key in self.path):
            raise ValueError(f"column {self.name}: bad JSON path {self.path!r}")

    def expr(self, record: str = "raw") -> str:
        """The SQL expression that reads this column from the jsonb value `record`."""
        if len(self.path) == 1:
            getter_text = f"{record} ->> '{self.path[0]}'"
            getter_json = f"{record} -> '{self.path[0]}'"
        else:
            joined = ",".join(self.path)
            getter_text = f"{record} #>> '{{{joined}}}'"
            getter_json = f"{record} #> '{{{joined}}}'"
        if self.type == "text":
            return f"({getter_text})"
        if self.type == "jsonb":
            return f"({getter_json})"
        return f"({getter_text})::{self.type}"


def col(name: str, type_: ColumnType, path: str, *, index: bool = False) -> Column:
    """Shorthand: `col("customer_id", "bigint", "customer.id")` (dots separate JSON keys)."""
    return Column(name, type_, tuple(path.split(".")), index)


@dataclass(frozen=True)
class ChildSpec:
    """Rows derived from an array embedded in the parent record (estimate and invoice items).

    They are replaced as a whole whenever the parent row is written, so an item removed at the
    source disappears here too.
    """

    schema: str
    table: str
    array_field: str
    parent_column: str
    columns: tuple[Column, ...]

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


@dataclass(frozen=True)
class EntitySpec:
    """One ServiceTitan entity: its source endpoint, its table and its typed columns.

    `kind` is "export" for entities read through the export feed (continuation tokens), or "list"
    for the few that have no export endpoint and are paged by `modifiedOnOrAfter`.
    `modified_fields` lists the record fields tried, in order, for the row's `modified_on`
    (invoices may carry a null `modifiedOn`).
    """

    name: str
    module: str
    resource: str
    kind: Literal["export", "list"]
    schema: str
    table: str
    columns: tuple[Column, ...]
    children: tuple[ChildSpec, ...] = ()
    modified_fields: tuple[str, ...] = ("modifiedOn",)
    source: str = SOURCE
    description: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        for ident in (self.schema, self.table, *(c.name for c in self.columns)):
            if not _IDENT.match(ident):
                raise ValueError(f"{self.name}: bad identifier {ident!r}")

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.table}"


def _address(prefix: str, path: str) -> tuple[Column, ...]:
    return (
        col(f"{prefix}street", "text", f"{path}.street"),
        col(f"{prefix}city", "text", f"{path}.city"),
        col(f"{prefix}state", "text", f"{path}.state"),
        col(f"{prefix}zip", "text", f"{path}.zip"),
    )


_ST = "servicetitan"
_PB = "pricebook"

_SKU_COLUMNS: tuple[Column, ...] = (
    col("code", "text", "code"),
    col("display_name", "text", "displayName"),
    col("description", "text", "description"),
    col("active", "boolean", "active"),
    col("price", "numeric", "price"),
    col("member_price", "numeric", "memberPrice"),
    col("cost", "numeric", "cost"),
    col("created_on", "timestamptz", "createdOn"),
)

ESTIMATE_ITEMS = ChildSpec(
    schema=_ST,
    table="st_estimate_items",
    array_field="items",
    parent_column="estimate_id",
    columns=(
        col("sku_id", "bigint", "sku.id", index=True),
        col("sku_name", "text", "sku.name"),
        col("sku_type", "text", "sku.type"),
        col("description", "text", "description"),
        col("qty", "numeric", "qty"),
        col("unit_rate", "numeric", "unitRate"),
        col("total", "numeric", "total"),
        col("unit_cost", "numeric", "unitCost"),
        col("total_cost", "numeric", "totalCost"),
        col("invoice_item_id", "bigint", "invoiceItemId"),
        col("created_on", "timestamptz", "createdOn"),
    ),
)

INVOICE_ITEMS = ChildSpec(
    schema=_ST,
    table="st_invoice_items",
    array_field="items",
    parent_column="invoice_id",
    columns=(
        col("sku_id", "bigint", "skuId", index=True),
        col("sku_name", "text", "skuName"),
        col("type", "text", "type"),
        col("description", "text", "description"),
        col("quantity", "numeric", "quantity"),
        col("price", "numeric", "price"),
        col("total", "numeric", "total"),
        col("cost", "numeric", "cost"),
        col("total_cost", "numeric", "totalCost"),
        col("technician_id", "bigint", "technicianId"),
        col("estimate_item_id", "bigint", "estimateItemId"),
        col("created_on", "timestamptz", "createdOn"),
    ),
)

ENTITIES: tuple[EntitySpec, ...] = (
    EntitySpec(
        name="customers",
        module="crm",
        resource="customers",
        kind="export",
        schema=_ST,
        table="st_customers",
        columns=(
            col("name", "text", "name"),
            col("type", "text", "type"),
            col("active", "boolean", "active"),
            col("balance", "numeric", "balance"),
            col("do_not_mail", "boolean", "doNotMail"),
            col("do_not_service", "boolean", "doNotService"),
            *_address("", "address"),
            col("merged_to_id", "bigint", "mergedToId", index=True),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="customer_contacts",
        module="crm",
        resource="customers/contacts",
        kind="export",
        schema=_ST,
        table="st_customer_contacts",
        columns=(
            col("customer_id", "bigint", "customerId", index=True),
            col("type", "text", "type"),
            col("value", "text", "value", index=True),
            col("memo", "text", "memo"),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="locations",
        module="crm",
        resource="locations",
        kind="export",
        schema=_ST,
        table="st_locations",
        columns=(
            col("customer_id", "bigint", "customerId", index=True),
            col("name", "text", "name"),
            col("active", "boolean", "active"),
            *_address("", "address"),
            col("zone_id", "bigint", "zoneId"),
            col("merged_to_id", "bigint", "mergedToId", index=True),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="jobs",
        module="jpm",
        resource="jobs",
        kind="export",
        schema=_ST,
        table="st_jobs",
        columns=(
            col("job_number", "text", "jobNumber"),
            col("customer_id", "bigint", "customerId", index=True),
            col("location_id", "bigint", "locationId", index=True),
            col("job_status", "text", "jobStatus"),
            col("business_unit_id", "bigint", "businessUnitId", index=True),
            col("job_type_id", "bigint", "jobTypeId", index=True),
            col("campaign_id", "bigint", "campaignId", index=True),
            col("priority", "text", "priority"),
            col("sold_by_id", "bigint", "soldById"),
            col("invoice_id", "bigint", "invoiceId"),
            col("created_from_estimate_id", "bigint", "createdFromEstimateId"),
            col("total", "numeric", "total"),
            col("active", "boolean", "active"),
            col("completed_on", "timestamptz", "completedOn"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="appointments",
        module="jpm",
        resource="appointments",
        kind="export",
        schema=_ST,
        table="st_appointments",
        columns=(
            col("job_id", "bigint", "jobId", index=True),
            col("customer_id", "bigint", "customerId", index=True),
            col("appointment_number", "text", "appointmentNumber"),
            col("status", "text", "status"),
            col("start_on", "timestamptz", "start"),
            col("end_on", "timestamptz", "end"),
            col("arrival_window_start", "timestamptz", "arrivalWindowStart"),
            col("arrival_window_end", "timestamptz", "arrivalWindowEnd"),
            col("is_confirmed", "boolean", "isConfirmed"),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="appointment_assignments",
        module="dispatch",
        resource="appointment-assignments",
        kind="export",
        schema=_ST,
        table="st_appointment_assignments",
        columns=(
            col("appointment_id", "bigint", "appointmentId", index=True),
            col("job_id", "bigint", "jobId", index=True),
            col("technician_id", "bigint", "technicianId", index=True),
            col("technician_name", "text", "technicianName"),
            col("status", "text", "status"),
            col("assigned_on", "timestamptz", "assignedOn"),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="estimates",
        module="sales",
        resource="estimates",
        kind="export",
        schema=_ST,
        table="st_estimates",
        columns=(
            col("job_id", "bigint", "jobId", index=True),
            col("customer_id", "bigint", "customerId", index=True),
            col("location_id", "bigint", "locationId", index=True),
            col("name", "text", "name"),
            col("job_number", "text", "jobNumber"),
            col("status", "text", "status.name"),
            col("review_status", "text", "reviewStatus"),
            col("sold_on", "timestamptz", "soldOn"),
            col("sold_by", "bigint", "soldBy"),
            col("subtotal", "numeric", "subtotal"),
            col("tax", "numeric", "tax"),
            col("business_unit_id", "bigint", "businessUnitId"),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
        children=(ESTIMATE_ITEMS,),
    ),
    EntitySpec(
        name="invoices",
        module="accounting",
        resource="invoices",
        kind="export",
        schema=_ST,
        table="st_invoices",
        columns=(
            col("reference_number", "text", "referenceNumber"),
            col("customer_id", "bigint", "customer.id", index=True),
            col("location_id", "bigint", "location.id", index=True),
            col("job_id", "bigint", "job.id", index=True),
            col("business_unit_id", "bigint", "businessUnit.id"),
            col("invoice_date", "timestamptz", "invoiceDate"),
            col("due_date", "timestamptz", "dueDate"),
            col("sub_total", "numeric", "subTotal"),
            col("sales_tax", "numeric", "salesTax"),
            col("total", "numeric", "total"),
            col("balance", "numeric", "balance"),
            col("paid_on", "timestamptz", "paidOn"),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
        children=(INVOICE_ITEMS,),
        modified_fields=("modifiedOn", "createdOn"),
    ),
    EntitySpec(
        name="payments",
        module="accounting",
        resource="payments",
        kind="export",
        schema=_ST,
        table="st_payments",
        columns=(
            col("customer_id", "bigint", "customer.id", index=True),
            col("type", "text", "type"),
            col("total", "numeric", "total"),
            col("unapplied_amount", "numeric", "unappliedAmount"),
            col("reference_number", "text", "referenceNumber"),
            col("paid_on", "timestamptz", "date"),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="installed_equipment",
        module="equipmentsystems",
        resource="installed-equipment",
        kind="export",
        schema=_ST,
        table="st_installed_equipment",
        columns=(
            col("location_id", "bigint", "locationId", index=True),
            col("customer_id", "bigint", "customerId", index=True),
            col("equipment_id", "bigint", "equipmentId"),
            col("name", "text", "name"),
            col("manufacturer", "text", "manufacturer"),
            col("model", "text", "model"),
            col("serial_number", "text", "serialNumber"),
            col("cost", "numeric", "cost"),
            col("installed_on", "timestamptz", "installedOn"),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="technicians",
        module="settings",
        resource="technicians",
        kind="export",
        schema=_ST,
        table="st_technicians",
        columns=(
            col("user_id", "bigint", "userId"),
            col("name", "text", "name"),
            col("email", "text", "email"),
            col("phone_number", "text", "phoneNumber"),
            col("business_unit_id", "bigint", "businessUnitId", index=True),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="employees",
        module="settings",
        resource="employees",
        kind="export",
        schema=_ST,
        table="st_employees",
        columns=(
            col("user_id", "bigint", "userId"),
            col("name", "text", "name"),
            col("email", "text", "email"),
            col("phone_number", "text", "phoneNumber"),
            col("role", "text", "role"),
            col("business_unit_id", "bigint", "businessUnitId", index=True),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="business_units",
        module="settings",
        resource="business-units",
        kind="export",
        schema=_ST,
        table="st_business_units",
        columns=(
            col("name", "text", "name"),
            col("official_name", "text", "officialName"),
            col("email", "text", "email"),
            col("phone_number", "text", "phoneNumber"),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="job_types",
        module="jpm",
        resource="job-types",
        kind="list",
        schema=_ST,
        table="st_job_types",
        columns=(
            col("name", "text", "name"),
            col("priority", "text", "priority"),
            col("class", "text", "class"),
            col("duration", "bigint", "duration"),
            col("sold_threshold", "numeric", "soldThreshold"),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="campaigns",
        module="marketing",
        resource="campaigns",
        kind="list",
        schema=_ST,
        table="st_campaigns",
        columns=(
            col("name", "text", "name"),
            col("category_id", "bigint", "category.id"),
            col("category_name", "text", "category.name"),
            col("source", "text", "source"),
            col("medium", "text", "medium"),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
    EntitySpec(
        name="pricebook_materials",
        module="pricebook",
        resource="materials",
        kind="export",
        schema=_PB,
        table="materials",
        columns=_SKU_COLUMNS,
    ),
    EntitySpec(
        name="pricebook_equipment",
        module="pricebook",
        resource="equipment",
        kind="export",
        schema=_PB,
        table="equipment",
        columns=(
            *_SKU_COLUMNS,
            col("manufacturer", "text", "manufacturer"),
            col("model", "text", "model"),
        ),
    ),
    EntitySpec(
        name="pricebook_services",
        module="pricebook",
        resource="services",
        kind="export",
        schema=_PB,
        table="services",
        columns=(
            *_SKU_COLUMNS,
            col("hours", "numeric", "hours"),
            col("business_unit_id", "bigint", "businessUnitId"),
        ),
    ),
    EntitySpec(
        name="pricebook_categories",
        module="pricebook",
        resource="categories",
        kind="export",
        schema=_PB,
        table="categories",
        columns=(
            col("name", "text", "name"),
            col("description", "text", "description"),
            col("parent_id", "bigint", "parentId", index=True),
            col("position", "bigint", "position"),
            col("category_type", "text", "categoryType"),
            col("active", "boolean", "active"),
            col("created_on", "timestamptz", "createdOn"),
        ),
    ),
)

BY_NAME: dict[str, EntitySpec] = {spec.name: spec for spec in ENTITIES}

EVENT_ENTITIES: tuple[str, ...] = (
    "customers",
    "customer_contacts",
    "locations",
    "jobs",
    "appointments",
    "appointment_assignments",
    "estimates",
    "invoices",
    "payments",
)
"""The entities the business events are built from: the event lane
(`ST_EVENT_SYNC_INTERVAL_SECONDS`) syncs these, and the incremental schedule leaves them to it."""


def get_entity(name: str) -> EntitySpec:
    """The spec named `name`, or a KeyError that lists the known names."""
    try:
        return BY_NAME[name]
    except KeyError:
        raise KeyError(f"unknown ServiceTitan entity {name!r}; known: {sorted(BY_NAME)}") from None
