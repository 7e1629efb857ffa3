"""The SQL screen of query_database: one read-only query passes, anything else is refused
with a reason, and literals or comments never confuse it."""

from __future__ import annotations

import pytest

from perfect_catch.tools.sql_guard import UnsafeQuery, check_query, tokenize

ALLOWED = [
    "select 1",
    "SELECT 1;",
    "select 1 ;  -- trailing comment",
    "select ';' as semicolon -- ; drop table x",
    "select 'it''s; fine', e'\\'; still a string', $$ ; $$, $tag$ ; delete $tag$",
    'select "update", "delete" from (select 1 as "update", 2 as "delete") t',
    "with a as (select 1 as x) select x from a",
    "(select 1) union all (select 2)",
    "values (1), (2)",
    "table servicetitan.st_jobs",
    "select case when deleted_at is null then 'live' end from servicetitan.st_jobs",
    'select t.update from (select 1 as "update") t',
    "select /* nested /* comment */ ; */ 1",
    "select count(*) filter (where status = 'Open') from servicetitan.st_estimates",
]


@pytest.mark.parametrize("sql", ALLOWED)
def test_read_only_queries_pass(sql: str) -> None:
    assert check_query(sql).strip().rstrip(";") == check_query(sql).strip()


REFUSED = [
    ("select 1; select 2", "one statement"),
    ("select ';'; delete from x", "one statement"),
    ("select 1 -- ;\n; drop table x", "one statement"),
    ("insert into x values (1)", "INSERT"),
    ("with d as (delete from x returning *) select * from d", "writable CTE"),
    ("with d as (insert into x values (1) returning *) select * from d", "writable CTE"),
    ("select * from x for update", "locking"),
    ("select * from x for key share", "locking"),
    ("select * into y from x", "INTO"),
    ("set transaction read write", "SET"),
    ("begin", "transaction control"),
    ("copy x to stdout", "COPY"),
    ("explain analyze delete from x", "EXPLAIN"),
    ("select pg_sleep(1)", "pg_sleep"),
    ('select "pg_sleep"(1)', "pg_sleep"),
    ("select PG_CATALOG.PG_READ_FILE('x')", "file"),
    ("select pg_ls_dir('.')", "file"),
    ("select lo_export(1, '/tmp/x')", "large-object"),
    ("select set_config('a.b', 'c', false)", "set_config"),
    ("select nextval('s')", "sequence"),
    ("select txid_current()", "transaction id"),
    ("select pg_advisory_xact_lock(1)", "advisory"),
    ("select dblink_connect('x')", "dblink"),
    ("select ts_stat('select 1')", "SQL text"),
    ("select $1", "parameters"),
    ("", "empty"),
    (";", "empty"),
    ("select 'unterminated", "unterminated"),
    ("select $$ unterminated", "unterminated"),
    ('select "unterminated', "unterminated"),
]


@pytest.mark.parametrize(("sql", "reason"), REFUSED)
def test_everything_else_is_refused_with_a_reason(sql: str, reason: str) -> None:
    with pytest.raises(UnsafeQuery) as refused:
        check_query(sql)
    assert reason.lower() in str(refused.value).lower()


def test_tokenizer_keeps_literals_whole() -> None:
    tokens = tokenize("select 'a;b', \"c;d\", $x$e;f$x$ from t -- ; no")
    kinds = [t.kind for t in tokens]
    assert "semicolon" not in kinds
    assert [t.text for t in tokens if t.kind == "qident"] == ["c;d"]
