"""What every supplier client returns, and the ways a supplier's run can fail.

Three suppliers publish prices three ways (HTML pages, a CSV price file, a JSON API); the rest of
the platform sees one typed record whatever the source, so the warehouse, the mapping and the
cost drift are written once.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

#: Availability values a record can carry (a supplier's own wording is normalised to these).
AVAILABILITY = ("in_stock", "out_of_stock", "unknown")


@dataclass(frozen=True)
class SupplierPrice:
    """One supplier's current offer of one part, as fetched."""

    supplier: str
    sku: str
    manufacturer_part: str | None
    description: str | None
    unit: str | None
    price: Decimal
    availability: str
    branch: str | None
    url: str | None
    fetched_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FetchPlan:
    """What to ask a supplier for: part numbers (vendor or manufacturer), keywords, known SKUs.

    Built from the pricebook by the caller; each client uses what its site offers (Pool360
    browses its catalog and opens the known SKUs' pages, CED downloads its price file, Home
    Depot searches model numbers in batches and keywords one by one).
    """

    part_numbers: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    #: (keyword, part numbers): search the keyword only if none of the parts was found.
    keywords_unless_found: tuple[tuple[str, tuple[str, ...]], ...] = ()


class SupplierError(Exception):
    """A supplier's run failed; the message names the supplier and never holds a secret."""

    def __init__(self, supplier: str, message: str) -> None:
        self.supplier = supplier
        super().__init__(f"{supplier}: {message}")


class SchemaDriftError(SupplierError):
    """A page did not parse: the site's layout changed. Nothing of that page is stored.

    `incident_kind` tells the monitoring classifier this is a layout drift, not an outage.
    """

    incident_kind = "schema_drift"

    def __init__(self, supplier: str, page_kind: str, missing_field: str, url: str = "") -> None:
        self.page_kind = page_kind
        self.missing_field = missing_field
        self.url = url
        where = f" at {url}" if url else ""
        super().__init__(
            supplier,
            f"layout drift on the {page_kind} page{where}: field {missing_field!r} is missing "
            "or does not parse; nothing from this page was stored",
        )


class LoginRefusedError(SupplierError):
    """The site refused the account's credentials (changed password, locked account)."""


class BotCheckError(SupplierError):
    """The site showed a bot check or kept answering 429: the run stops and backs off."""

    def __init__(self, supplier: str, message: str, backoff_until: datetime | None = None) -> None:
        self.backoff_until = backoff_until
        super().__init__(supplier, message)


class BackingOffError(SupplierError):
    """A previous run met a bot check and the back-off has not elapsed: nothing was fetched."""


class RobotsDisallowedError(SupplierError):
    """robots.txt disallows the path the client wanted: it is not fetched."""


def parse_money(text: str | None) -> Decimal | None:
    """'$1,234.50' -> Decimal('1234.50'); None when absent or not a positive amount."""
    if text is None:
        return None
    cleaned = text.strip().replace("$", "").replace(",", "").replace("USD", "").strip()
    if not cleaned:
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0:
        return None
    return value.quantize(Decimal("0.01"))


def require(value: Any, supplier: str, page_kind: str, field: str, url: str = "") -> Any:
    """`value`, or a `SchemaDriftError` naming the page kind and the field when it is empty."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise SchemaDriftError(supplier, page_kind, field, url)
    return value.strip() if isinstance(value, str) else value
