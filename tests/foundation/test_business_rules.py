"""The business rules written once as SQL functions (migrations 0009 and 0010), each called by
dbt and by Python: install work (dbt's install_job_created, the GoHighLevel push), A/R ageing
(the invoices and ar_aging marts, the ar_aging tool), what is owed on an invoice (the invoices
mart, invoice_overdue, the invoice_unpaid check, the customer tools) and the estimate close rate
(the estimate_pipeline mart, the estimate_close_rate tool)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

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


OWED = [
    # (total, ServiceTitan's balance, payments applied, still owed)
    (250, 250, None, 250),
    (250, 250, 250, 0),  # paid through payments while ServiceTitan's balance lags
    (250, 250, 100, 150),
    (250, 0, None, 0),  # paid in ServiceTitan before the payment synced
    (250, 100, 100, 100),
    (250, None, 40, 210),
    (250, 250, 300, 0),  # overpaid: never negative
]


@pytest.mark.parametrize(("total", "st_balance", "applied", "owed"), OWED)
def test_invoice_balance_due(
    engine: sa.Engine, total: int, st_balance: int | None, applied: int | None, owed: int
) -> None:
    with engine.connect() as conn:
        answer = conn.execute(
            sa.text("select public.invoice_balance_due(:total, :balance, :applied)"),
            {"total": total, "balance": st_balance, "applied": applied},
        ).scalar_one()
    assert answer == owed


def test_invoice_balance_due_over_the_raw_tables(engine: sa.Engine) -> None:
    """Payments of the invoice's customer applied to it count, however many and split across
    invoices; a deleted or inactive payment, or one applied to another invoice, does not."""
    payments = [
        (1, True, None, [(501, 100), (502, 30)]),
        (2, True, None, [(501, 50)]),
        (3, False, None, [(501, 1000)]),
        (4, True, datetime(2025, 1, 1, tzinfo=UTC), [(501, 1000)]),
        (5, None, None, [(501, 25)]),
    ]
    with engine.begin() as conn:
        for payment_id, active, deleted_at, applied in payments:
            raw = {
                "id": payment_id,
                "appliedTo": [
                    {"appliedTo": invoice, "appliedId": payment_id * 10 + n, "appliedAmount": amt}
                    for n, (invoice, amt) in enumerate(applied)
                ],
            }
            conn.execute(
                sa.text(
                    "insert into servicetitan.st_payments (tenant_id, id, customer_id, active,"
                    " raw, modified_on, synced_at, deleted_at)"
                    " values (1, :id, 77, :active, cast(:raw as jsonb), now(), now(), :deleted)"
                ),
                {"id": payment_id, "active": active, "raw": json.dumps(raw), "deleted": deleted_at},
            )
        conn.execute(
            sa.text(
                "insert into servicetitan.st_payments (tenant_id, id, customer_id, raw,"
                " modified_on, synced_at) values (1, 9, 77, '{\"appliedTo\": null}', now(), now())"
            )
        )
        owed = conn.execute(
            sa.text(
                "select servicetitan.invoice_amount_applied(1, 77, 501),"
                " servicetitan.invoice_balance_due(1, 77, 501, 250, 250),"
                " servicetitan.invoice_balance_due(1, 77, 502, 30, 30),"
                " servicetitan.invoice_balance_due(1, 77, 503, 80, 80)"
            )
        ).one()
    assert tuple(owed) == (175, 75, 0, 80)


@pytest.mark.parametrize(
    ("sold", "dismissed", "rate"),
    [
        (3, 1, 0.75),
        (0, 4, 0.0),
        (2, 0, 1.0),
        (0, 0, None),
        (None, 5, 0.0),
        (Decimal("1500.5"), Decimal("499.5"), 0.75025),
    ],
)
def test_estimate_close_rate_is_sold_over_decided(
    engine: sa.Engine, sold: Decimal | int | None, dismissed: Decimal | int, rate: float | None
) -> None:
    with engine.connect() as conn:
        answer = conn.execute(
            sa.text("select public.estimate_close_rate(:sold, :dismissed)"),
            {"sold": sold, "dismissed": dismissed},
        ).scalar_one()
    if rate is None:
        assert answer is None
    else:
        assert float(answer) == pytest.approx(rate)
