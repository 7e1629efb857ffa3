"""Alerts to operators: one when an incident opens, one when it resolves, never per occurrence.

Email and SMS go through the outbox (SendGrid, Twilio) like every other message, under an
idempotency key of (incident, event, recipient), so a retried recorder queues nothing twice.
Slack is posted directly to the incoming webhook; `monitoring.alerts` holds one row per
(incident, event, channel, recipient), claimed before the post, so it too goes out once.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from perfect_catch.messaging import outbox
from perfect_catch.monitoring.incidents import get_incident
from perfect_catch.monitoring.scrub import Scrubber
from perfect_catch.monitoring.slack import SlackError, post_message
from perfect_catch.settings import Settings

log = logging.getLogger(__name__)

SLACK_MAX_ATTEMPTS = 5


def alert_text(incident: dict[str, Any], event: str) -> tuple[str, str]:
    """(subject, body) of the alert for `incident` having `event` ('opened' or 'resolved')."""
    scope = " ".join(
        part
        for part in (
            incident["source"],
            f"tenant {incident['tenant_id']}" if incident["tenant_id"] else "",
            incident["entity"] or "",
        )
        if part
    )
    subject = f"[Perfect Catch] incident #{incident['id']} {event}: {incident['kind']} ({scope})"
    if event == "opened":
        body = (
            f"{subject}\n{incident['diagnosis']}\nSuggested fix: {incident['suggested_fix']}\n"
            f"Last error: {incident['last_error'] or '-'}"
        )
    else:
        body = f"{subject}\nResolved by {incident['resolved_by']}."
    return subject, body


def send_alerts(engine: sa.Engine, settings: Settings, incident_id: int, event: str) -> int:
    """Queue (email, SMS) and post (Slack) the alerts of one incident event; returns how many
    were handed over now (0 when they all went out before)."""
    config = settings.monitoring
    incident = get_incident(engine, incident_id)
    if incident is None:
        raise LookupError(f"incident {incident_id} does not exist")
    scrub = Scrubber.from_settings(settings)
    subject, body = alert_text(incident, event)
    subject, body = scrub.text(subject), scrub.text(body)
    handed = 0
    recipients = [("email", a) for a in config.alert_emails] + [
        ("sms", n) for n in config.alert_sms
    ]
    for channel, recipient in recipients:
        key = f"monitoring:alert:{incident_id}:{event}:{channel}:{recipient}"
        with engine.begin() as conn:
            created = conn.execute(
                sa.text(
                    "insert into monitoring.alerts (incident_id, event, channel, recipient,"
                    " outbox_key) values (:i, :e, :c, :r, :k) on conflict do nothing"
                    " returning id"
                ),
                {"i": incident_id, "e": event, "c": channel, "r": recipient, "k": key},
            ).first()
            if created is None:
                continue
            outbox.enqueue(
                conn,
                idempotency_key=key,
                instance_id=None,
                step_key=None,
                tenant_id=config.alert_tenant_id,
                customer_id=None,
                channel=channel,  # type: ignore[arg-type]
                to=recipient,
                body=body if channel == "email" else body[:600],
                subject=subject if channel == "email" else None,
                metadata={"monitoring_incident": incident_id, "event": event},
            )
            handed += 1
    url = config.alert_slack_webhook_url.get_secret_value()
    if url:
        handed += _slack(engine, scrub, url, incident_id, event, body)
    return handed


def _slack(
    engine: sa.Engine, scrub: Scrubber, url: str, incident_id: int, event: str, body: str
) -> int:
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into monitoring.alerts (incident_id, event, channel, recipient)"
                " values (:i, :e, 'slack', 'webhook') on conflict do nothing"
            ),
            {"i": incident_id, "e": event},
        )
        row = conn.execute(
            sa.text(
                "select id, status, attempts from monitoring.alerts where incident_id = :i"
                " and event = :e and channel = 'slack' and recipient = 'webhook' for update"
            ),
            {"i": incident_id, "e": event},
        ).one()
        if row.status == "sent" or row.attempts >= SLACK_MAX_ATTEMPTS:
            return 0
        # The row stays locked (FOR UPDATE) during the post: a second recorder waits and then
        # finds it sent, so one alert is posted once.
        try:
            post_message(url, body)
        except SlackError as error:
            conn.execute(
                sa.text(
                    "update monitoring.alerts set status = 'failed', attempts = attempts + 1,"
                    " last_error = :why where id = :id"
                ),
                {"id": row.id, "why": scrub.text(str(error))},
            )
            log.warning("Slack alert of incident %s not posted: %s", incident_id, error)
            return 0
        conn.execute(
            sa.text(
                "update monitoring.alerts set status = 'sent', attempts = attempts + 1,"
                " sent_at = now(), last_error = null where id = :id"
            ),
            {"id": row.id},
        )
    return 1


def retry_failed_slack(engine: sa.Engine, settings: Settings) -> int:
    """Post again the Slack alerts whose post failed (the healing sensor calls it)."""
    url = settings.monitoring.alert_slack_webhook_url.get_secret_value()
    if not url:
        return 0
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "select incident_id, event from monitoring.alerts where channel = 'slack'"
                " and status = 'failed' and attempts < :max"
            ),
            {"max": SLACK_MAX_ATTEMPTS},
        ).all()
    return sum(send_alerts_slack_only(engine, settings, r.incident_id, r.event) for r in rows)


def send_alerts_slack_only(
    engine: sa.Engine, settings: Settings, incident_id: int, event: str
) -> int:
    incident = get_incident(engine, incident_id)
    if incident is None:
        return 0
    scrub = Scrubber.from_settings(settings)
    _, body = alert_text(incident, event)
    url = settings.monitoring.alert_slack_webhook_url.get_secret_value()
    return _slack(engine, scrub, url, incident_id, event, scrub.text(body))
