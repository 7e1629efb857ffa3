"""Pull GoHighLevel contacts, opportunities and pipelines into `integrations.ghl_*`.

Contacts are read incrementally: the search sorts by `dateUpdated` and starts at the stored
watermark (inclusive, so ties at the boundary are re-read rather than skipped), and each page
commits together with the watermark it reached. A run stopped by GHL's daily limit therefore
resumes at the last committed page. The opportunities search has no `dateUpdated` filter, so
every run lists them all (a location holds hundreds, three or four pages), and only rows whose
`updatedAt` moved are written. An older version never overwrites a newer one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson
import psycopg
import sqlalchemy as sa

from perfect_catch.connectors.gohighlevel import GoHighLevelClient
from perfect_catch.integrations.db import connection, write_reject
from perfect_catch.phones import to_e164
from perfect_catch.warehouse.sync_state import get_state, save_watermark

SOURCE = "gohighlevel"


@dataclass
class PullResult:
    """What one pull did, for run metadata and the CLI summary."""

    entity: str
    location_id: str
    records: int = 0
    written: int = 0
    pages: int = 0
    watermark: datetime | None = None
    deleted: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_metadata(self) -> dict[str, Any]:
        return {
            "entity": self.entity,
            "location_id": self.location_id,
            "records": self.records,
            "written": self.written,
            "pages": self.pages,
            "deleted": self.deleted,
            "watermark": self.watermark.isoformat() if self.watermark else None,
            **self.extra,
        }


def parse_time(value: Any) -> datetime | None:
    """GHL timestamps: ISO 8601 with Z, or epoch milliseconds."""
    if value in (None, ""):
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value / 1000, UTC)
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _safe_time(record: Any, field: str) -> datetime | None:
    """The record's timestamp, or None when it is missing or malformed (the record itself is
    then rejected when written)."""
    try:
        return parse_time(record.get(field))
    except (ValueError, TypeError, AttributeError):
        return None


def _iso_ms(moment: datetime) -> str:
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


_CONTACT_SQL = """
insert into integrations.ghl_contacts as t (
    location_id, id, first_name, last_name, email, phone, phone_e164, type, tags, source,
    date_added, date_updated, raw, synced_at, deleted_at
) values (
    %(location_id)s, %(id)s, %(first_name)s, %(last_name)s, %(email)s, %(phone)s, %(phone_e164)s,
    %(type)s, %(tags)s, %(source)s, %(date_added)s, %(date_updated)s, %(raw)s::jsonb, now(), null
)
on conflict (location_id, id) do update set
    first_name = excluded.first_name, last_name = excluded.last_name, email = excluded.email,
    phone = excluded.phone, phone_e164 = excluded.phone_e164, type = excluded.type,
    tags = excluded.tags, source = excluded.source, date_added = excluded.date_added,
    date_updated = excluded.date_updated, raw = excluded.raw, synced_at = now(), deleted_at = null
where t.date_updated is null or excluded.date_updated > t.date_updated
    or (excluded.date_updated = t.date_updated and excluded.raw is distinct from t.raw)
    or t.deleted_at is not null
"""

_OPPORTUNITY_SQL = """
insert into integrations.ghl_opportunities as t (
    location_id, id, name, contact_id, pipeline_id, pipeline_stage_id, status, monetary_value,
    created_at, updated_at, raw, synced_at, deleted_at
) values (
    %(location_id)s, %(id)s, %(name)s, %(contact_id)s, %(pipeline_id)s, %(pipeline_stage_id)s,
    %(status)s, %(monetary_value)s, %(created_at)s, %(updated_at)s, %(raw)s::jsonb, now(), null
)
on conflict (location_id, id) do update set
    name = excluded.name, contact_id = excluded.contact_id, pipeline_id = excluded.pipeline_id,
    pipeline_stage_id = excluded.pipeline_stage_id, status = excluded.status,
    monetary_value = excluded.monetary_value, created_at = excluded.created_at,
    updated_at = excluded.updated_at, raw = excluded.raw, synced_at = now(), deleted_at = null
