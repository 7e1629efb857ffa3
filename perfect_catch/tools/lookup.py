"""Finding things in the warehouse the way people name them: a customer by phone in any
format, a job type or technician by name. Writes resolve their references here first, so a
typo becomes a clear "did you mean" error before anything reaches ServiceTitan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from perfect_catch.phones import to_e164
from perfect_catch.tools.errors import NotFoundError, ToolInputError

_NON_DIGITS = re.compile(r"\D")


def normalize_phone(phone: str) -> str:
    """What a contact's E.164 must end with to match `phone`: the whole E.164 of a number in any
    format ('+1 (480) 555-2894' -> +14805552894), or the digits of a partial one ('555-2894').

    Contacts are compared by their E.164 (`integrations.e164`, the rule of `perfect_catch.phones`),
    so a number typed in any format finds the contact stored in any other."""
    number = to_e164(phone)
    if number is not None:
        return number
    digits = _NON_DIGITS.sub("", phone)
    if len(digits) < 7:
        raise ToolInputError(f"{phone!r} is not a phone number (need at least 7 digits)")
    return digits


def rows(conn: sa.Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Run bound SQL and return plain dicts."""
    return [dict(row._mapping) for row in conn.execute(sa.text(sql), params)]


_CUSTOMER_COLUMNS = """
    c.id, c.name, c.type, c.active, c.balance, c.do_not_service,
    concat_ws(', ', c.street, c.city, c.state, c.zip) as address, c.merged_to_id
"""


def find_customers(
    conn: sa.Connection,
    tenant_id: int,
    *,
    customer_id: int | None = None,
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    address: str | None = None,
    limit: int = 10,
) -> list[dict[str, Any]]:
    """Customers matching every given criterion (live rows, merged ones followed to their
    survivor), best matches first."""
    clauses = ["c.tenant_id = :tenant", "c.deleted_at is null"]
    params: dict[str, Any] = {"tenant": tenant_id, "limit": limit}
    if customer_id is not None:
        clauses.append("c.id = :customer_id")
        params["customer_id"] = customer_id
    if name:
        for n, word in enumerate(name.split()):
            clauses.append(f"c.name ilike :name{n}")
            params[f"name{n}"] = f"%{like_pattern(word)}%"
    if phone:
        clauses.append(
            """exists (select 1 from servicetitan.st_customer_contacts p
               where p.tenant_id = c.tenant_id and p.customer_id = c.id
                 and p.deleted_at is null
                 and right(integrations.e164(p.value), :digits) = :phone)"""
        )
        params["phone"] = normalize_phone(phone)
        params["digits"] = len(params["phone"])
    if email:
        clauses.append(
            """exists (select 1 from servicetitan.st_customer_contacts e
               where e.tenant_id = c.tenant_id and e.customer_id = c.id
                 and e.deleted_at is null and lower(e.value) = lower(:email))"""
        )
        params["email"] = email.strip()
    if address:
        for n, word in enumerate(address.replace(",", " ").split()):
            clauses.append(
                f"""(concat_ws(' ', c.street, c.city, c.state, c.zip) ilike :addr{n}
                    or exists (select 1 from servicetitan.st_locations l
                               where l.tenant_id = c.tenant_id and l.customer_id = c.id
                                 and l.deleted_at is null
                                 and concat_ws(' ', l.street, l.city, l.state, l.zip)
                                     ilike :addr{n}))"""
            )
            params[f"addr{n}"] = f"%{like_pattern(word)}%"
    found = rows(
        conn,
        f"""select {_CUSTOMER_COLUMNS} from servicetitan.st_customers c
            where {" and ".join(clauses)}
            order by c.active desc, c.merged_to_id is not null, c.modified_on desc
            limit :limit""",
        **params,
    )
    return found


