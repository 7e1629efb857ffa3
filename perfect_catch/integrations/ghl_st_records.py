"""The ServiceTitan rows a GHL push reads from the warehouse: customers and their phones and
emails, appointments, estimates and install jobs.

Install work is decided by the SQL function dbt's `install_job_created` event uses too
(`INSTALL_WORK`), so the push and the event never disagree about which jobs are installs.
"""

from __future__ import annotations

from typing import Any

import psycopg

from perfect_catch.integrations.db import fetch_all, fetch_one
from perfect_catch.phones import to_e164
from perfect_catch.settings import IntegrationSettings
from perfect_catch.warehouse.st_statuses import EstimateStatus

INSTALL_JOINS = (
    "left join servicetitan.st_job_types t on t.tenant_id = j.tenant_id and t.id = j.job_type_id "
    "left join servicetitan.st_business_units b "
    "on b.tenant_id = j.tenant_id and b.id = j.business_unit_id"
)
INSTALL_WORK = "integrations.is_install_work(t.name, b.name, %s, %s)"
"""Whether job `j` (with `INSTALL_JOINS`) is install work: the SQL function dbt's
`install_job_created` event uses too, given the job type and business unit patterns."""


def install_patterns(config: IntegrationSettings) -> tuple[list[str], list[str]]:
    """The parameters of `INSTALL_WORK`: job type patterns, then business unit patterns."""
    return list(config.install_job_types), list(config.install_business_units)


def customer(conn: psycopg.Connection, tenant_id: int, customer_id: int) -> dict[str, Any] | None:
    return fetch_one(
        conn,
        "select id, name, street, city, state, zip, merged_to_id "
        "from servicetitan.st_customers "
        "where tenant_id = %s and id = %s and deleted_at is null",
        (tenant_id, customer_id),
    )


def phones_and_emails(
    conn: psycopg.Connection, tenant_id: int, customer_id: int
) -> tuple[list[str], list[str]]:
    """The customer's active phones (E.164) and emails (lower case), each once, in ST order."""
    contacts = fetch_all(
        conn,
        "select type, value from servicetitan.st_customer_contacts "
        "where tenant_id = %s and customer_id = %s and deleted_at is null "
        "and coalesce(active, true) order by id",
        (tenant_id, customer_id),
    )
    phones = list(
        dict.fromkeys(
            p for p in (to_e164(c["value"]) for c in contacts if c["type"] != "Email") if p
        )
    )
    emails = list(
        dict.fromkeys(
            c["value"].strip().lower()
            for c in contacts
            if c["type"] == "Email" and c["value"] and "@" in c["value"]
        )
    )
    return phones, emails


def appointment(
    conn: psycopg.Connection, tenant_id: int, appointment_id: int
) -> dict[str, Any] | None:
    """The appointment with its customer (its own, else its job's)."""
    return fetch_one(
        conn,
        "select a.id, a.status, coalesce(a.customer_id, j.customer_id) as customer_id "
        "from servicetitan.st_appointments a left join servicetitan.st_jobs j "
        "on j.tenant_id = a.tenant_id and j.id = a.job_id "
        "where a.tenant_id = %s and a.id = %s and a.deleted_at is null",
        (tenant_id, appointment_id),
    )


def estimate(conn: psycopg.Connection, tenant_id: int, estimate_id: int) -> dict[str, Any] | None:
    return fetch_one(
        conn,
        "select id, customer_id, job_id, name, status, subtotal, created_on "
        "from servicetitan.st_estimates where tenant_id = %s and id = %s "
        "and deleted_at is null",
        (tenant_id, estimate_id),
    )


def install_job_of(
    conn: psycopg.Connection,
    tenant_id: int,
    estimate: dict[str, Any],
    patterns: tuple[list[str], list[str]],
) -> dict[str, Any] | None:
    """The install job sold from this estimate (by ST's own links), if there is one."""
    jobs = fetch_all(
        conn,
        f"select j.id, j.job_status, {INSTALL_WORK} as is_install "
        f"from servicetitan.st_jobs j {INSTALL_JOINS} "
        "where j.tenant_id = %s and j.deleted_at is null "
        "and (j.id = %s or j.created_from_estimate_id = %s) order by j.id",
        (*patterns, tenant_id, estimate["job_id"], estimate["id"]),
    )
    installs = [j for j in jobs if j["is_install"]]
    created_from = [j for j in installs if j["id"] != estimate["job_id"]]
    return (created_from or installs or [None])[0]


def job(
    conn: psycopg.Connection,
    tenant_id: int,
    job_id: int,
    patterns: tuple[list[str], list[str]],
) -> dict[str, Any] | None:
    """The job, the estimate it was created from, and whether it is install work."""
    return fetch_one(
        conn,
        f"select j.id, j.created_from_estimate_id, {INSTALL_WORK} as is_install "
        f"from servicetitan.st_jobs j {INSTALL_JOINS} "
        "where j.tenant_id = %s and j.id = %s and j.deleted_at is null",
        (*patterns, tenant_id, job_id),
    )


def sold_estimate_ids_of_job(
    conn: psycopg.Connection, tenant_id: int, job_id: int, created_from_estimate_id: int | None
) -> list[int]:
    """Sold estimates made on the job or the one it was created from, oldest id first."""
    rows = fetch_all(
        conn,
        "select id from servicetitan.st_estimates where tenant_id = %s and deleted_at is null "
        "and lower(status) = lower(%s) and (job_id = %s or id = %s) order by id",
        (tenant_id, EstimateStatus.SOLD, job_id, created_from_estimate_id),
    )
    return [row["id"] for row in rows]


def install_job_ids(
    conn: psycopg.Connection,
    tenant_id: int,
    job_ids: list[int],
    patterns: tuple[list[str], list[str]],
) -> list[int]:
    """Those of `job_ids` that are install work, in id order."""
    rows = conn.execute(
        f"select j.id from servicetitan.st_jobs j {INSTALL_JOINS} "
        f"where j.tenant_id = %s and j.id = any(%s) and {INSTALL_WORK} order by j.id",
        (tenant_id, job_ids, *patterns),
    ).fetchall()
    return [row[0] for row in rows]
