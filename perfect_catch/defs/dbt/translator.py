"""How dbt's nodes appear in Dagster: keys, groups, lineage to the sync assets, automation.

dbt sources are the raw tables the sync assets load, so each source is given the key of
the asset that writes it (`servicetitan/<entity>`, item tables belonging to their parent
entity's asset; `gohighlevel/<entity>`, `callrail/calls`) and the UI shows the syncs -> staging
-> events/marts as one graph. Models are keyed by the schema they are written to (`staging`,
`marts`, `events`).
"""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from perfect_catch.settings import Settings
from perfect_catch.warehouse.catalog import ENTITIES

SOURCE_ASSET_PREFIX = "servicetitan"

TABLE_TO_ENTITY: dict[tuple[str, str], str] = {
    **{(spec.schema, spec.table): spec.name for spec in ENTITIES},
    **{(child.schema, child.table): spec.name for spec in ENTITIES for child in spec.children},
}
"""(schema, table) of every raw table -> the name of the sync asset that loads it."""

SUPPLIER_SCHEMA = "pricebook"
SUPPLIER_TABLES = {
    (SUPPLIER_SCHEMA, table)
    for table in ("vendor_prices", "vendor_products", "material_vendor_map")
}
"""Supplier tables: complete once the material map is rebuilt after the supplier assets."""
SUPPLIER_SOURCE_KEY = dg.AssetKey(["suppliers", "material_vendor_map"])
INTEGRATION_SOURCES: dict[tuple[str, str], dg.AssetKey] = {
    ("integrations", "ghl_contacts"): dg.AssetKey(["gohighlevel", "contacts"]),
    ("integrations", "ghl_opportunities"): dg.AssetKey(["gohighlevel", "opportunities"]),
    ("integrations", "callrail_calls"): dg.AssetKey(["callrail", "calls"]),
    ("automation", "outbox"): dg.AssetKey(["automation", "outbox"]),
    ("integrations", "marketing_spend"): dg.AssetKey(["integrations", "marketing_spend"]),
}
"""(schema, table) of the other tables dbt reads -> their asset key: the GoHighLevel and
CallRail syncs' assets, and tables the platform or the shop writes outside any asset (the
outbox, the marketing spend), which the UI shows as external tables."""

REBUILD_AFTER_SYNCS = dg.AutomationCondition.eager().without(
    ~dg.AutomationCondition.any_deps_missing()
)
"""Event models: rebuild when any upstream sync (any tenant partition) or model has new data.

`eager()` as is would wait until every tenant partition of every upstream sync exists; a
tenant whose settings tables were never synced must not stop the events of the others, so the
missing-dependency guard is dropped. The condition still waits for syncs in progress and never
starts while a dbt run of the same models is in progress.
"""

REBUILD_WHEN_CHANGED = (
    dg.AutomationCondition.missing().newly_true() | dg.AutomationCondition.code_version_changed()
).since_last_handled() & ~dg.AutomationCondition.in_progress()
"""Views (staging): built when missing or when their SQL changed (code version = the dbt
checksum). A view reads its raw table when queried, so new synced rows need no rebuild."""

BUILT_BY_THE_EVENT_LANE = REBUILD_WHEN_CHANGED.with_label(
    "built by the event lane; here when missing or changed"
)
"""Event models when the event lane is on (`ST_EVENT_SYNC_INTERVAL_SECONDS`): its run builds
them after every sync of the entities that raise events and picks up what the other syncs wrote,
so a rebuild after each of those syncs would only hold the `dbt_warehouse` pool while the lane
waits for it. Built here only when missing or when their SQL changed."""


def rebuild_on_cron(cron: str) -> dg.AutomationCondition:
    """Marts (tables for reporting): rebuilt once per tick of `cron` — not after every sync,
    which with a 30-second event lane would rebuild every table twice a minute and hold the
    `dbt_warehouse` pool the event models need — and when missing or changed."""
    tick = (
        dg.AutomationCondition.cron_tick_passed(cron).since_last_handled()
        & ~dg.AutomationCondition.in_progress()
        & ~dg.AutomationCondition.any_deps_in_progress()
    )
    return tick.with_label(f"rebuild on cron {cron}") | REBUILD_WHEN_CHANGED


EVENTS_GROUP = "dbt_events"
"""The group of the event models (`models/events/`): groups are `dbt_<folder>`."""


def _folder(props: Mapping[str, Any]) -> str:
    fqn = props.get("fqn") or []
    return fqn[1] if len(fqn) > 2 else "models"


class PerfectCatchDbtTranslator(DagsterDbtTranslator):
    """Sources keyed like the sync assets; models keyed and grouped by schema; automation from
    `platform` (the event lane, the marts' cron)."""

    def __init__(self, platform: Settings) -> None:
        super().__init__(
            settings=DagsterDbtTranslatorSettings(
                enable_asset_checks=True,
                enable_duplicate_source_asset_keys=True,
            )
        )
        self.platform = platform

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            key = (dbt_resource_props["schema"], dbt_resource_props["name"])
            if key in SUPPLIER_TABLES:
                return SUPPLIER_SOURCE_KEY
            if key in INTEGRATION_SOURCES:
                return INTEGRATION_SOURCES[key]
            entity = TABLE_TO_ENTITY.get(key)
            if entity is None:
                raise KeyError(f"dbt source {key[0]}.{key[1]} is not a table of any sync asset")
            return dg.AssetKey([SOURCE_ASSET_PREFIX, entity])
        schema = dbt_resource_props.get("schema") or "dbt"
        return dg.AssetKey([schema, dbt_resource_props["name"]])

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return f"dbt_{_folder(dbt_resource_props)}"

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        own = (dbt_resource_props.get("description") or "").strip()
        relation = f"{dbt_resource_props.get('schema')}.{dbt_resource_props['name']}"
        materialized = dbt_resource_props.get("config", {}).get("materialized", "view")
        where = f"dbt {materialized} `{relation}`."
        return f"{own}\n\n{where}" if own else where

    def get_metadata(self, dbt_resource_props: Mapping[str, Any]) -> Mapping[str, Any]:
        metadata = dict(super().get_metadata(dbt_resource_props))
        metadata["dagster/table_name"] = (
            f"{dbt_resource_props.get('schema')}.{dbt_resource_props['name']}"
        )
        metadata["dbt_layer"] = _folder(dbt_resource_props)
        metadata["materialized"] = dbt_resource_props.get("config", {}).get("materialized")
        return metadata

    def get_automation_condition(
        self, dbt_resource_props: Mapping[str, Any]
    ) -> dg.AutomationCondition | None:
        if _folder(dbt_resource_props) == "events":
            lane = self.platform.st_event_sync_interval_seconds > 0
            return BUILT_BY_THE_EVENT_LANE if lane else REBUILD_AFTER_SYNCS
        if dbt_resource_props.get("config", {}).get("materialized") == "view":
            return REBUILD_WHEN_CHANGED
        return rebuild_on_cron(self.platform.dbt_marts_cron)
