"""`integrations.is_install_work`, the install rule both dbt and the GoHighLevel push call."""

from __future__ import annotations

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
