"""Changes to a tenant's records: what the business does in a day, and what the API writes do.

Every change goes through `TenantStore.put`, so it gets a `modifiedOn` from the simulator clock
and shows up after the base stream in the next export. Related records change together (a
completed job gets a Done appointment and an invoice; a paid invoice gets a payment).
"""

from __future__ import annotations

import random
from typing import Any

from perfect_catch.simulators.servicetitan import booking, crm, pricebook, sales
from perfect_catch.simulators.servicetitan import catalog as cat
from perfect_catch.simulators.servicetitan.records.accounting import embedded_item
from perfect_catch.simulators.servicetitan.records.amounts import money
from perfect_catch.simulators.servicetitan.records.crm import NO_PHONE_SETTINGS
from perfect_catch.simulators.servicetitan.records.sales import ESTIMATE_STATUSES
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.refusals import Invalid
from perfect_catch.simulators.servicetitan.timefmt import (
    TICKS_PER_DAY,
    TICKS_PER_HOUR,
    format_date,
    format_ticks,
    parse_instant,
)
from perfect_catch.simulators.servicetitan.universe import NOTE_ID_BASE
from perfect_catch.simulators.servicetitan.writer import TenantWriter

MALFORMED_KINDS = ("bad_modified_on", "missing_id", "nul_char", "wrong_type")


