"""Push ServiceTitan's sales progress to GoHighLevel: contacts and opportunity stages.

One set of idempotent pushes serves two drivers: events (a workflow step calls `push_estimate`
when an estimate is sold) and `ghl_reconcile.reconcile_ghl`, which re-pushes everything recently
changed on a schedule and so repairs drift. Idempotence rests on the link tables (`ghl_links`):

- an ST customer's GHL contact is found by E.164 phone, then by email, and only then created
  (through upsert, which de-duplicates again), so no duplicate contact is made. The customer's
  first opportunity (the lead, in CONTACTED) is recorded with it.
- an estimate has one opportunity. The customer's first estimate takes over the lead opportunity
  (recorded, so never guessed); later ones get their own, found again by name
  (`ghl_bodies`) when a run died before recording it.

Each push reads the opportunity's current stage from GHL and moves it only forward
(`ghl_stage_rules`); every push is written to `integrations.ghl_sync_log` with its outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import sqlalchemy as sa

from perfect_catch.connectors.gohighlevel import GhlDailyLimitError, GoHighLevelClient
from perfect_catch.connectors.http import ApiError
from perfect_catch.integrations import ghl_links, ghl_st_records
from perfect_catch.integrations.db import connection
from perfect_catch.integrations.ghl_bodies import opportunity_body, opportunity_changes
from perfect_catch.integrations.ghl_contact_match import ensure_contact, required_customer
from perfect_catch.integrations.ghl_push_outcome import PushOutcome, PushSkipped
from perfect_catch.integrations.ghl_stage_rules import estimate_stage, stays_ahead
from perfect_catch.integrations.ghl_stages import StageMap, resolve_stages, status_of
from perfect_catch.integrations.ghl_sync_log import write_sync_log
from perfect_catch.settings import Settings


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
        self.now = now or (lambda: datetime.now(UTC))
        self.install_patterns = ghl_st_records.install_patterns(self.config)
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
            except PushSkipped as skip:
                outcome = PushOutcome(entity, int(entity_id), "skipped", detail=str(skip))
            except GhlDailyLimitError as exc:
                self._log(conn, PushOutcome(entity, int(entity_id), "failed", detail=str(exc)))
                raise
            except ApiError as exc:
                outcome = PushOutcome(entity, int(entity_id), "failed", detail=str(exc))
            self._log(conn, outcome)
            return outcome

    def _log(self, conn: psycopg.Connection, outcome: PushOutcome) -> None:
        write_sync_log(
            conn,
            direction="push",
            action=f"push_{outcome.entity}",
            tenant_id=self.tenant_id,
            entity=outcome.entity,
            entity_id=str(outcome.entity_id),
            location_id=self.location_id,
            ghl_id=outcome.ghl_id,
            outcome=outcome.outcome,
            detail=outcome.detail or None,
            run_id=self.run_id,
        )

    # --- contacts ------------------------------------------------------------------------------

    def _customer(self, conn: psycopg.Connection, customer_id: int) -> dict[str, Any]:
        return required_customer(conn, self.tenant_id, customer_id)

    def _ensure_contact(self, conn: psycopg.Connection, customer_id: int) -> tuple[str, str]:
        return ensure_contact(
            conn,
            self.client,
            self.tenant_id,
            customer_id,
            self.config.ghl_st_customer_id_field,
        )

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
        created = self.client.create_opportunity(
            opportunity_body(
                pipeline_id=pipeline_id,
                stage_id=stage_id,
                name=name,
                marker=marker,
                status=status_of(stage_key),
                contact_id=contact_id,
                value=value,
            )
        )
        if self._opportunities is not None:
            self._opportunities[created["id"]] = created
        return created, True

    def _move(
        self, opportunity: dict[str, Any], stage_key: str, value: float | None
    ) -> tuple[str, str | None]:
        """Bring the opportunity forward to `stage_key`; (outcome, detail). Never backwards."""
        current_key = self.stage_map.key_of(opportunity.get("pipelineStageId"))
        if stays_ahead(current_key, stage_key):
            return "unchanged", f"stays in later stage {current_key} (wanted {stage_key})"
        pipeline_id, stage_id = self.stage_map.ids(stage_key)
        changes = opportunity_changes(opportunity, pipeline_id, stage_id, value)
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
        link = ghl_links.contact_link(conn, self.tenant_id, customer_id, self.location_id)
        if link and link["lead_opportunity_id"]:
            current = self._current(link["lead_opportunity_id"])
            if current is not None:
                return current, False
        customer = self._customer(conn, customer_id)
        opportunity, created = self._find_or_create(
            contact_id, customer["name"] or "", f"(ST customer {customer_id})", "CONTACTED", None
        )
        ghl_links.set_lead_opportunity(
            conn, self.tenant_id, customer_id, self.location_id, opportunity["id"]
        )
        return opportunity, created

    # --- one push per entity -------------------------------------------------------------------

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
        row = ghl_st_records.appointment(conn, self.tenant_id, appointment_id)
        if row is None or row["customer_id"] is None:
            raise PushSkipped(
                f"appointment {appointment_id} or its customer is not in the warehouse"
            )
        if (row["status"] or "").lower() == "canceled":
            raise PushSkipped(f"appointment {appointment_id} is canceled")
        contact_id, _ = self._ensure_contact(conn, row["customer_id"])
        lead, _ = self._ensure_lead(conn, row["customer_id"], contact_id)
        outcome, detail = self._move(lead, "APPOINTMENT_SCHEDULED", None)
        return PushOutcome("appointment", appointment_id, outcome, lead["id"], detail)

    def _push_estimate(self, conn: psycopg.Connection, estimate_id: int) -> PushOutcome:
        estimate = ghl_st_records.estimate(conn, self.tenant_id, estimate_id)
        if estimate is None or estimate["customer_id"] is None:
            raise PushSkipped(f"estimate {estimate_id} or its customer is not in the warehouse")
        customer_id = estimate["customer_id"]
        stage_key = estimate_stage(
            estimate,
            lambda: ghl_st_records.install_job_of(
                conn, self.tenant_id, estimate, self.install_patterns
            ),
            self.now,
            timedelta(days=self.config.ghl_followup_after_days),
        )
        subtotal = estimate["subtotal"]
        value = float(subtotal) if isinstance(subtotal, Decimal | int | float) else None
        contact_id, _ = self._ensure_contact(conn, customer_id)
        linked_id = ghl_links.estimate_opportunity_id(
            conn, self.tenant_id, estimate_id, self.location_id
        )
        opportunity = self._current(linked_id) if linked_id else None
        created = False
        if opportunity is None:
            opportunity, created = self._claim_or_create(
                conn, estimate, contact_id, stage_key, value
            )
        if created:
            outcome, detail = "created", stage_key
        else:
            outcome, detail = self._move(opportunity, stage_key, value)
        ghl_links.record_estimate_push(
            conn,
            self.tenant_id,
            estimate_id,
            self.location_id,
            stage_key=self.stage_map.key_of(opportunity.get("pipelineStageId")) or stage_key,
            status=opportunity.get("status"),
            value=value,
            job_id=estimate["job_id"],
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
        lead_id = ghl_links.claim_lead(
            conn, self.tenant_id, customer_id, self.location_id, estimate_id
        )
        opportunity, created = None, False
        if lead_id is not None:
            opportunity = self._current(lead_id)
        if opportunity is None:
            customer = self._customer(conn, customer_id)
            title = f"{customer['name'] or ''} - {estimate['name'] or 'Estimate'}".strip(" -")
            opportunity, created = self._find_or_create(
                contact_id, title, f"(ST estimate {estimate_id})", stage_key, value
            )
        ghl_links.link_estimate(
            conn,
            self.tenant_id,
            estimate_id,
            self.location_id,
            customer_id,
            contact_id,
            opportunity["id"],
        )
        return opportunity, created

    def _push_job(self, conn: psycopg.Connection, job_id: int) -> PushOutcome:
        job = ghl_st_records.job(conn, self.tenant_id, job_id, self.install_patterns)
        if job is None:
            raise PushSkipped(f"job {job_id} is not in the warehouse")
        if not job["is_install"]:
            raise PushSkipped(f"job {job_id} is not an install job")
        estimate_ids = ghl_st_records.sold_estimate_ids_of_job(
            conn, self.tenant_id, job_id, job["created_from_estimate_id"]
        )
        if not estimate_ids:
            raise PushSkipped(f"job {job_id} has no sold estimate linked to it")
        outcome = self._push_estimate(conn, estimate_ids[0])
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
