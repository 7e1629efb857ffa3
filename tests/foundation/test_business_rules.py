"""The business rules written once as SQL functions (migration 0008), each called by dbt and by
Python: install work (dbt's install_job_created, the GoHighLevel push) and A/R ageing (the
invoices and ar_aging marts, the ar_aging tool)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

JOB_TYPES = ["%install%"]
BUSINESS_UNITS = ["%install%", "Pool Construction"]
"""The default INSTALL_JOB_TYPES and INSTALL_BUSINESS_UNITS."""

CASES = [
    # (job type, business unit, install?) under those patterns
    ("Pool Install", "Pool Service", True),
    ("Repair", "Electrical INSTALL", True),
    ("Repair", "Pool Construction", True),
    ("Repair", "pool construction", True),
    ("Repair", "Pool Construction East", False),
    ("Service Call", "Pool Service", False),
    (None, None, False),
    (None, "Installations", True),
]


@pytest.mark.parametrize(("job_type", "business_unit", "expected"), CASES)
def test_default_patterns(
    engine: sa.Engine, job_type: str | None, business_unit: str | None, expected: bool
) -> None:
    with engine.connect() as conn:
        answer = conn.execute(
            sa.text("select integrations.is_install_work(:t, :b, :tp, :bp)"),
            {
                "t": job_type,
                "b": business_unit,
                "tp": JOB_TYPES,
                "bp": BUSINESS_UNITS,
            },
        ).scalar_one()
    assert answer is expected


def test_no_patterns_means_no_install_work(engine: sa.Engine) -> None:
    with engine.connect() as conn:
        answer = conn.execute(
            sa.text("select integrations.is_install_work('Pool Install', 'Install', :p, :p)"),
            {"p": []},
        ).scalar_one()
    assert answer is False


AS_OF = datetime(2025, 6, 1, 12, tzinfo=UTC)
AGES = [
    # (how long past due at AS_OF, days past due, bucket)
    (None, 0, "current"),
    (timedelta(days=-3), 0, "current"),
    (timedelta(0), 0, "current"),
    (timedelta(hours=23), 0, "current"),
    (timedelta(days=1), 1, "1-30"),
    (timedelta(days=30, hours=23), 30, "1-30"),
    (timedelta(days=31), 31, "31-60"),
    (timedelta(days=60, hours=12), 60, "31-60"),
    (timedelta(days=61), 61, "61-90"),
    (timedelta(days=90, hours=23), 90, "61-90"),
    (timedelta(days=91), 91, "over 90"),
    (timedelta(days=800), 800, "over 90"),
]


@pytest.mark.parametrize(("late", "days", "bucket"), AGES)
def test_ar_aging_by_whole_days_past_due(
    engine: sa.Engine, late: timedelta | None, days: int, bucket: str
) -> None:
    due_at = None if late is None else AS_OF - late
    with engine.connect() as conn:
        row = conn.execute(
            sa.text(
                "select d, public.ar_aging_bucket(d) from"
                " (select public.days_past_due(:due, :as_of) as d) x"
            ),
            {"due": due_at, "as_of": AS_OF},
        ).one()
    assert tuple(row) == (days, bucket)
