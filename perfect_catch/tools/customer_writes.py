"""Creating a customer (with a service location and contacts) and changing a customer's contacts
in ServiceTitan. Like the other write tools: a dry run by default that shows exactly what would
be sent, idempotent under a key (`idempotent_writes`), and the warehouse refreshed from what
ServiceTitan answered (`writeback`). Phone numbers follow the one phone rule (`phones`): a number
that cannot be reached is refused by name, never stored."""

from __future__ import annotations

from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, model_validator

from perfect_catch.phones import InvalidPhoneError, require_e164
from perfect_catch.tools import idempotent_writes, lookup, writeback
from perfect_catch.tools.context import ToolContext
from perfect_catch.tools.errors import ConflictError, NotFoundError, ToolInputError
from perfect_catch.tools.registry import tool

ContactKind = Literal["phone", "mobile", "email"]
_ST_CONTACT_TYPES: dict[str, str] = {"phone": "Phone", "mobile": "MobilePhone", "email": "Email"}


class Address(BaseModel):
    model_config = ConfigDict(extra="forbid")

    street: str = Field(min_length=1, max_length=200)
    unit: str | None = Field(None, max_length=50)
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=2, max_length=50)
    zip: str = Field(min_length=3, max_length=20)
    country: str = Field("USA", max_length=50)


class ContactIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: ContactKind = Field(description="phone (landline), mobile or email.")
    value: str = Field(min_length=3, max_length=200, description="The number or address.")
    memo: str | None = Field(None, max_length=200, description="e.g. 'work', 'owner's son'.")


class CreateCustomerInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=2, max_length=200, description="Customer or company name.")
    type: Literal["Residential", "Commercial"] = "Residential"
    address: Address = Field(description="Billing address.")
    location_name: str | None = Field(
        None, max_length=200, description="Name of the service location (default: the name)."
    )
    location_address: Address | None = Field(
        None, description="Where the work is done (default: the billing address)."
    )
    contacts: list[ContactIn] = Field(
        min_length=1, max_length=10, description="At least one phone, mobile or email."
    )
    allow_duplicate: bool = Field(
        False,
        description="Create even when a customer with one of these phones or emails exists.",
    )
    dry_run: bool = Field(True, description="true (default): only show what would be created.")
    idempotency_key: str | None = Field(
        None, max_length=200, description="Same key + same request = created once."
    )
    tenant_id: int | None = None


class ContactChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    contact_id: int = Field(description="The ServiceTitan contact to change.")
    type: ContactKind | None = None
    value: str | None = Field(None, min_length=3, max_length=200)
    memo: str | None = Field(None, max_length=200)


