"""`monitoring/incidents`: the open and recently resolved incidents as a table in the UI,
refreshed on a schedule and after every healing pass."""

import dagster as dg
import sqlalchemy as sa

from perfect_catch.defs.warehouse.resources import WarehouseResource
from perfect_catch.defs.workflows.jobs import warehouse_engine
from perfect_catch.settings import get_settings

COLUMNS = ("id", "kind", "status", "scope", "occurrences", "last_seen", "diagnosis", "resolved_by")
SCHEMA = dg.TableSchema(
    columns=[
        dg.TableColumn("id", "int"),
        dg.TableColumn("kind", "string"),
        dg.TableColumn("status", "string"),
        dg.TableColumn("scope", "string"),
        dg.TableColumn("occurrences", "int"),
        dg.TableColumn("last_seen", "string"),
        dg.TableColumn("diagnosis", "string"),
        dg.TableColumn("resolved_by", "string"),
    ]
)
_ROWS = sa.text(
    """
    select id, kind, status,
        concat_ws(' ', source, tenant_id, entity) as scope,
        occurrences, to_char(last_seen, 'YYYY-MM-DD HH24:MI:SS') as last_seen,
        coalesce(diagnosis, '') as diagnosis, coalesce(resolved_by, '') as resolved_by
    from monitoring.incidents
    where status = 'open' or resolved_at > now() - interval '7 days'
    order by status, last_seen desc limit 200
    """
)


@dg.asset(
    key=dg.AssetKey(["monitoring", "incidents"]),
    group_name="monitoring",
    kinds={"postgres"},
    description="Open incidents and those resolved in the last 7 days (one per root cause), "
    "with the rules' diagnosis and what resolved them; the source is monitoring.incidents.",
    metadata={"dagster/table_name": "monitoring.incidents", "dagster/column_schema": SCHEMA},
    tags={"domain": "monitoring"},
)
def incidents_asset(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse_engine(warehouse) as engine, engine.connect() as conn:
        rows = conn.execute(_ROWS).mappings().all()
    open_count = sum(1 for row in rows if row["status"] == "open")
    return dg.MaterializeResult(
        metadata={
            "open_incidents": open_count,
            "incidents": dg.MetadataValue.table(
                records=[dg.TableRecord({c: row[c] for c in COLUMNS}) for row in rows],
                schema=SCHEMA,
            ),
            "dagster/row_count": len(rows),
        }
    )


incidents_job = dg.define_asset_job(
    name="monitoring_incidents",
    selection=dg.AssetSelection.assets(incidents_asset),
    description="Refresh the monitoring/incidents table.",
    tags={"domain": "monitoring"},
)

incidents_schedule = dg.ScheduleDefinition(
    name="monitoring_incidents_schedule",
    job=incidents_job,
    cron_schedule="*/10 * * * *",
    default_status=(
        dg.DefaultScheduleStatus.RUNNING
        if get_settings().schedules_default_on
        else dg.DefaultScheduleStatus.STOPPED
    ),
    description="Refresh the monitoring/incidents asset every 10 minutes.",
    metadata={"asset": "monitoring/incidents"},
)
