"""`query_database` cannot change anything, whatever SQL it is given.

A battery of attempts to write, escape the transaction, read files or exhaust the server goes
through the MCP client; each gets a clear error (or a capped result), and afterwards every
table's contents, the roles, databases, sequences, settings and large objects are byte-for-byte
what they were. The same holds when the SQL screen is bypassed: the role, the read-only
transaction and the cursor refuse on their own.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
import sqlalchemy as sa

from perfect_catch.tools.database import run_readonly_query
from perfect_catch.tools.errors import ToolInputError

if TYPE_CHECKING:
    from tests.mcp.conftest import World

HOSTILE: list[tuple[str, str]] = [
    ("SELECT 1; COMMIT; DROP TABLE servicetitan.st_customers", "one statement"),
    ("select 1; drop table servicetitan.st_jobs;", "one statement"),
    ("SeLeCt 1; dRoP tAbLe servicetitan.st_jobs", "one statement"),
    ("select 1 /* ; */ ; delete from servicetitan.st_jobs", "one statement"),
    ("select $$;$$; delete from servicetitan.st_jobs", "one statement"),
    ("BEGIN; DELETE FROM servicetitan.st_jobs; COMMIT", "one statement"),
    ("DROP TABLE servicetitan.st_jobs", "DROP"),
    ("DELETE FROM servicetitan.st_customers", "DELETE"),
    ("UPDATE servicetitan.st_customers SET name = 'x'", "UPDATE"),
    ("INSERT INTO public.sync_state (source, tenant_id, entity) VALUES ('x', '1', 'y')", "INSERT"),
    (
        "MERGE INTO servicetitan.st_jobs t USING servicetitan.st_jobs s ON false "
        "WHEN NOT MATCHED THEN DO NOTHING",
        "MERGE",
    ),
    ("TRUNCATE servicetitan.st_invoices", "TRUNCATE"),
    (
        "WITH gone AS (DELETE FROM servicetitan.st_jobs RETURNING *) SELECT count(*) FROM gone",
        "writable CTE",
    ),
    (
        "with x as (update servicetitan.st_customers set name = 'x' returning id) select * from x",
        "writable CTE",
    ),
    ("SET TRANSACTION READ WRITE", "SET"),
    ("SET SESSION CHARACTERISTICS AS TRANSACTION READ WRITE", "SET"),
    ("RESET ROLE", "RESET"),
    ("COMMIT", "transaction control"),
    ("ROLLBACK", "transaction control"),
    ("COPY servicetitan.st_customers TO '/tmp/pc_leak.csv'", "COPY"),
    ("COPY (SELECT 1) TO PROGRAM 'touch /tmp/pc_pwned'", "COPY"),
    ("SELECT pg_read_file('/etc/passwd')", "file"),
    ("select pg_catalog.pg_read_binary_file('/etc/passwd')", "file"),
    ("SELECT lo_import('/etc/passwd')", "large-object"),
    ("select lo_from_bytea(0, 'x')", "large-object"),
    ("SELECT dblink_exec('dbname=postgres', 'drop table x')", "dblink"),
    ("SELECT set_config('default_transaction_read_only', 'off', false)", "set_config"),
    (
        "select pg_catalog.set_config('role', 'postgres', true), pg_read_file('/etc/passwd')",
        "set_config",
    ),
    ("SELECT pg_terminate_backend(pid) FROM pg_stat_activity", "kills other sessions"),
    ("SELECT nextval('public.sync_rejects_id_seq')", "sequence"),
    ("SELECT setval('public.sync_rejects_id_seq', 1000)", "sequence"),
    ("SELECT txid_current()", "transaction id"),
    ("select pg_current_xact_id()", "transaction id"),
    ("SELECT pg_sleep(60)", "pg_sleep"),
    ('select "pg_catalog"."pg_sleep"(30)', "pg_sleep"),
    ("SELECT * INTO public.stolen FROM servicetitan.st_customers", "INTO"),
    ("CREATE TABLE public.x (id int)", "CREATE"),
    ("ALTER ROLE perfect_catch_readonly SUPERUSER", "ALTER"),
    ("GRANT ALL ON ALL TABLES IN SCHEMA servicetitan TO PUBLIC", "GRANT"),
    ("SELECT * FROM servicetitan.st_customers FOR UPDATE", "FOR UPDATE"),
    ("select id from servicetitan.st_jobs for no key update", "FOR UPDATE"),
    ("SELECT pg_advisory_lock(42)", "advisory"),
    ("DO $$ BEGIN DELETE FROM servicetitan.st_jobs; END $$", "DO"),
    (
        "select query_to_xml('delete from servicetitan.st_jobs returning 1', true, true, '')",
        "runs SQL text",
    ),
    ("EXPLAIN ANALYZE DELETE FROM servicetitan.st_jobs", "EXPLAIN"),
    ("VACUUM FULL servicetitan.st_jobs", "VACUUM"),
    ("LOCK TABLE servicetitan.st_jobs", "LOCK"),
    ("CALL some_procedure()", "CALL"),
    ("NOTIFY pc_channel", "NOTIFY"),
    ("select pg_notify('pc_channel', 'x')", "notifications"),
    ("PREPARE p AS DELETE FROM servicetitan.st_jobs", "PREPARE"),
    ("select 1 /* unterminated", "unterminated"),
]


@pytest.fixture(scope="module")
def hostile_world(make_world) -> World:
    return make_world()


def test_hostile_sql_changes_nothing(hostile_world: World) -> None:
    world = hostile_world
    assert len(HOSTILE) >= 20
    before = world.snapshot()
    assert before["servicetitan.st_jobs"][0] > 0
    for sql, reason in HOSTILE:
        message = world.error("query_database", {"sql": sql, "timeout_seconds": 2})
        assert reason.lower() in message.lower(), (sql, message)
    exhausting = world.error(
        "query_database",
        {"sql": "select count(*) from generate_series(1, 10000000000)", "timeout_seconds": 1},
    )
    assert "cancelled" in exhausting
    huge = world.ok(
        "query_database",
        {
            "sql": "select c.id, j.id from servicetitan.st_customers c"
            " cross join servicetitan.st_jobs j cross join servicetitan.st_invoices i",
            "max_rows": 50,
            "timeout_seconds": 5,
        },
    )
    assert huge["truncated"] and huge["row_count"] == 50 and "first 50 rows" in huge["note"]
    after = world.snapshot()
    assert after == before
    with world.engine.connect() as conn:
        assert conn.execute(sa.text("select current_user")).scalar() != "perfect_catch_readonly"


BYPASS: list[str] = [
    "with d as (delete from servicetitan.st_jobs returning 1) select count(*) from d",
    "select 1; drop table servicetitan.st_jobs",
    "delete from servicetitan.st_jobs",
    "select pg_read_file('/etc/passwd')",
    "select lo_import('/etc/passwd')",
    "select nextval('public.sync_rejects_id_seq')",
    "select * from servicetitan.st_customers for update",
    "select * into public.stolen from servicetitan.st_customers",
    "copy servicetitan.st_customers to stdout",
    "set transaction read write",
    "select pg_terminate_backend(pg_backend_pid())",
]


def test_without_the_sql_screen_the_database_still_refuses(hostile_world: World) -> None:
    """Defence in depth: the role, the read-only transaction and the cursor hold alone."""
    world = hostile_world
    before = world.snapshot()
    for sql in BYPASS:
        with pytest.raises(ToolInputError):
            run_readonly_query(world.engine, sql, max_rows=5, timeout_seconds=2)
    locked = run_readonly_query(
        world.engine, "select pg_advisory_lock(4242)", max_rows=1, timeout_seconds=2
    )
    assert len(locked.rows) == 1
    assert world.snapshot() == before


def test_plain_queries_work_under_the_readonly_role(hostile_world: World) -> None:
    world = hostile_world
    answer = world.ok(
        "query_database",
        {
            "sql": "select current_user as who, current_setting('transaction_read_only') as ro,"
            " count(*) as n from st_customers"
        },
    )
    row = answer["rows"][0]
    assert row["who"] == "perfect_catch_readonly" and row["ro"] == "on"
    assert row["n"] == world.scalar("select count(*) from servicetitan.st_customers")
    strings = world.ok(
        "query_database",
        {"sql": "select ';' as semi, 'drop table x' as text, $$ ; delete $$ as dollar -- ; x"},
    )
    assert strings["rows"] == [{"semi": ";", "text": "drop table x", "dollar": " ; delete "}]
    percent = world.ok(
        "query_database",
        {"sql": "select count(*) as n, '%s' as p from st_customers where name like '%a%'"},
    )
    assert percent["rows"][0]["p"] == "%s" and percent["rows"][0]["n"] > 0
    assert "does not exist" in world.error("query_database", {"sql": "select * from nope"})
