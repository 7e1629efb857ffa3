"""The anomaly checks on synced data: weekday volume, row-count drops, reject share (and the
missing field that makes rejects a schema drift), each opening or resolving its incident."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa

from perfect_catch.monitoring import anomalies
from perfect_catch.monitoring.recording import Monitor
from perfect_catch.settings import load_settings

NOW = datetime(2030, 6, 4, 16, 0, tzinfo=UTC)


def test_a_quiet_weekday_is_compared_with_the_same_weekday() -> None:
    assert not anomalies.volume_is_anomalous(4, [5, 3, 6, 4])  # a quiet Sunday, as usual
    assert anomalies.volume_is_anomalous(10, [120, 100, 110, 130])
    assert not anomalies.volume_is_anomalous(0, [])
    assert not anomalies.volume_is_anomalous(2, [10, 12, 9, 11])  # too few to judge


def _reject(conn: sa.Connection, reason: str, n: int) -> None:
    for i in range(n):
        conn.execute(
            sa.text(
                "insert into public.sync_rejects (source, tenant_id, entity, record_id, reason,"
                " raw, rejected_at) values ('servicetitan', '1', 'jobs', :id, :r, '{}', :at)"
            ),
            {"id": f"{reason}-{i}", "r": reason, "at": NOW - timedelta(hours=1)},
        )


def test_rejects_are_bad_records_or_a_schema_drift_by_their_reason(
    engine: sa.Engine, database_url: str
) -> None:
    monitor = Monitor(engine, load_settings(database_url=database_url))
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into monitoring.sync_runs (source, tenant_id, entity, run_id, ok,"
                " records, finished_at) values ('servicetitan', '1', 'jobs', 'r', true, 100, :at)"
            ),
            {"at": NOW - timedelta(hours=1)},
        )
        _reject(conn, "modifiedOn: missing", 40)
    drift = anomalies.rejects(engine, "servicetitan", "1", "jobs", NOW)
    assert not drift.passed and drift.kind == "schema_drift"
    assert "modifiedOn: missing" in drift.detail
    [incident_id] = anomalies.evaluate(monitor, [drift], "check-1")

    with engine.begin() as conn:
        _reject(conn, "customerId: expected an integer, got str", 60)
    bad = anomalies.rejects(engine, "servicetitan", "1", "jobs", NOW)
    assert not bad.passed and bad.kind == "bad_records"

    # A successful sync that still rejected records proves neither gone…
    monitor.success(source="servicetitan", run_id="s1", tenant_id="1", entity="jobs", rejected=3)
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("select status from monitoring.incidents where id = :id"), {"id": incident_id}
        ).scalar()
    assert status == "open"
    # …the rejects check passing does.
    later = anomalies.rejects(engine, "servicetitan", "1", "jobs", NOW + timedelta(days=2))
    assert later.passed
    anomalies.evaluate(monitor, [later], "check-2")
    with engine.connect() as conn:
        status = conn.execute(
            sa.text("select status from monitoring.incidents where id = :id"), {"id": incident_id}
        ).scalar()
    assert status == "resolved"


def test_rows_never_drop_without_deletes_to_explain_them(engine: sa.Engine) -> None:
    def add(ids: range, deleted: bool = False) -> None:
        with engine.begin() as conn:
            for i in ids:
                conn.execute(
                    sa.text(
                        "insert into servicetitan.st_technicians (tenant_id, id, raw, modified_on,"
                        " synced_at, deleted_at) values (1, :id, '{}', now(), now(), :d)"
                    ),
                    {"id": i, "d": NOW if deleted else None},
                )

    table = "servicetitan.st_technicians"
    add(range(10))
    first = anomalies.row_count(engine, "servicetitan", "1", "technicians", table, NOW)
    assert first.passed
    with engine.begin() as conn:
        conn.execute(
            sa.text(f"update {table} set deleted_at = now() where id < 3")
        )  # the source deleted three: explained
    later = NOW + timedelta(minutes=5)
    explained = anomalies.row_count(engine, "servicetitan", "1", "technicians", table, later)
    assert explained.passed
    with engine.begin() as conn:
        conn.execute(sa.text(f"delete from {table} where id in (5, 6)"))  # vanished
    latest = NOW + timedelta(minutes=10)
    vanished = anomalies.row_count(engine, "servicetitan", "1", "technicians", table, latest)
    assert not vanished.passed and vanished.kind == "volume_anomaly"
    assert "2 rows vanished" in vanished.detail