where t.updated_at is null or excluded.updated_at > t.updated_at
    or (excluded.updated_at = t.updated_at and excluded.raw is distinct from t.raw)
    or t.deleted_at is not null
"""


def _contact_row(location_id: str, record: dict[str, Any]) -> dict[str, Any]:
    raw = {k: v for k, v in record.items() if k != "searchAfter"}
    return {
        "location_id": location_id,
        "id": record["id"],
        "first_name": record.get("firstName"),
        "last_name": record.get("lastName"),
        "email": (record.get("email") or None),
        "phone": record.get("phone"),
        "phone_e164": to_e164(record.get("phone")),
        "type": record.get("type"),
        "tags": list(record.get("tags") or []),
        "source": record.get("source"),
        "date_added": parse_time(record.get("dateAdded")),
        "date_updated": parse_time(record.get("dateUpdated")),
        "raw": orjson.dumps(raw).decode(),
    }


def _opportunity_row(location_id: str, record: dict[str, Any]) -> dict[str, Any]:
    value = record.get("monetaryValue")
    return {
        "location_id": location_id,
        "id": record["id"],
        "name": record.get("name"),
        "contact_id": record.get("contactId") or (record.get("contact") or {}).get("id"),
        "pipeline_id": record.get("pipelineId"),
        "pipeline_stage_id": record.get("pipelineStageId"),
        "status": record.get("status"),
        "monetary_value": value if isinstance(value, int | float) else None,
        "created_at": parse_time(record.get("createdAt")),
        "updated_at": parse_time(record.get("updatedAt")),
        "raw": orjson.dumps(record).decode(),
    }


def write_rows(
    conn: psycopg.Connection,
    sql: str,
    build: Callable[[dict[str, Any]], dict[str, Any]],
    records: Iterable[Any],
    reject: tuple[str, str, str],
) -> int:
    """Write each record built by `build`; one that cannot be built (missing id, bad date) goes
    to `public.sync_rejects` with the reason instead of stopping the sync. Returns rows written.
    `reject` is (source, tenant, entity) for the rejects table."""
    written = 0
    with conn.cursor() as cur:
        for record in records:
            try:
                row = build(record)
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                write_reject(conn, *reject, record, f"{type(exc).__name__}: {exc}")
                continue
            cur.execute(sql, row)
            written += cur.rowcount
    return written


def upsert_contacts(conn: psycopg.Connection, location_id: str, records: list[dict]) -> int:
    """Write contacts (newer versions only); returns rows written."""
    return write_rows(
        conn,
        _CONTACT_SQL,
        lambda r: _contact_row(location_id, r),
        records,
        (SOURCE, location_id, "contacts"),
    )


def upsert_opportunities(conn: psycopg.Connection, location_id: str, records: list[dict]) -> int:
    """Write opportunities (newer versions only); returns rows written."""
    return write_rows(
        conn,
        _OPPORTUNITY_SQL,
        lambda r: _opportunity_row(location_id, r),
        records,
        (SOURCE, location_id, "opportunities"),
    )


def sync_ghl_contacts(
    engine: sa.Engine,
    client: GoHighLevelClient,
    *,
    full: bool = False,
    page_limit: int = 100,
    on_page: Callable[[PullResult], None] | None = None,
) -> PullResult:
    """Contacts changed since the watermark (all of them when `full` or on the first run).

    A full run also marks contacts GHL no longer returns as deleted.
    """
    location = client.location_id
    result = PullResult("contacts", location)
    seen: set[str] = set()
    with connection(engine) as conn:
        state = get_state(conn, SOURCE, location, "contacts")
        watermark = None if full else state.watermark
        filters = []
        if watermark is not None:
            filters.append(
                {"field": "dateUpdated", "operator": "range", "value": {"gte": _iso_ms(watermark)}}
            )
        pages = client.search_contacts(
            filters=filters,
            sort=[{"field": "dateUpdated", "direction": "asc"}],
            page_limit=page_limit,
        )
        for page in pages:
            newest = max(
                (t for t in (_safe_time(r, "dateUpdated") for r in page.records) if t),
                default=None,
            )
            with conn.transaction():
                result.written += upsert_contacts(conn, location, page.records)
                if newest is not None and (state.watermark is None or newest > state.watermark):
                    save_watermark(conn, SOURCE, location, "contacts", newest)
                    result.watermark = newest
            seen.update(str(r.get("id")) for r in page.records if isinstance(r, dict))
            result.records += len(page.records)
            result.pages += 1
            if on_page:
                on_page(result)
        if full:
            with conn.transaction():
                cur = conn.execute(
                    "update integrations.ghl_contacts set deleted_at = now() "
                    "where location_id = %s and deleted_at is null and not (id = any(%s))",
                    (location, list(seen)),
                )
                result.deleted = cur.rowcount
    result.watermark = result.watermark or state.watermark
    return result


def sync_ghl_opportunities(
    engine: sa.Engine,
    client: GoHighLevelClient,
    *,
    full: bool = False,
    on_page: Callable[[PullResult], None] | None = None,
) -> PullResult:
    """Every opportunity of the location, writing those whose `updatedAt` moved.

    A run that reads every page to the end also marks opportunities GHL no longer returns as
    deleted (GHL deletes opportunities outright).
    """
    location = client.location_id
    result = PullResult("opportunities", location)
    seen: set[str] = set()
    newest: datetime | None = None
    with connection(engine) as conn:
        state = get_state(conn, SOURCE, location, "opportunities")
        for records in client.search_opportunities():
            changed = [
                r
                for r in records
                if full
                or state.watermark is None
                or (_safe_time(r, "updatedAt") or state.watermark) >= state.watermark
            ]
            with conn.transaction():
                result.written += upsert_opportunities(conn, location, changed)
            for record in records:
                stamp = _safe_time(record, "updatedAt")
                if stamp is not None and (newest is None or stamp > newest):
                    newest = stamp
            seen.update(str(r.get("id")) for r in records if isinstance(r, dict))
            result.records += len(records)
            result.pages += 1
            if on_page:
                on_page(result)
        with conn.transaction():
            cur = conn.execute(
                "update integrations.ghl_opportunities set deleted_at = now() "
                "where location_id = %s and deleted_at is null and not (id = any(%s))",
                (location, list(seen)),
            )
            result.deleted = cur.rowcount
            if newest is not None and (state.watermark is None or newest > state.watermark):
                save_watermark(conn, SOURCE, location, "opportunities", newest)
    result.watermark = newest or state.watermark
    return result


def sync_ghl_pipelines(engine: sa.Engine, client: GoHighLevelClient) -> PullResult:
    """Replace the location's pipelines and stages with what GHL lists now."""
    location = client.location_id
    pipelines = client.pipelines()
    result = PullResult("pipelines", location, records=len(pipelines), pages=1)
    with connection(engine) as conn, conn.transaction():
        conn.execute(
            "delete from integrations.ghl_pipeline_stages where location_id = %s", (location,)
        )
        conn.execute("delete from integrations.ghl_pipelines where location_id = %s", (location,))
        for pipeline in pipelines:
            conn.execute(
                "insert into integrations.ghl_pipelines (location_id, id, name, raw) "
                "values (%s, %s, %s, %s::jsonb)",
                (
                    location,
                    pipeline["id"],
                    pipeline.get("name") or "",
                    orjson.dumps(pipeline).decode(),
                ),
            )
            for position, stage in enumerate(pipeline.get("stages") or []):
                conn.execute(
                    "insert into integrations.ghl_pipeline_stages "
                    "(location_id, pipeline_id, id, name, position) values (%s, %s, %s, %s, %s)",
                    (
                        location,
                        pipeline["id"],
                        stage["id"],
                        stage.get("name") or "",
                        stage.get("position", position),
                    ),
                )
        result.written = len(pipelines)
        result.extra["stages"] = sum(len(p.get("stages") or []) for p in pipelines)
    return result