class Mutator(TenantWriter):
    """Every change to one tenant: the API writes (composed from the writes by area), the
    admin helpers and the business day."""

    # --- admin helpers ------------------------------------------------------------------------

    def make_malformed(self, entity: str, record_id: int, kind: str) -> Record:
        """Serve a broken version of a record, so a loader's reject path can be exercised."""
        if kind not in MALFORMED_KINDS:
            raise ValueError(f"kind must be one of {', '.join(MALFORMED_KINDS)}")
        record = self.require(entity, record_id)
        when = self.store.clock.tick()
        record["modifiedOn"] = format_ticks(when)
        if kind == "bad_modified_on":
            record["modifiedOn"] = "2025-13-45T25:61:00.0000000Z"
        elif kind == "missing_id":
            del record["id"]
        elif kind == "nul_char":
            field = next(
                (
                    k
                    for k, v in record.items()
                    if isinstance(v, str) and k not in ("modifiedOn", "createdOn")
                ),
                "summary",
            )
            text = str(record.get(field) or "text")
            record[field] = text[:3] + "\u0000" + text[3:]
        else:
            record["active"] = "yes"
            if "id" in record:
                record["id"] = str(record["id"])
        return self.store.put(entity, record_id, record, when, stamp=False)

    def create_tied(self, entity: str, count: int) -> list[Record]:
        """`count` new records sharing one exact modifiedOn (ties across page boundaries)."""
        when = self.store.clock.tick()
        return [self.create_like(entity, ticks=when) for _ in range(count)]

    def touch_tied(self, entity: str, ids: list[int]) -> list[Record]:
        when = self.store.clock.tick()
        return [self.touch(entity, record_id, ticks=when) for record_id in ids]

    # --- CRM ----------------------------------------------------------------------------------

    def locations_of(self, customer_id: int) -> list[int]:
        if customer_id in self.customer_locations:
            return self.customer_locations[customer_id]
        u = self.u
        if u.is_base("customers", customer_id):
            children = u.children("customers", "locations", u.index_of("customers", customer_id))
            return [u.id_of("locations", i) for i in children]
        return []

    def new_customer(self) -> Record:
        customer = self.create_like("customers", {"mergedToId": None, "balance": 0.0})
        location = self.create_like(
            "locations",
            {"customerId": customer["id"], "name": customer["name"], "mergedToId": None},
        )
        customer["address"] = dict(location["address"])
        self.store.put("customers", customer["id"], customer, self.store.clock.now)
        self.customer_locations[customer["id"]] = [location["id"]]
        for position in (0, 1):
            contact_id, index = self.store.new_id("customer-contacts")
            contact = self.store.template("customer-contacts", index)
            first, last = (
                customer["name"].split(" ", 1)
                if " " in customer["name"]
                else (customer["name"], "")
            )
            if position == 1:
                contact.update(
                    {
                        "type": "Email",
                        "phoneSettings": dict(NO_PHONE_SETTINGS),
                        "value": f"{first}.{last}@gmail.com".lower().replace(" ", ""),
                    }
                )
            contact.update(
                {
                    "id": contact_id,
                    "customerId": customer["id"],
                    "active": True,
                    "createdOn": customer["createdOn"],
                }
            )
            self.store.put("customer-contacts", contact_id, contact)
        return customer

    def create_customer(self, body: dict[str, Any]) -> Record:
        """POST crm/v2/tenant/{t}/customers."""
        return crm.create_customer(self, body)

    def add_customer_contact(self, customer_id: int, body: dict[str, Any]) -> Record:
        """POST crm/v2/tenant/{t}/customers/{id}/contacts."""
        return crm.add_customer_contact(self, customer_id, body)

    def update_customer_contact(
        self, customer_id: int, contact_id: int, body: dict[str, Any]
    ) -> Record:
        """PATCH crm/v2/tenant/{t}/customers/{id}/contacts/{contactId}."""
        return crm.update_customer_contact(self, customer_id, contact_id, body)

    def tag_customer(self, customer_id: int, tag_type_id: int) -> Record:
        return crm.tag_customer(self, customer_id, tag_type_id)

    def merge_customer(self, source_id: int, target_id: int) -> Record:
        self.require("customers", target_id, "mergedToId")
        target_locations = self.locations_of(target_id)
        for location_id in self.locations_of(source_id):
            self.touch(
                "locations",
                location_id,
                {
                    "active": False,
                    "mergedToId": target_locations[0] if target_locations else None,
                },
            )
        return self.touch("customers", source_id, {"active": False, "mergedToId": target_id})

    def add_note(self, entity: str, record_id: int, text: str, pin: bool = False) -> Record:
        if not isinstance(text, str) or not text.strip():
            raise Invalid("The Text field is required.", {"text": ["The Text field is required."]})
        self.require(entity, record_id)
        self.touch(entity, record_id)
        now = format_ticks(self.store.clock.now)
        notes = self.store.notes.setdefault((entity, record_id), [])
        note = {
            "id": NOTE_ID_BASE + sum(len(v) for v in self.store.notes.values()),
            "text": text,
            "isPinned": bool(pin),
            "createdById": self.u.id_of("employees", 0),
            "createdOn": now,
            "modifiedOn": now,
        }
        notes.append(note)
        return note

    # --- jobs ---------------------------------------------------------------------------------

    def create_job(self, body: dict[str, Any]) -> Record:
        """POST jpm/v2/tenant/{t}/jobs: validate like ST, then job + appointments + assignments."""
        errors: dict[str, list[str]] = {}
        for field in ("customerId", "locationId", "businessUnitId", "jobTypeId", "campaignId"):
            if not isinstance(body.get(field), int) or isinstance(body.get(field), bool):
                errors[field] = [f"The {field} field is required."]
        appointments = body.get("appointments")
        if not isinstance(appointments, list) or not appointments:
            errors["appointments"] = ["At least one appointment is required."]
        if errors:
            raise Invalid("One or more validation errors occurred.", errors)
        for field, entity in (
            ("customerId", "customers"),
            ("locationId", "locations"),
            ("businessUnitId", "business-units"),
            ("jobTypeId", "job-types"),
            ("campaignId", "campaigns"),
        ):
            if not self.store.exists(entity, body[field]):
                raise Invalid(
                    f"{entity} {body[field]} not found.",
                    {field: [f"{field} {body[field]} does not exist."]},
                )
        if body["locationId"] not in self.locations_of(body["customerId"]):
            raise Invalid(
                "Location does not belong to the customer.",
                {"locationId": ["Location does not belong to the customer."]},
            )
        windows = []
        for n, window in enumerate(appointments):
            try:
                start, end = parse_instant(window["start"]), parse_instant(window["end"])
            except (KeyError, TypeError, ValueError):
                raise Invalid(
                    "Invalid appointment.",
                    {f"appointments[{n}]": ["start and end must be date-times."]},
                ) from None
            if end <= start:
                raise Invalid(
                    "Invalid appointment.", {f"appointments[{n}].end": ["end must be after start."]}
                )
            technicians = booking.technician_ids(
                self, window.get("technicianIds"), f"appointments[{n}].technicianIds"
            )
            booking.check_free(
                self,
                technicians,
                start,
                end,
                f"appointments[{n}].technicianIds",
                refusal=Invalid,
            )
            windows.append((start, end, technicians))
        job_id, index = self.store.new_id("jobs")
        job = self.store.template("jobs", index)
        created = format_ticks(self.store.clock.tick())
        appointment_ids = [self.store.new_id("appointments")[0] for _ in windows]
        job.update(
            {
                "id": job_id,
                "customerId": body["customerId"],
                "locationId": body["locationId"],
                "businessUnitId": body["businessUnitId"],
                "jobTypeId": body["jobTypeId"],
                "priority": body.get("priority") or "Normal",
                "campaignId": body["campaignId"],
                "summary": body.get("summary"),
                "jobStatus": "Scheduled",
                "completedOn": None,
                "appointmentCount": len(windows),
                "firstAppointmentId": appointment_ids[0],
                "lastAppointmentId": appointment_ids[-1],
                "invoiceId": 0,
                "total": None,
                "estimateIds": [],
                "createdOn": created,
                "customerPo": body.get("customerPo") or "",
                "soldById": body.get("soldById"),
                "tagTypeIds": body.get("tagTypeIds") or [],
                "active": True,
            }
        )
        job = self.store.put("jobs", job_id, job)
        for appointment_id, (start, end, technicians) in zip(appointment_ids, windows, strict=True):
            if not technicians:
                index = self.u.index_of("appointments", appointment_id)
                chosen = booking.free_technician(self, start, end, index)
                technicians = [] if chosen is None else [chosen]
            booking.new_appointment(self, job, appointment_id, start, end, technicians)
        self.open_jobs.append(job_id)
        return job

    def book_appointment(self, body: dict[str, Any]) -> Record:
        """POST jpm/v2/tenant/{t}/appointments."""
        return booking.book_appointment(self, body)

    def reschedule(self, appointment_id: int, body: dict[str, Any]) -> Record:
        return booking.reschedule(self, appointment_id, body)

    def assign_technicians(self, body: dict[str, Any]) -> Record:
        return booking.assign_technicians(self, body)

    def unassign_technicians(self, body: dict[str, Any]) -> Record:
        return booking.unassign_technicians(self, body)

    def complete_job(self, job_id: int) -> Record:
        job = self.require("jobs", job_id)
        now = self.store.clock.tick()
        job.update({"jobStatus": "Completed", "completedOn": format_ticks(now)})
        for appointment_id in booking.appointments_of(self, job):
            if self.store.exists("appointments", appointment_id):
                appointment = self.require("appointments", appointment_id)
                if appointment.get("jobId") == job_id:
                    self.touch(
                        "appointments", appointment_id, {"status": "Done", "isConfirmed": True}
                    )
        invoice = self.create_invoice(job)
        job.update({"invoiceId": invoice["id"], "total": float(invoice["total"])})
        if job_id in self.open_jobs:
            self.open_jobs.remove(job_id)
        return self.store.put("jobs", job_id, job)

    def create_invoice(self, job: Record) -> Record:
        invoice_id, index = self.store.new_id("invoices")
        invoice = self.store.template("invoices", index)
        now = self.store.clock.tick()
        items = []
        for order in range(1, 3):
            item = self.create_like(
                "invoice-items", {"invoiceId": invoice_id, "order": order}, ticks=now
            )
            items.append(item)
        subtotal = sum(int(i["total"].replace(".", "")) for i in items)
        tax = sum(int(i["total"].replace(".", "")) * 86 // 1000 for i in items if i["taxable"])
        customer = self.store.get("customers", job["customerId"]) or {}
        invoice.update(
            {
                "id": invoice_id,
                "items": [embedded_item(item) for item in items],
                "summary": items[0]["description"],
                "subTotal": money(subtotal),
                "salesTax": money(tax),
                "total": money(subtotal + tax),
                "balance": money(subtotal + tax),
                "paidOn": None,
                "syncStatus": "Pending",
                "referenceNumber": job["jobNumber"],
                "invoiceDate": format_date(now),
                "dueDate": format_date(now + 30 * TICKS_PER_DAY),
                "createdOn": format_ticks(now),
                "customer": {"id": job["customerId"], "name": customer.get("name")},
                "location": {"id": job["locationId"], "name": customer.get("name")},
                "job": {
                    "id": job["id"],
                    "number": job["jobNumber"],
                    "type": cat.JOB_TYPES[
                        self.u.index_of("job-types", job["jobTypeId"]) % len(cat.JOB_TYPES)
                    ][0],
                },
                "sentStatus": "NotSent",
                "active": True,
            }
        )
        self.unpaid_invoices.append(invoice_id)
        return self.store.put("invoices", invoice_id, invoice, now)

    def pay_invoice(self, invoice_id: int) -> Record:
        invoice = self.require("invoices", invoice_id)
        now = self.store.clock.tick()
        self.create_like(
            "payments",
            {
                "total": invoice["balance"],
                "customer": invoice["customer"],
                "appliedTo": [
                    {
                        "appliedAmount": invoice["balance"],
                        "appliedBy": "system",
                        "appliedId": invoice_id + 1,
                        "appliedOn": format_ticks(now),
                        "appliedTo": invoice_id,
                        "appliedToReferenceNumber": invoice.get("referenceNumber"),
                    }
                ],
                "date": format_ticks(now),
                "unappliedAmount": "0.00",
            },
            ticks=now,
        )
        if invoice_id in self.unpaid_invoices:
            self.unpaid_invoices.remove(invoice_id)
        return self.touch(
            "invoices",
            invoice_id,
            {"balance": "0.00", "paidOn": format_ticks(now), "syncStatus": "Exported"},
            now,
        )

    # --- estimates ----------------------------------------------------------------------------

    def new_estimate(self, job: Record | None, customer_id: int) -> Record:
        locations = self.locations_of(customer_id)
        estimate = self.create_like(
            "estimates",
            {
                "jobId": job["id"] if job else None,
                "jobNumber": job["jobNumber"] if job else None,
                "customerId": customer_id,
                "locationId": locations[0] if locations else None,
                "status": {"value": 1, "name": ESTIMATE_STATUSES[1]},
                "soldOn": None,
                "soldBy": None,
            },
        )
        self.open_estimates.append(estimate["id"])
        return estimate

    def _estimate_status(self, estimate_id: int, value: int, extra: dict[str, Any]) -> Record:
        estimate = self.require("estimates", estimate_id)
        if estimate["status"]["value"] != 1:
            raise Invalid(
                f"Estimate {estimate_id} is {estimate['status']['name']}, not Open.",
                {"status": [f"Estimate is already {estimate['status']['name']}."]},
            )
        if estimate_id in self.open_estimates:
            self.open_estimates.remove(estimate_id)
        return self.touch(
            "estimates",
            estimate_id,
            {"status": {"value": value, "name": ESTIMATE_STATUSES[value]}, **extra},
        )

    def sell_estimate(self, estimate_id: int, sold_by: Any) -> Record:
        if not isinstance(sold_by, int) or isinstance(sold_by, bool):
            raise Invalid(
                "The soldBy field is required.", {"soldBy": ["The soldBy field is required."]}
            )
        if not self.store.exists("technicians", sold_by):
            raise Invalid(
                f"Technician {sold_by} not found.",
                {"soldBy": [f"Technician {sold_by} does not exist."]},
            )
        return self._estimate_status(
            estimate_id, 2, {"soldOn": format_ticks(self.store.clock.now), "soldBy": sold_by}
        )

    def dismiss_estimate(self, estimate_id: int) -> Record:
        return self._estimate_status(estimate_id, 3, {})

    def create_estimate(self, body: dict[str, Any]) -> Record:
        """POST sales/v2/tenant/{t}/estimates."""
        return sales.create_estimate(self, body)

    def upsert_estimate_item(self, estimate_id: int, body: dict[str, Any]) -> Record:
        return sales.upsert_item(self, estimate_id, body)

    # --- pricebook ----------------------------------------------------------------------------

    def update_sku(self, resource: str, sku_id: int, body: dict[str, Any]) -> Record:
        """PATCH pricebook/v2/tenant/{t}/{services|materials|equipment}/{id}."""
        return pricebook.update_sku(self, resource, sku_id, body)

    # --- a business day -----------------------------------------------------------------------

    def _random_base(self, rng: random.Random, entity: str, newest_share: float = 1.0) -> int:
        count = self.u.counts[entity]
        low = int(count * (1 - newest_share))
        return self.u.id_of(entity, rng.randrange(low, count))

    def business_day(self, day_number: int) -> dict[str, int]:
        """One day of work: new customers and jobs, completions, sales, payments, merges."""
        u = self.u
        rng = random.Random(f"day:{u.seed}:{u.tenant_id}:{day_number}")
        scale = max(1, u.counts["customers"] // 1600)
        plan = {
            "new_customers": scale + rng.randrange(2),
            "new_jobs": 2 * scale + rng.randrange(2),
            "completed_jobs": 2 * scale,
            "new_estimates": scale + rng.randrange(2),
            "sold_estimates": scale,
            "dismissed_estimates": rng.randrange(2) * scale,
            "paid_invoices": 2 * scale,
            "reminded_invoices": scale,
            "merged_customers": 1 if rng.random() < 0.3 else 0,
            "deactivated_customers": 1 if rng.random() < 0.3 else 0,
            "updated_contacts": scale,
        }
        done = dict.fromkeys(plan, 0)
        for _ in range(plan["new_customers"]):
            self.new_customer()
            done["new_customers"] += 1
        for _ in range(plan["new_jobs"]):
            customer_id = self._random_base(rng, "customers")
            location_id = self.locations_of(customer_id)[0]
            jt = rng.randrange(len(cat.JOB_TYPES))
            start = (
                self.store.clock.now // TICKS_PER_DAY + 1 + rng.randrange(7)
            ) * TICKS_PER_DAY + (14 + 2 * rng.randrange(4)) * TICKS_PER_HOUR
            self.create_job(
                {
                    "customerId": customer_id,
                    "locationId": location_id,
                    "businessUnitId": u.id_of("business-units", cat.JOB_TYPES[jt][1]),
                    "jobTypeId": u.id_of("job-types", jt),
                    "priority": cat.JOB_TYPES[jt][3],
                    "campaignId": u.id_of("campaigns", rng.randrange(len(cat.CAMPAIGNS))),
                    "appointments": [
                        {
                            "start": format_ticks(start),
                            "end": format_ticks(start + 2 * TICKS_PER_HOUR),
                        }
                    ],
                }
            )
            done["new_jobs"] += 1
        for _ in range(plan["completed_jobs"]):
            candidates = self.open_jobs[: -plan["new_jobs"]] or self.open_jobs
            job_id = candidates[0] if candidates else self._random_base(rng, "jobs", 0.02)
            job = self.store.get("jobs", job_id)
            if job and job.get("jobStatus") not in ("Completed", "Canceled"):
                self.complete_job(job_id)
                done["completed_jobs"] += 1
                if rng.random() < 0.5 and done["new_estimates"] < plan["new_estimates"]:
                    self.new_estimate(self.store.get("jobs", job_id), job["customerId"])
                    done["new_estimates"] += 1
            elif job_id in self.open_jobs:
                self.open_jobs.remove(job_id)
        while done["new_estimates"] < plan["new_estimates"]:
            self.new_estimate(None, self._random_base(rng, "customers"))
            done["new_estimates"] += 1
        for kind, value in (("sold_estimates", 2), ("dismissed_estimates", 3)):
            for _ in range(plan[kind]):
                pool = self.open_estimates or [self._random_base(rng, "estimates", 0.05)]
                estimate_id = pool[rng.randrange(len(pool))]
                try:
                    if value == 2:
                        self.sell_estimate(estimate_id, u.id_of("technicians", rng.randrange(13)))
                    else:
                        self.dismiss_estimate(estimate_id)
                    done[kind] += 1
                except Invalid:
                    if estimate_id in self.open_estimates:
                        self.open_estimates.remove(estimate_id)
        for _ in range(plan["paid_invoices"]):
            pool = self.unpaid_invoices or [self._random_base(rng, "invoices", 0.03)]
            invoice_id = pool[0]
            invoice = self.store.get("invoices", invoice_id)
            if invoice and invoice.get("balance") != "0.00":
                self.pay_invoice(invoice_id)
                done["paid_invoices"] += 1
            elif invoice_id in self.unpaid_invoices:
                self.unpaid_invoices.remove(invoice_id)
        for _ in range(plan["reminded_invoices"]):
            invoice_id = self._random_base(rng, "invoices", 0.03)
            invoice = self.store.get("invoices", invoice_id)
            if invoice and invoice.get("balance") != "0.00":
                self.touch("invoices", invoice_id, {"sentStatus": "Sent"})
                done["reminded_invoices"] += 1
        for _ in range(plan["merged_customers"]):
            source = self._random_base(rng, "customers")
            target = self._random_base(rng, "customers")
            current = self.store.get("customers", source)
            if source != target and current and current.get("mergedToId") is None:
                self.merge_customer(source, target)
                done["merged_customers"] += 1
        for _ in range(plan["deactivated_customers"]):
            customer_id = self._random_base(rng, "customers")
            self.touch("customers", customer_id, {"active": False})
            done["deactivated_customers"] += 1
        for _ in range(plan["updated_contacts"]):
            contact_id = self._random_base(rng, "customer-contacts")
            contact = self.require("customer-contacts", contact_id)
            if contact.get("type") != "Email":
                self.touch(
                    "customer-contacts", contact_id, {"memo": "updated by office", "active": True}
                )
                done["updated_contacts"] += 1
        return done

    # --- dispatch -----------------------------------------------------------------------------

    def capacity(self, body: dict[str, Any]) -> Record:
        return booking.capacity(self, body)
