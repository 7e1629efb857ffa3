"""Base records of every entity, each a pure function of (universe, index).

Field names and types follow the export response schemas of the official ServiceTitan OpenAPI
specs (e.g. `Crm.V2.ExportCustomerResponse`, `Accounting.V2.ExportInvoiceResponse`). Related
records agree with each other: an invoice names its job's customer, a job points at its first
appointment, a customer's address is that of its first location.

By area: `company` (business units, technicians, employees, job types, campaigns),
`pricebook`, `crm` (customers, locations, contacts, installed equipment), `jobs` (jobs,
appointments, assignments), `sales` (estimates), `accounting` (invoices, items, payments);
below them `people` (names, addresses, phones), `amounts` (money, invoice totals) and `shared`.
Hot generators take one 128-bit draw per record and peel fields off it with % and //: a method
call per field would cost more than building the record.
"""

from __future__ import annotations

from collections.abc import Callable

from perfect_catch.simulators.servicetitan.records.accounting import invoice, invoice_item, payment
from perfect_catch.simulators.servicetitan.records.company import (
    business_unit,
    campaign,
    employee,
    job_type,
    technician,
)
from perfect_catch.simulators.servicetitan.records.crm import (
    customer,
    customer_contact,
    installed_equipment,
    location,
)
from perfect_catch.simulators.servicetitan.records.jobs import (
    appointment,
    appointment_assignment,
    job,
)
from perfect_catch.simulators.servicetitan.records.pricebook import (
    category,
    material,
    pricebook_equipment,
    service,
)
from perfect_catch.simulators.servicetitan.records.sales import estimate
from perfect_catch.simulators.servicetitan.records.shared import Record
from perfect_catch.simulators.servicetitan.universe import Universe

GENERATORS: dict[str, Callable[[Universe, int], Record]] = {
    "customers": customer,
    "locations": location,
    "customer-contacts": customer_contact,
    "jobs": job,
    "appointments": appointment,
    "appointment-assignments": appointment_assignment,
    "estimates": estimate,
    "invoices": invoice,
    "invoice-items": invoice_item,
    "payments": payment,
    "installed-equipment": installed_equipment,
    "technicians": technician,
    "employees": employee,
    "business-units": business_unit,
    "job-types": job_type,
    "campaigns": campaign,
    "materials": material,
    "pricebook-equipment": pricebook_equipment,
    "services": service,
    "categories": category,
}
