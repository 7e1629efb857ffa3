"""ServiceTitan's status names in Python (`warehouse/st_statuses.py`) are the ones dbt tests
for and filters on: a status spelled differently on one side would silently match nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from perfect_catch.warehouse.dbt_env import PROJECT_DIR
from perfect_catch.warehouse.st_statuses import AppointmentStatus, EstimateStatus, JobStatus

STAGING = PROJECT_DIR / "models" / "staging" / "servicetitan"

COLUMNS = [
    # (staging model, status column, the Python constants)
    ("stg_servicetitan__estimates", "estimate_status", EstimateStatus.ALL),
    ("stg_servicetitan__jobs", "job_status", JobStatus.ALL),
    ("stg_servicetitan__appointments", "appointment_status", AppointmentStatus.ALL),
]


def _accepted_values(model: str, column: str) -> list[str]:
    spec = yaml.safe_load((STAGING / f"{model}.yml").read_text())
    found = next(m for m in spec["models"] if m["name"] == model)
    tests = next(c for c in found["columns"] if c["name"] == column)["data_tests"]
    accepted = next(t["accepted_values"] for t in tests if isinstance(t, dict))
    return list(accepted["arguments"]["values"])


@pytest.mark.parametrize(("model", "column", "statuses"), COLUMNS)
def test_dbt_accepts_exactly_the_python_statuses(
    model: str, column: str, statuses: tuple[str, ...]
) -> None:
    assert _accepted_values(model, column) == list(statuses)


def _sql_files() -> list[Path]:
    return sorted(
        [*(PROJECT_DIR / "models").rglob("*.sql"), *(PROJECT_DIR / "macros").glob("*.sql")]
    )


def test_every_status_dbt_filters_on_is_a_python_constant() -> None:
    """`estimate_status = 'Sold'`, `job_status <> 'Completed'`, `status='Dismissed'` (a macro
    argument): each literal compared with a status column or passed as one."""
    pattern = re.compile(r"(?:status\s*(?:=|<>|!=)\s*|status=)'(\w*)'")
    known = {*EstimateStatus.ALL, *JobStatus.ALL, *AppointmentStatus.ALL}
    found = {
        (path.name, value) for path in _sql_files() for value in pattern.findall(path.read_text())
    }
    assert {value for _, value in found} >= {"Open", "Sold", "Dismissed", "Completed"}
    assert {(name, value) for name, value in found if value not in known} == set()
