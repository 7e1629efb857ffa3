"""Push ServiceTitan's sales progress to GoHighLevel: contacts and opportunity stages.

One set of idempotent functions serves two drivers: events (a workflow step calls
`push_estimate` when an estimate is sold) and `reconcile_ghl`, which re-pushes everything
recently changed on a schedule and so repairs drift. Idempotence rests on two link tables:

- `ghl_customer_contacts`: an ST customer's GHL contact, found by E.164 phone, then by email,
  and only then created (through upsert, which de-duplicates again), so no duplicate contact is
  made. The customer's first opportunity (the lead, in CONTACTED) is recorded there too.
- `ghl_estimate_opportunities`: the one opportunity of an estimate, keyed by the estimate id.
  The customer's first estimate takes over the lead opportunity (recorded, so never guessed);
  later ones get their own. Opportunity names end in "(ST estimate N)", so an opportunity created
  by a run that died before recording it is found again instead of created twice.

Each push reads the opportunity's current stage from GHL and moves it only forward (see
`ghl_stages.RANK`); every push is written to `integrations.ghl_sync_log` with its outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import sqlalchemy as sa
from psycopg.rows import dict_row

from perfect_catch.connectors.gohighlevel import GhlDailyLimitError, GoHighLevelClient
from perfect_catch.connectors.http import ApiError
from perfect_catch.integrations.db import connection
from perfect_catch.integrations.ghl_stages import (
    INSTALL_STAGE_OF_JOB,
    RANK,
    StageMap,
    resolve_stages,
    status_of,
)
from perfect_catch.phones import to_e164
from perfect_catch.settings import Settings


@dataclass(frozen=True)
class PushOutcome:
    """What one push did: created, updated, unchanged, skipped or failed."""

    entity: str
    entity_id: int
    outcome: str
    ghl_id: str | None = None
    detail: str | None = None


@dataclass
class ReconcileResult:
    """Counts of outcomes per entity of one reconciliation run."""

    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)

    def add(self, outcome: PushOutcome) -> None:
        per_entity = self.counts.setdefault(outcome.entity, {})
        per_entity[outcome.outcome] = per_entity.get(outcome.outcome, 0) + 1
        if outcome.outcome == "failed":
            self.failures.append(f"{outcome.entity} {outcome.entity_id}: {outcome.detail}")

    def as_metadata(self) -> dict[str, Any]:
        return {"counts": self.counts, "failures": len(self.failures)}


INSTALL_JOINS = (
    "left join servicetitan.st_job_types t on t.tenant_id = j.tenant_id and t.id = j.job_type_id "
    "left join servicetitan.st_business_units b "
    "on b.tenant_id = j.tenant_id and b.id = j.business_unit_id"
)
INSTALL_WORK = "integrations.is_install_work(t.name, b.name, %s, %s)"
"""Whether job `j` (with `INSTALL_JOINS`) is install work: the SQL function dbt's
`install_job_created` event uses too, given the job type and business unit patterns."""


class _Skip(Exception):
    """A push that has nothing to do (no phone or email, not an install job, ...)."""


def _split_name(name: str | None) -> tuple[str | None, str | None]:
    parts = (name or "").split()
    if not parts:
        return None, None
    return parts[0], " ".join(parts[1:]) or None


class GhlPusher:
    """Pushes of one ST tenant to one GHL location. Not thread-safe: one per run or step."""

    def __init__(
        self,
        engine: sa.Engine,
        client: GoHighLevelClient,
        tenant_id: int,
        settings: Settings,
        *,
        now: Callable[[], datetime] | None = None,
        run_id: str | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.tenant_id = int(tenant_id)
        self.config = settings.integrations
        self.location_id = client.location_id
        self.run_id = run_id
        self._now = now or (lambda: datetime.now(UTC))
        self._stage_map: StageMap | None = None
        self._opportunities: dict[str, dict[str, Any]] | None = None

    @property
    def stage_map(self) -> StageMap:
        if self._stage_map is None:
            self._stage_map = resolve_stages(self.client.pipelines(), self.config)
        return self._stage_map

    def prefetch_opportunities(self) -> None:
        """Read every opportunity once, so a reconciliation compares without one GET each."""
        self._opportunities = {
            o["id"]: o for page in self.client.search_opportunities() for o in page
        }

    # --- the public pushes ---------------------------------------------------------------------

    def push_customer(self, customer_id: int) -> PushOutcome:
        """Make sure the customer has a GHL contact and a lead opportunity (CONTACTED)."""
        return self._logged("customer", customer_id, self._push_customer)

    def push_appointment(self, appointment_id: int) -> PushOutcome:
        """A booked appointment moves the customer's lead opportunity to APPOINTMENT_SCHEDULED."""
        return self._logged("appointment", appointment_id, self._push_appointment)

    def push_estimate(self, estimate_id: int) -> PushOutcome:
        """The estimate's opportunity to the stage, status and value its ST state calls for."""
        return self._logged("estimate", estimate_id, self._push_estimate)

    def push_job(self, job_id: int) -> PushOutcome:
        """An install job moves its sold estimate's opportunity through the install pipeline."""
        return self._logged("job", job_id, self._push_job)

    # --- plumbing ------------------------------------------------------------------------------

    def _logged(
        self, entity: str, entity_id: int, push: Callable[[psycopg.Connection, int], PushOutcome]
    ) -> PushOutcome:
        with connection(self.engine) as conn:
            try:
                outcome = push(conn, int(entity_id))
            except _Skip as skip:
                outcome = PushOutcome(entity, int(entity_id), "skipped", detail=str(skip))
            except GhlDailyLimitError as exc:
                self._log(conn, PushOutcome(entity, int(entity_id), "failed", detail=str(exc)))
                raise
            except ApiError as exc:
                outcome = PushOutcome(entity, int(entity_id), "failed", detail=str(exc))
            self._log(conn, outcome)
            return outcome

    def _log(self, conn: psycopg.Connection, outcome: PushOutcome) -> None:
        conn.execute(
            "insert into integrations.ghl_sync_log (direction, action, tenant_id, entity, "
            "entity_id, location_id, ghl_id, outcome, detail, run_id) "
            "values ('push', %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            (
                f"push_{outcome.entity}",
                self.tenant_id,
                outcome.entity,
                str(outcome.entity_id),
                self.location_id,
                outcome.ghl_id,
                outcome.outcome,
                (outcome.detail or "")[:2000] or None,
                self.run_id,
            ),
        )

    def _one(self, conn: psycopg.Connection, sql: str, params: tuple) -> dict[str, Any] | None:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return cur.fetchone()

    def _all(self, conn: psycopg.Connection, sql: str, params: tuple) -> list[dict[str, Any]]:
        with conn.cursor(row_factory=dict_row) as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    # --- contacts ------------------------------------------------------------------------------

    def _customer(self, conn: psycopg.Connection, customer_id: int) -> dict[str, Any]:
        row = self._one(
            conn,
            "select id, name, street, city, state, zip, merged_to_id "
            "from servicetitan.st_customers "
            "where tenant_id = %s and id = %s and deleted_at is null",
            (self.tenant_id, customer_id),
        )
        if row is None:
            raise _Skip(f"customer {customer_id} is not in the warehouse")
        return row

    def _contact_link(self, conn: psycopg.Connection, customer_id: int) -> dict[str, Any] | None:
        return self._one(
            conn,
            "select contact_id, lead_opportunity_id, lead_claimed_by_estimate_id "
            "from integrations.ghl_customer_contacts "
            "where tenant_id = %s and customer_id = %s and location_id = %s",
            (self.tenant_id, customer_id, self.location_id),
        )

    def _ensure_contact(self, conn: psycopg.Connection, customer_id: int) -> tuple[str, str]:
        """(contact id, how it was found). Search by phone, then email, else create."""
        link = self._contact_link(conn, customer_id)
        if link is not None:
            return link["contact_id"], "linked"
        customer = self._customer(conn, customer_id)
        contacts = self._all(
            conn,
            "select type, value from servicetitan.st_customer_contacts "
            "where tenant_id = %s and customer_id = %s and deleted_at is null "
            "and coalesce(active, true) order by id",
            (self.tenant_id, customer_id),
        )
        phones = list(
            dict.fromkeys(
                p for p in (to_e164(c["value"]) for c in contacts if c["type"] != "Email") if p
            )
        )
        emails = list(
            dict.fromkeys(
                c["value"].strip().lower()
                for c in contacts
                if c["type"] == "Email" and c["value"] and "@" in c["value"]
            )
        )
        if not phones and not emails:
            raise _Skip(f"customer {customer_id} has no phone or email to match or create by")
        field_value = [
            {"key": self.config.ghl_st_customer_id_field, "field_value": str(customer_id)}
        ]
        found, matched_by = None, "created"
        for kind, values in (("phone", phones), ("email", emails)):
            for value in values:
                hits = self.client.find_contacts(kind, value)
                if hits:
                    found, matched_by = hits[0], kind
                    break
            if found:
                break
        if found is not None:
            contact_id = found["id"]
            self.client.update_contact(contact_id, {"customFields": field_value})
        else:
            first, last = _split_name(customer["name"])
            body = {
                "firstName": first,
                "lastName": last,
                "name": customer["name"],
                "phone": phones[0] if phones else None,
                "email": emails[0] if emails else None,
                "address1": customer["street"],
                "city": customer["city"],
                "state": customer["state"],
                "postalCode": customer["zip"],
                "source": "ServiceTitan",
                "tags": ["servicetitan"],
                "customFields": field_value,
            }
            contact, new = self.client.upsert_contact({k: v for k, v in body.items() if v})
            contact_id = contact["id"]
            matched_by = "created" if new else "upsert"
        conn.execute(
            "insert into integrations.ghl_customer_contacts "
            "(tenant_id, customer_id, location_id, contact_id, matched_by) "
            "values (%s, %s, %s, %s, %s) on conflict do nothing",
            (self.tenant_id, customer_id, self.location_id, contact_id, matched_by),
        )
        return contact_id, matched_by

    # --- opportunities -------------------------------------------------------------------------

    def _current(self, opportunity_id: str) -> dict[str, Any] | None:
        if self._opportunities is not None and opportunity_id in self._opportunities:
            return self._opportunities[opportunity_id]
        return self.client.get_opportunity(opportunity_id)

    def _find_or_create(
        self, contact_id: str, name: str, marker: str, stage_key: str, value: float | None
    ) -> tuple[dict[str, Any], bool]:
        """The opportunity named with `marker` on the contact, or a new one in `stage_key`."""
        pipeline_id, stage_id = self.stage_map.ids(stage_key)
        for page in self.client.search_opportunities(contact_id=contact_id):
            for existing in page:
                if str(existing.get("name") or "").endswith(marker):
                    return existing, False
        body: dict[str, Any] = {
            "pipelineId": pipeline_id,
            "pipelineStageId": stage_id,
            "name": f"{name} {marker}".strip(),
            "status": status_of(stage_key),
            "contactId": contact_id,
        }
        if value is not None:
            body["monetaryValue"] = value
        created = self.client.create_opportunity(body)
        if self._opportunities is not None:
            self._opportunities[created["id"]] = created
        return created, True

    def _move(
        self, opportunity: dict[str, Any], stage_key: str, value: float | None
    ) -> tuple[str, str | None]:
        """Bring the opportunity forward to `stage_key`; (outcome, detail). Never backwards."""
        current_key = self.stage_map.key_of(opportunity.get("pipelineStageId"))
        if current_key is not None and RANK[current_key] > RANK[stage_key]:
            return "unchanged", f"stays in later stage {current_key} (wanted {stage_key})"
        pipeline_id, stage_id = self.stage_map.ids(stage_key)
        changes: dict[str, Any] = {}
        if opportunity.get("pipelineId") != pipeline_id:
            changes["pipelineId"] = pipeline_id
        if opportunity.get("pipelineStageId") != stage_id:
            changes["pipelineStageId"] = stage_id
        if value is not None and float(opportunity.get("monetaryValue") or 0) != float(value):
            changes["monetaryValue"] = value
        status = status_of(stage_key)
        status_changed = opportunity.get("status") != status
        if changes:
            updated = self.client.update_opportunity(opportunity["id"], changes)
            opportunity.update(updated or changes)
        if status_changed:
            self.client.update_opportunity_status(opportunity["id"], status)
            opportunity["status"] = status
        if not changes and not status_changed:
            return "unchanged", stage_key
        return "updated", f"{current_key or 'unknown'} -> {stage_key} ({status})"

    def _ensure_lead(
        self, conn: psycopg.Connection, customer_id: int, contact_id: str
    ) -> tuple[dict[str, Any], bool]:
        link = self._contact_link(conn, customer_id)
        if link and link["lead_opportunity_id"]:
            current = self._current(link["lead_opportunity_id"])
            if current is not None:
                return current, False
        customer = self._customer(conn, customer_id)
        opportunity, created = self._find_or_create(
            contact_id, customer["name"] or "", f"(ST customer {customer_id})", "CONTACTED", None
        )
        conn.execute(
            "update integrations.ghl_customer_contacts set lead_opportunity_id = %s, "
            "updated_at = now() where tenant_id = %s and customer_id = %s and location_id = %s",
            (opportunity["id"], self.tenant_id, customer_id, self.location_id),
        )
        return opportunity, created

    def _push_customer(self, conn: psycopg.Connection, customer_id: int) -> PushOutcome:
        contact_id, matched_by = self._ensure_contact(conn, customer_id)
        lead, created = self._ensure_lead(conn, customer_id, contact_id)
        if created:
            return PushOutcome(
                "customer", customer_id, "created", lead["id"], f"contact {matched_by}"
            )
        outcome, detail = self._move(lead, "CONTACTED", None)
        return PushOutcome("customer", customer_id, outcome, lead["id"], detail)

    def _push_appointment(self, conn: psycopg.Connection, appointment_id: int) -> PushOutcome:
        row = self._one(
            conn,
            "select a.id, a.status, coalesce(a.customer_id, j.customer_id) as customer_id "
            "from servicetitan.st_appointments a left join servicetitan.st_jobs j "
            "on j.tenant_id = a.tenant_id and j.id = a.job_id "
            "where a.tenant_id = %s and a.id = %s and a.deleted_at is null",
            (self.tenant_id, appointment_id),
        )
        if row is None or row["customer_id"] is None:
            raise _Skip(f"appointment {appointment_id} or its customer is not in the warehouse")
        if (row["status"] or "").lower() == "canceled":
            raise _Skip(f"appointment {appointment_id} is canceled")
        contact_id, _ = self._ensure_contact(conn, row["customer_id"])
        lead, _ = self._ensure_lead(conn, row["customer_id"], contact_id)
        outcome, detail = self._move(lead, "APPOINTMENT_SCHEDULED", None)
        return PushOutcome("appointment", appointment_id, outcome, lead["id"], detail)

    def _install_patterns(self) -> tuple[list[str], list[str]]:
        """The parameters of `INSTALL_WORK`: job type patterns, then business unit patterns."""
        return list(self.config.install_job_types), list(self.config.install_business_units)

    def _install_job(self, conn: psycopg.Connection, estimate: dict[str, Any]) -> dict | None:
        """The install job sold from this estimate (by ST's own links), if there is one."""
        jobs = self._all(
            conn,
            f"select j.id, j.job_status, {INSTALL_WORK} as is_install "
            f"from servicetitan.st_jobs j {INSTALL_JOINS} "
            "where j.tenant_id = %s and j.deleted_at is null "
            "and (j.id = %s or j.created_from_estimate_id = %s) order by j.id",
            (*self._install_patterns(), self.tenant_id, estimate["job_id"], estimate["id"]),
        )
        installs = [j for j in jobs if j["is_install"]]
        created_from = [j for j in installs if j["id"] != estimate["job_id"]]
        return (created_from or installs or [None])[0]

    def _desired(self, conn: psycopg.Connection, estimate: dict[str, Any]) -> str:
        status = (estimate["status"] or "").lower()
        if status == "sold":
            job = self._install_job(conn, estimate)
            if job is not None:
                return INSTALL_STAGE_OF_JOB.get(job["job_status"] or "", "INSTALL_PENDING")
            return "JOB_SOLD"
        if status == "dismissed":
            return "ESTIMATE_LOST"
        created = estimate["created_on"]
        age_limit = timedelta(days=self.config.ghl_followup_after_days)
        if created is not None and self._now() - created >= age_limit:
            return "ESTIMATE_FOLLOWUP"
        return "APPOINTMENT_COMPLETED_PROPOSAL_SENT"

    def _push_estimate(self, conn: psycopg.Connection, estimate_id: int) -> PushOutcome:
        estimate = self._one(
            conn,
            "select id, customer_id, job_id, name, status, subtotal, created_on "
            "from servicetitan.st_estimates where tenant_id = %s and id = %s "
            "and deleted_at is null",
            (self.tenant_id, estimate_id),
        )
        if estimate is None or estimate["customer_id"] is None:
            raise _Skip(f"estimate {estimate_id} or its customer is not in the warehouse")
        customer_id = estimate["customer_id"]
        stage_key = self._desired(conn, estimate)
        subtotal = estimate["subtotal"]
        value = float(subtotal) if isinstance(subtotal, Decimal | int | float) else None
        contact_id, _ = self._ensure_contact(conn, customer_id)
        link = self._one(
            conn,
            "select opportunity_id from integrations.ghl_estimate_opportunities "
            "where tenant_id = %s and estimate_id = %s and location_id = %s",
            (self.tenant_id, estimate_id, self.location_id),
        )
        opportunity = (
            self._current(link["opportunity_id"]) if link and link["opportunity_id"] else None
        )
        created = False
        if opportunity is None:
            opportunity, created = self._claim_or_create(
                conn, estimate, contact_id, stage_key, value
            )
        if created:
            outcome, detail = "created", stage_key
        else:
            outcome, detail = self._move(opportunity, stage_key, value)
        conn.execute(
            "update integrations.ghl_estimate_opportunities set stage_key = %s, status = %s, "
            "monetary_value = %s, job_id = %s, updated_at = now() "
            "where tenant_id = %s and estimate_id = %s and location_id = %s",
            (
                self.stage_map.key_of(opportunity.get("pipelineStageId")) or stage_key,
                opportunity.get("status"),
                value,
                estimate["job_id"],
                self.tenant_id,
                estimate_id,
                self.location_id,
            ),
        )
        return PushOutcome("estimate", estimate_id, outcome, opportunity["id"], detail)

    def _claim_or_create(
        self,
        conn: psycopg.Connection,
        estimate: dict[str, Any],
        contact_id: str,
        stage_key: str,
        value: float | None,
    ) -> tuple[dict[str, Any], bool]:
        """Link the estimate to the customer's unclaimed lead, or to a new opportunity."""
        customer_id, estimate_id = estimate["customer_id"], estimate["id"]
        self._ensure_lead(conn, customer_id, contact_id)
        claimed = self._one(
            conn,
            "update integrations.ghl_customer_contacts set lead_claimed_by_estimate_id = %s, "
            "updated_at = now() where tenant_id = %s and customer_id = %s and location_id = %s "
            "and lead_opportunity_id is not null and (lead_claimed_by_estimate_id is null "
            "or lead_claimed_by_estimate_id = %s) returning lead_opportunity_id",
            (estimate_id, self.tenant_id, customer_id, self.location_id, estimate_id),
        )
        opportunity, created = None, False
        if claimed is not None:
            opportunity = self._current(claimed["lead_opportunity_id"])
        if opportunity is None:
            customer = self._customer(conn, customer_id)
            title = f"{customer['name'] or ''} - {estimate['name'] or 'Estimate'}".strip(" -")
            opportunity, created = self._find_or_create(
                contact_id, title, f"(ST estimate {estimate_id})", stage_key, value
            )
        conn.execute(
            "insert into integrations.ghl_estimate_opportunities (tenant_id, estimate_id, "
            "location_id, customer_id, contact_id, opportunity_id, state) "
            "values (%s, %s, %s, %s, %s, %s, 'linked') "
            "on conflict (tenant_id, estimate_id, location_id) do update set "
            "opportunity_id = excluded.opportunity_id, contact_id = excluded.contact_id, "
            "state = 'linked', updated_at = now()",
            (
                self.tenant_id,
                estimate_id,
                self.location_id,
                customer_id,
                contact_id,
                opportunity["id"],
            ),
        )
        return opportunity, created

    def _push_job(self, conn: psycopg.Connection, job_id: int) -> PushOutcome:
        job = self._one(
            conn,
            f"select j.id, j.created_from_estimate_id, {INSTALL_WORK} as is_install "
            f"from servicetitan.st_jobs j {INSTALL_JOINS} "
            "where j.tenant_id = %s and j.id = %s and j.deleted_at is null",
            (*self._install_patterns(), self.tenant_id, job_id),
        )
        if job is None:
            raise _Skip(f"job {job_id} is not in the warehouse")
        if not job["is_install"]:
            raise _Skip(f"job {job_id} is not an install job")
        estimates = self._all(
            conn,
            "select id from servicetitan.st_estimates where tenant_id = %s and deleted_at is null "
            "and lower(status) = 'sold' and (job_id = %s or id = %s) order by id",
            (self.tenant_id, job_id, job["created_from_estimate_id"]),
        )
        if not estimates:
            raise _Skip(f"job {job_id} has no sold estimate linked to it")
        outcome = self._push_estimate(conn, estimates[0]["id"])
        return PushOutcome("job", job_id, outcome.outcome, outcome.ghl_id, outcome.detail)


