"""What the records of every area share: the record type, timestamps, and the counts the hot
generators divide by."""

from __future__ import annotations

from typing import Any

from perfect_catch.simulators.servicetitan.timefmt import format_ticks
from perfect_catch.simulators.servicetitan.universe import Universe

Record = dict[str, Any]


def stamps(u: Universe, entity: str, index: int) -> tuple[str, str]:
    """(createdOn, modifiedOn) of a base record."""
    return format_ticks(u.created_ticks(entity, index)), format_ticks(
        u.modified_ticks(entity, index)
    )


def hot_counts(u: Universe) -> tuple[int, int, int, int, int, int, int]:
    """Counts the hot generators (jobs, customers) divide by, looked up once per universe."""
    counts = u.memo.get("job_counts")
    if counts is None:
        c = u.counts
        counts = u.memo["job_counts"] = (
            c["jobs"],
            c["customers"],
            c["locations"],
            c["appointments"],
            c["invoices"],
            c["estimates"],
            c["invoice-items"],
        )
    return counts