class UpdateCustomerContactsInput(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: int = Field(description="ServiceTitan customer id.")
    add: list[ContactIn] = Field(default_factory=list, max_length=10)
    change: list[ContactChange] = Field(default_factory=list, max_length=10)
    dry_run: bool = Field(True, description="true (default): only show what would change.")
    idempotency_key: str | None = Field(
        None, max_length=200, description="Same key + same request = applied once."
    )
    tenant_id: int | None = None

    @model_validator(mode="after")
    def _something(self) -> UpdateCustomerContactsInput:
        if not self.add and not self.change:
            raise ValueError("give contacts to add or to change")
        return self


def _value(kind: str, value: str, where: str) -> str:
    """The contact value ServiceTitan should store: E.164 for phones, lower-case for email."""
    if kind in ("phone", "mobile"):
        try:
            return require_e164(value)
        except InvalidPhoneError as error:
            raise ToolInputError(f"{where}: {error}") from None
    text = value.strip().lower()
    if "@" not in text or text.startswith("@") or text.endswith("@"):
        raise ToolInputError(f"{where}: {value!r} is not an email address")
    return text


def _st_contact(contact: ContactIn, where: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": _ST_CONTACT_TYPES[contact.type],
        "value": _value(contact.type, contact.value, where),
    }
    if contact.memo:
        body["memo"] = contact.memo
    return body


def _st_address(address: Address) -> dict[str, Any]:
    body = address.model_dump(exclude_none=True)
    return body


def _owners(conn: sa.Connection, tenant_id: int, values: list[str]) -> list[dict[str, Any]]:
    """Live customers that already have one of these phones (E.164) or emails."""
    return lookup.rows(
        conn,
        """select distinct c.id, c.name, cc.value as matched
           from servicetitan.st_customer_contacts cc
           join servicetitan.st_customers c on c.tenant_id = cc.tenant_id and c.id = cc.customer_id
           where cc.tenant_id = :t and cc.deleted_at is null and c.deleted_at is null
             and c.merged_to_id is null
             and (integrations.e164(cc.value) = any(:values)
                  or lower(btrim(cc.value)) = any(:values))
           order by c.id limit 5""",
        t=tenant_id,
        values=values,
    )


@tool("create_customer", read_only=False, open_world=True, title="Create a customer")
def create_customer(context: ToolContext, params: CreateCustomerInput) -> dict[str, Any]:
    """Create a customer in ServiceTitan with a service location and contacts (phones in any
    format are stored in E.164). dry_run=true (the default) sends nothing and shows the request;
    confirm with the user, then call with dry_run=false. Refuses when a customer with one of
    these phones or emails exists (shown) unless allow_duplicate. Calling again with the same
    request (or idempotency_key) returns the customer created the first time. The warehouse is
    updated at once."""
    tenant_id = context.tenant(params.tenant_id)
    contacts = [_st_contact(c, f"contacts[{n}]") for n, c in enumerate(params.contacts)]
    address = _st_address(params.address)
    body = {
        "name": params.name.strip(),
        "type": params.type,
        "address": address,
        "contacts": contacts,
        "locations": [
            {
                "name": (params.location_name or params.name).strip(),
                "address": _st_address(params.location_address or params.address),
            }
        ],
    }
    digest = idempotent_writes.request_hash("create_customer", tenant_id, body)
    key = idempotent_writes.key_for("create_customer", params.idempotency_key, digest)
    with context.engine.connect() as conn:
        done = idempotent_writes.replay(conn, key, "create_customer", digest)
        if done is not None:
            return done
        owners = _owners(conn, tenant_id, [c["value"] for c in contacts])
    if owners and not params.allow_duplicate:
        listed = "; ".join(f"{o['id']} {o['name']} ({o['matched']})" for o in owners)
        raise ConflictError(
            f"a customer with these contacts exists: {listed}. Use that customer, or pass "
            "allow_duplicate=true to create another"
        )
    if params.dry_run:
        return {"dry_run": True, "created": False, "request": body, "idempotency_key": key}
    with context.servicetitan(tenant_id) as client:
        created = client.post("crm", "customers", json=body)
        record = writeback.written_record(created)
        customer = None
        if record is not None:
            customer = {k: v for k, v in record.items() if k not in ("locations", "contacts")}
        warehouse = writeback.reflect(
            context,
            client,
            tenant_id,
            entity="customers",
            record=customer,
            resync=("locations", "customer_contacts"),
        )
    result = {
        "dry_run": False,
        "created": True,
        "customer_id": (created or {}).get("id"),
        "name": (created or {}).get("name"),
        "location_ids": [loc.get("id") for loc in (created or {}).get("locations") or []],
        "contacts": (created or {}).get("contacts") or [],
        "idempotency_key": key,
        "warehouse": warehouse,
    }
    idempotent_writes.remember(context.engine, key, "create_customer", tenant_id, digest, result)
    return result


@tool(
    "update_customer_contacts",
    read_only=False,
    open_world=True,
    title="Add or change a customer's contacts",
)
def update_customer_contacts(
    context: ToolContext, params: UpdateCustomerContactsInput
) -> dict[str, Any]:
    """Add phones or emails to a ServiceTitan customer, or change existing ones (by contact id,
    see lookup_customer). Phones in any format are stored in E.164. dry_run=true (the default)
    sends nothing and shows each request; confirm, then call with dry_run=false. The same
    request (or idempotency_key) is applied once. The warehouse is updated at once."""
    tenant_id = context.tenant(params.tenant_id)
    with context.engine.connect() as conn:
        customer = lookup.resolve_customer(conn, tenant_id, customer_id=params.customer_id)
        existing = {
            row["id"]: row
            for row in lookup.rows(
                conn,
                """select id, type, value from servicetitan.st_customer_contacts
                   where tenant_id = :t and customer_id = :c and deleted_at is null""",
                t=tenant_id,
                c=customer["id"],
            )
        }
    requests: list[dict[str, Any]] = []
    for n, contact in enumerate(params.add):
        requests.append({"method": "POST", "body": _st_contact(contact, f"add[{n}]")})
    for n, change in enumerate(params.change):
        where = f"change[{n}]"
        current = existing.get(change.contact_id)
        if current is None:
            raise NotFoundError(
                f"{where}: contact {change.contact_id} is not a contact of customer "
                f"{customer['id']} (its contacts: {sorted(existing) or 'none'})"
            )
        body: dict[str, Any] = {}
        kind = change.type
        if kind is not None:
            body["type"] = _ST_CONTACT_TYPES[kind]
        if change.value is not None:
            current_kind = {"MobilePhone": "mobile", "Email": "email"}.get(current["type"], "phone")
            body["value"] = _value(kind or current_kind, change.value, where)
        if change.memo is not None:
            body["memo"] = change.memo
        if not body:
            raise ToolInputError(f"{where}: give a new type, value or memo")
        requests.append({"method": "PATCH", "contact_id": change.contact_id, "body": body})
    digest = idempotent_writes.request_hash(
        "update_customer_contacts", tenant_id, {"customer": customer["id"], "requests": requests}
    )
    key = idempotent_writes.key_for("update_customer_contacts", params.idempotency_key, digest)
    with context.engine.connect() as conn:
        done = idempotent_writes.replay(conn, key, "update_customer_contacts", digest)
    if done is not None:
        return done
    if params.dry_run:
        return {
            "dry_run": True,
            "changed": False,
            "customer": {"id": customer["id"], "name": customer["name"]},
            "requests": requests,
            "idempotency_key": key,
        }
    answers = []
    with context.servicetitan(tenant_id) as client:
        for request in requests:
            if request["method"] == "POST":
                answers.append(
                    client.post("crm", f"customers/{customer['id']}/contacts", json=request["body"])
                )
            else:
                answers.append(
                    client.patch(
                        "crm",
                        f"customers/{customer['id']}/contacts/{request['contact_id']}",
                        json=request["body"],
                    )
                )
        warehouse = writeback.reflect(context, client, tenant_id, resync=("customer_contacts",))
    result = {
        "dry_run": False,
        "changed": True,
        "customer": {"id": customer["id"], "name": customer["name"]},
        "contacts": answers,
        "idempotency_key": key,
        "warehouse": warehouse,
    }
    idempotent_writes.remember(
        context.engine, key, "update_customer_contacts", tenant_id, digest, result
    )
    return result