# --- entry points for workflow steps and the CLI -------------------------------------------------


def push_customer(
    engine: sa.Engine,
    client: GoHighLevelClient,
    tenant_id: int,
    customer_id: int,
    settings: Settings,
    **kw: Any,
) -> PushOutcome:
    """Event driver: a new ST customer -> GHL contact + lead opportunity in CONTACTED."""
    return GhlPusher(engine, client, tenant_id, settings, **kw).push_customer(customer_id)


def push_appointment(
    engine: sa.Engine,
    client: GoHighLevelClient,
    tenant_id: int,
    appointment_id: int,
    settings: Settings,
    **kw: Any,
) -> PushOutcome:
    """Event driver: a booked appointment -> APPOINTMENT_SCHEDULED."""
    return GhlPusher(engine, client, tenant_id, settings, **kw).push_appointment(appointment_id)


def push_estimate(
    engine: sa.Engine,
    client: GoHighLevelClient,
    tenant_id: int,
    estimate_id: int,
    settings: Settings,
    **kw: Any,
) -> PushOutcome:
    """Event driver: an estimate created, aged, sold or dismissed -> its opportunity's stage."""
    return GhlPusher(engine, client, tenant_id, settings, **kw).push_estimate(estimate_id)


def push_job(
    engine: sa.Engine,
    client: GoHighLevelClient,
    tenant_id: int,
    job_id: int,
    settings: Settings,
    **kw: Any,
) -> PushOutcome:
    """Event driver: an install job's status -> install pipeline stage."""
    return GhlPusher(engine, client, tenant_id, settings, **kw).push_job(job_id)