def like_pattern(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contacts_of(conn: sa.Connection, tenant_id: int, customer_id: int) -> list[dict[str, Any]]:
    return rows(
        conn,
        """select type, value, memo from servicetitan.st_customer_contacts
           where tenant_id = :tenant and customer_id = :customer and deleted_at is null
             and coalesce(active, true) order by id""",
        tenant=tenant_id,
        customer=customer_id,
    )


def resolve_customer(
    conn: sa.Connection,
    tenant_id: int,
    *,
    customer_id: int | None = None,
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    """Exactly one live customer, or an error that lists the candidates to choose from."""
    if not any((customer_id, name, phone, email)):
        raise ToolInputError("identify the customer: give customer_id, name, phone or email")
    found = find_customers(
        conn, tenant_id, customer_id=customer_id, name=name, phone=phone, email=email, limit=6
    )
    described = " and ".join(
        f"{label} {value!r}"
        for label, value in (
            ("id", customer_id),
            ("name", name),
            ("phone", phone),
            ("email", email),
        )
        if value
    )
    if not found:
        raise NotFoundError(
            f"no customer matches {described}; check it with lookup_customer, or create the "
            "customer in ServiceTitan first"
        )
    customer = found[0]
    if len(found) > 1 and customer_id is None:
        options = "; ".join(f"{c['id']} {c['name']} ({c['address']})" for c in found[:5])
        raise ToolInputError(
            f"{len(found)} customers match {described}: {options}. Pass customer_id."
        )
    if customer["merged_to_id"]:
        raise ToolInputError(
            f"customer {customer['id']} was merged into {customer['merged_to_id']}; use that id"
        )
    if customer["active"] is False:
        raise ToolInputError(f"customer {customer['id']} ({customer['name']}) is inactive")
    return customer


@dataclass(frozen=True)
class Reference:
    """A small lookup table that people refer to by name (job types, campaigns...)."""

    table: str
    label: str


JOB_TYPES = Reference("servicetitan.st_job_types", "job type")
BUSINESS_UNITS = Reference("servicetitan.st_business_units", "business unit")
CAMPAIGNS = Reference("servicetitan.st_campaigns", "campaign")
TECHNICIANS = Reference("servicetitan.st_technicians", "technician")


def resolve(
    conn: sa.Connection, tenant_id: int, ref: Reference, value: int | str
) -> dict[str, Any]:
    """The active row of `ref` whose id is `value` or whose name matches it (exactly, else as a
    unique substring); otherwise an error listing what exists."""
    base = (
        f"select id, name, raw from {ref.table} "
        "where tenant_id = :tenant and deleted_at is null and coalesce(active, true)"
    )
    text = str(value).strip()
    if text.isdigit():
        found = rows(conn, base + " and id = :id", tenant=tenant_id, id=int(text))
    else:
        found = rows(conn, base + " and lower(name) = lower(:name)", tenant=tenant_id, name=text)
        if not found:
            found = rows(
                conn,
                base + " and name ilike :pattern",
                tenant=tenant_id,
                pattern=f"%{like_pattern(text)}%",
            )
    if len(found) == 1:
        return found[0]
    if not found:
        known = rows(conn, base + " order by name limit 40", tenant=tenant_id)
        listing = ", ".join(f"{r['name']} ({r['id']})" for r in known)
        raise NotFoundError(f"unknown {ref.label} {value!r}; known: {listing}")
    listing = ", ".join(f"{r['name']} ({r['id']})" for r in found[:10])
    raise ToolInputError(f"{ref.label} {value!r} is ambiguous: {listing}; pass the id")


def locations_of(conn: sa.Connection, tenant_id: int, customer_id: int) -> list[dict[str, Any]]:
    return rows(
        conn,
        """select id, name, concat_ws(', ', street, city, state, zip) as address
           from servicetitan.st_locations
           where tenant_id = :tenant and customer_id = :customer and deleted_at is null
             and coalesce(active, true) and merged_to_id is null
           order by id""",
        tenant=tenant_id,
        customer=customer_id,
    )
