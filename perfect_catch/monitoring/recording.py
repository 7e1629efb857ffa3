"""The one entry through which every path records failures and successes.

The CLI (`sync`, `run-once`) and Dagster (the run sensors, the asset checks) call the same
`Monitor`, so a shop that runs `run-once` from cron is watched exactly like one on the daemon.
A failure is classified, written to the sync history, recorded as an incident (opening it or
adding an occurrence) and, when it opened one, diagnosed by Claude (if configured) and
alerted. A success resolves the incidents it proves gone and alerts their resolution.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from perfect_catch.monitoring import alerts, diagnosis, incidents
from perfect_catch.monitoring.classify import Diagnosis, classify, describe
from perfect_catch.monitoring.kinds import RESOLVED_BY_SYNC
from perfect_catch.monitoring.scrub import Scrubber
from perfect_catch.settings import Settings

log = logging.getLogger(__name__)


def new_run_id(command: str) -> str:
    """An id for a CLI run, named in the incidents it touches (Dagster runs use their own)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return f"cli:{command}:{stamp}:{uuid.uuid4().hex[:8]}"


class Monitor:
    """Records outcomes for one engine and one set of settings (and so one set of secrets)."""

    def __init__(self, engine: sa.Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.scrub = Scrubber.from_settings(settings)

    def failure(
        self,
        *,
        source: str,
        error: BaseException | str,
        run_id: str,
        tenant_id: int | str | None = None,
        entity: str | None = None,
        log_tail: str = "",
        diagnosed: Diagnosis | None = None,
        sync: bool = True,
    ) -> incidents.Recorded:
        """Record one failure of (source, tenant, entity) in `run_id`."""
        found = diagnosed or classify(error, source)
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        tenant = None if tenant_id is None else str(tenant_id)
        if sync:
            self._history(source, tenant, entity, run_id, ok=False, error=text)
        recorded = incidents.record_failure(
            self.engine,
            self.scrub,
            incidents.Failure(source, found, text, run_id, tenant, entity),
        )
        if recorded.opened:
            log.warning(
                "incident %s opened: %s (%s)", recorded.incident_id, found.kind, found.diagnosis
            )
            diagnosis.diagnose_incident(
                self.settings, self.engine, recorded.incident_id, log_tail or text
            )
            self._alert(recorded.incident_id, "opened")
        return recorded

    def check_failed(
        self,
        *,
        kind: str,
        source: str,
        detail: str,
        run_id: str,
        tenant_id: int | str | None = None,
        entity: str | None = None,
    ) -> incidents.Recorded:
        """Record a failing check (stale, volume, rejects, stuck work) as a cause of `kind`."""
        return self.failure(
            source=source,
            error=detail,
            run_id=run_id,
            tenant_id=tenant_id,
            entity=entity,
            diagnosed=describe(kind, source, detail),
            sync=False,
        )

    def success(
        self,
        *,
        source: str,
        run_id: str,
        tenant_id: int | str | None = None,
        entity: str | None = None,
        records: int | None = None,
        rejected: int | None = None,
        kinds: frozenset[str] = RESOLVED_BY_SYNC,
        sync: bool = True,
    ) -> list[int]:
        """Record a success and resolve what it proves gone; returns the incidents resolved.

        A sync that rejected records does not prove a schema drift or bad records gone: the
        rejects check decides those."""
        tenant = None if tenant_id is None else str(tenant_id)
        if rejected:
            kinds = kinds - {"schema_drift", "bad_records"}
        if sync:
            self._history(
                source, tenant, entity, run_id, ok=True, records=records, rejected=rejected
            )
        resolved = incidents.resolve(
            self.engine, source=source, tenant_id=tenant, entity=entity, run_id=run_id, kinds=kinds
        )
        for incident_id in resolved:
            log.info("incident %s resolved by run %s", incident_id, run_id)
            self._alert(incident_id, "resolved")
        return resolved

    def resolved(self, ids: list[int], by: str) -> list[int]:
        """Resolve incidents by id (a passing check) and alert each resolution."""
        done = incidents.resolve_ids(self.engine, ids, by)
        for incident_id in done:
            self._alert(incident_id, "resolved")
        return done

    def _history(
        self,
        source: str,
        tenant: str | None,
        entity: str | None,
        run_id: str,
        *,
        ok: bool,
        error: str | None = None,
        records: int | None = None,
        rejected: int | None = None,
    ) -> None:
        with self.engine.begin() as conn:
            conn.execute(
                sa.text(
                    "insert into monitoring.sync_runs (source, tenant_id, entity, run_id, ok,"
                    " records, rejected, error) values (:s, :t, :e, :r, :ok, :n, :rej, :err)"
                ),
                {
                    "s": source,
                    "t": tenant,
                    "e": entity,
                    "r": run_id,
                    "ok": ok,
                    "n": records,
                    "rej": rejected,
                    "err": self.scrub(error)[:2000] if error else None,
                },
            )

    def _alert(self, incident_id: int, event: str) -> None:
        try:
            alerts.send_alerts(self.engine, self.settings, incident_id, event)
        except Exception as error:  # an alert that cannot go out must not hide the incident
            log.warning(
                "alerts of incident %s (%s) not sent: %s",
                incident_id,
                event,
                self.scrub.text(f"{type(error).__name__}: {error}"),
            )
