"""Amounts: ST's money strings, and the prices and totals of invoice items.

An invoice's total is cited by its job and by its payment as well as the invoice itself, so
it is computed here, below all three.
"""

from __future__ import annotations

from perfect_catch.simulators.servicetitan import catalog as cat
from perfect_catch.simulators.servicetitan.universe import Universe


def money(cents: int) -> str:
    """ST accounting money: a decimal string with two places."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def invoice_item_parts(u: Universe, i: int) -> tuple[int, int, int, str]:
    """(sku index, quantity, unit price cents, type) of invoice item `i`."""
    h = u.bits("invoice-items", i)
    if h % 3 == 0:
        sku = (h >> 4) % len(cat.MATERIALS)
        return sku, 1 + (h >> 12) % 4, 450 + (sku * 730) % 12_000, "Material"
    sku = (h >> 4) % len(cat.SERVICES)
    return sku, 1, int(cat.SERVICES[sku][1] * 100), "Service"


_N_MATERIALS, _N_SERVICES = len(cat.MATERIALS), len(cat.SERVICES)
_SERVICE_CENTS = tuple(int(price * 100) for _, price, _ in cat.SERVICES)


def invoice_total_cents(u: Universe, invoice_index: int) -> int:
    """Total of an invoice's items with tax: `invoice_item_parts` of each, inlined."""
    n_invoices, n_items = u.counts["invoices"], u.counts["invoice-items"]
    bits = u.bits
    first = -(-invoice_index * n_items // n_invoices)
    end = -(-(invoice_index + 1) * n_items // n_invoices)
    total = 0
    for k in range(first, end):
        h = bits("invoice-items", k)
        if h % 3 == 0:
            cost = (1 + (h >> 12) % 4) * (450 + ((h >> 4) % _N_MATERIALS * 730) % 12_000)
            total += cost + cost * 86 // 1000
        else:
            total += _SERVICE_CENTS[(h >> 4) % _N_SERVICES]
    return total
