"""No test makes its own copy of a relation dbt owns.

`staging`, `marts` and `events` are dbt's: a test that creates (or alters, or drops) one of their
relations with DDL of its own tests that copy, which drifts from the model (it did: a hand-made
`events.workflow_events` kept a column the model had renamed). Tests build them with dbt (the
`events_template` fixture) or fill the raw tables and run the models.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parents[1]
DBT_SCHEMAS = ("staging", "marts", "events")
#: Between two words of the statement: white space, or the quotes and `+` of a string that is
#: split over several lines.
_GAP = r"""(?:[\s"'+]|\\n)+"""
_OBJECT = (
    rf"(?:or{_GAP}replace{_GAP})?(?:(?:unlogged|temp|temporary|materialized){_GAP})?"
    r"(?:table|view|schema|index|sequence|function|type)"
)
_VERB = rf"(?:(?:create|alter|drop){_GAP}{_OBJECT}|truncate(?:{_GAP}table)?)"
_IF = rf"(?:{_GAP}if{_GAP}(?:not{_GAP})?exists)?"
_INDEX_ON = rf"(?:{_GAP}[\w\"]+{_GAP}on)?"
_NAME = rf"""{_GAP}"?(?:{"|".join(DBT_SCHEMAS)})"?(?:\.|\b)"""
DBT_DDL = re.compile(rf"\b{_VERB}{_IF}{_INDEX_ON}(?:{_GAP}only)?{_NAME}", re.IGNORECASE)


def dbt_ddl(text: str) -> list[str]:
    """The statements in `text` that write DDL for a relation of a dbt-owned schema."""
    return [match.group(0) for match in DBT_DDL.finditer(text)]


def _test_sources() -> list[Path]:
    return sorted(p for p in TESTS.rglob("*.py") if p.resolve() != Path(__file__).resolve())


def test_no_test_file_writes_ddl_for_a_dbt_relation() -> None:
    sources = _test_sources()
    assert len(sources) > 50, "the tests folder was not found"
    offenders = {
        str(path.relative_to(TESTS)): found
        for path in sources
        if (found := dbt_ddl(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


@pytest.mark.parametrize(
    "statement",
    [
        "create schema if not exists events",
        'create schema "marts"',
        "CREATE TABLE IF NOT EXISTS events.workflow_events (event_seq bigint)",
        'create table "staging"."stg_jobs" (id int)',
        "create or replace view staging.stg_servicetitan__jobs as select 1",
        "create materialized view marts.fct_jobs as select 1",
        "create unlogged table events.x (id int)",
        "create index if not exists ix on events.workflow_events (event_seq)",
        "alter table events.workflow_events add column x int",
        "drop table if exists marts.fct_invoices",
        "drop schema events cascade",
        "truncate events.workflow_events",
        "truncate table only events.workflow_events",
        '"create table if not exists "\n    "events.workflow_events (event_seq bigint)"',
    ],
)
def test_the_check_finds_each_form_of_dbt_ddl(statement: str) -> None:
    assert len(dbt_ddl(statement)) == 1


@pytest.mark.parametrize(
    "statement",
    [
        "insert into events.workflow_events (event_seq) values (1)",
        "select * from marts.fct_invoices",
        "create table public.bench_plain (id bigint)",
        "drop table servicetitan.st_jobs",
        "create database events_copy template pc_template",
        "create table eventsx.y (id int)",
        "create schema staging_area",
    ],
)
def test_the_check_leaves_other_statements_alone(statement: str) -> None:
    assert dbt_ddl(statement) == []
