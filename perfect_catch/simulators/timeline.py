"""When the simulated world happens: one anchor date shared by every simulated system.

The ServiceTitan tenant's history ends the day before the anchor and its clock starts at 08:00
UTC on the anchor; GoHighLevel's history ends there too and CallRail's call log runs to the end
of the anchor day. The anchor is, in order: the one passed explicitly (`--anchor-date`), the
`SIM_ANCHOR_DATE` environment variable, or today (UTC) — so events raised by the demo's business
days are recent, not backfill. Data are deterministic from (seed, size, anchor): moving the
anchor shifts every timestamp by whole days and changes nothing else.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

#: The anchor the generators were laid out against; other anchors shift time by whole days.
REFERENCE_ANCHOR = date(2025, 6, 2)
ANCHOR_ENV = "SIM_ANCHOR_DATE"


def resolve_anchor(anchor: date | str | None = None) -> date:
    """The anchor date: `anchor` if given, else `SIM_ANCHOR_DATE`, else today in UTC."""
    if anchor is None:
        anchor = os.environ.get(ANCHOR_ENV, "").strip() or None
    if anchor is None:
        return datetime.now(UTC).date()
    if isinstance(anchor, datetime):
        return anchor.date()
    if isinstance(anchor, date):
        return anchor
    try:
        return date.fromisoformat(anchor)
    except ValueError:
        raise ValueError(
            f"the simulator's anchor date must be YYYY-MM-DD (set by --anchor-date or "
            f"{ANCHOR_ENV}), not {anchor!r}"
        ) from None


def shift_days(anchor: date | str | None = None) -> int:
    """Whole days between the reference layout and `anchor` (resolved as above)."""
    return (resolve_anchor(anchor) - REFERENCE_ANCHOR).days