def reconcile_ghl(
    engine: sa.Engine,
    client: GoHighLevelClient,
    tenant_id: int,
    settings: Settings,
    *,
    since: datetime | None = None,
    now: Callable[[], datetime] | None = None,
    run_id: str | None = None,
) -> ReconcileResult:
    """Re-push what changed in ST since `since` (default: GHL_PUSH_LOOKBACK_DAYS ago): customers
    created, appointments, estimates and install jobs modified, plus every estimate whose
    opportunity is not in a final stage (so follow-up ages are applied and drift is repaired).

    A spent GHL daily limit stops the run (`GhlDailyLimitError`); everything pushed so far is
    recorded, and the next run repeats the rest idempotently.
    """
    pusher = GhlPusher(engine, client, tenant_id, settings, now=now, run_id=run_id)
    config = pusher.config
    since = since or pusher._now() - timedelta(days=config.ghl_push_lookback_days)
    pusher.prefetch_opportunities()
    with connection(engine) as conn:
        ids = _ids_to_reconcile(conn, int(tenant_id), client.location_id, since)
        jobs = conn.execute(
            f"select j.id from servicetitan.st_jobs j {INSTALL_JOINS} "
            f"where j.tenant_id = %s and j.id = any(%s) and {INSTALL_WORK} order by j.id",
            (int(tenant_id), ids["jobs"], *pusher._install_patterns()),
        ).fetchall()
        ids["jobs"] = [row[0] for row in jobs]
    result = ReconcileResult()
    for customer_id in ids["customers"]:
        result.add(pusher.push_customer(customer_id))
    for appointment_id in ids["appointments"]:
        result.add(pusher.push_appointment(appointment_id))
    for estimate_id in ids["estimates"]:
        result.add(pusher.push_estimate(estimate_id))
    for job_id in ids["jobs"]:
        result.add(pusher.push_job(job_id))
    return result


_FINAL = ("JOB_SOLD", "ESTIMATE_LOST", "INSTALL_COMPLETE")


def _ids_to_reconcile(
    conn: psycopg.Connection, tenant_id: int, location_id: str, since: datetime
) -> dict[str, list[int]]:
    def ids(sql: str, params: tuple) -> list[int]:
        return [row[0] for row in conn.execute(sql, params).fetchall()]

    return {
        "customers": ids(
            "select id from servicetitan.st_customers where tenant_id = %s and deleted_at is null "
            "and merged_to_id is null and coalesce(active, true) "
            "and created_on >= %s order by id",
            (tenant_id, since),
        ),
        "appointments": ids(
            "select id from servicetitan.st_appointments where tenant_id = %s "
            "and deleted_at is null and modified_on >= %s "
            "and lower(coalesce(status, '')) <> 'canceled' order by id",
            (tenant_id, since),
        ),
        "estimates": ids(
            "select e.id from servicetitan.st_estimates e where e.tenant_id = %s "
            "and e.deleted_at is null and (e.modified_on >= %s or exists ("
            "select 1 from integrations.ghl_estimate_opportunities l "
            "where l.tenant_id = e.tenant_id "
            "and l.estimate_id = e.id and l.location_id = %s "
            "and coalesce(l.stage_key, '') <> all(%s))) order by e.id",
            (tenant_id, since, location_id, list(_FINAL)),
        ),
        "jobs": ids(
            "select id from servicetitan.st_jobs where tenant_id = %s and deleted_at is null "
            "and modified_on >= %s order by id",
            (tenant_id, since),
        ),
    }
