"""The rule-based diagnosis: every failure gets a kind, a diagnosis and a suggested fix.

An exception (or the text Dagster kept of one) is read in order: an `incident_kind` attribute
anywhere on the exception or its causes (typed errors of other parts classify themselves), then
the HTTP status and wording of an `ApiError`, then the exception's type and message. The rules
are deliberately plain: they must be right without Claude.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from perfect_catch.connectors.http import ApiError
from perfect_catch.monitoring.kinds import KINDS

#: How each source names its credentials, for the suggested fix.
CREDENTIALS: dict[str, str] = {
    "servicetitan": "ST_CLIENT_ID/ST_CLIENT_SECRET (and ST_APP_KEY)",
    "gohighlevel": "GHL_TOKEN",
    "callrail": "CALLRAIL_API_KEY",
    "twilio": "TWILIO_ACCOUNT_SID/TWILIO_AUTH_TOKEN",
    "sendgrid": "SENDGRID_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
    "warehouse": "DATABASE_URL",
}
NAMES: dict[str, str] = {
    "servicetitan": "ServiceTitan",
    "gohighlevel": "GoHighLevel",
    "callrail": "CallRail",
    "twilio": "Twilio",
    "sendgrid": "SendGrid",
    "anthropic": "Anthropic",
    "warehouse": "the warehouse database",
    "dbt": "dbt",
    "workflows": "the workflow engine",
    "outbox": "the outbox dispatcher",
}


@dataclass(frozen=True)
class Diagnosis:
    """What the rules say about one failure."""

    kind: str
    diagnosis: str
    suggested_fix: str
    confidence: float


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


_AUTH = re.compile(
    r"invalid_client|invalid_grant|unauthori[sz]ed|rejected the client credentials|"
    r"authentication (?:failed|refused)|\bHTTP 40[13]\b|forbidden",
    re.IGNORECASE,
)
_RATE = re.compile(r"\bHTTP 429\b|rate.?limit|too many requests", re.IGNORECASE)
_TIMEOUT = re.compile(r"timed out|timeout|\bHTTP 504\b", re.IGNORECASE)
_DOWN = re.compile(
    r"\bHTTP 5\d\d\b|connection refused|connecterror|connect error|transport error|"
    r"no response|server closed the connection|could not connect|name or service not known|"
    r"operationalerror|connection (?:reset|aborted)",
    re.IGNORECASE,
)
_SCHEMA = re.compile(
    r"schema|validationerror|missing (?:field|column|key)|keyerror|unexpected (?:field|column)|"
    r"layout|renamed|response has no|undefinedcolumn|does not exist",
    re.IGNORECASE,
)
_WAREHOUSE_DOWN = re.compile(
    r"^(?:OperationalError|InterfaceError|AdminShutdown|ConnectionFailure)|"
    r"server closed the connection|terminating connection due to administrator command|"
    r"the database system is (?:starting up|shutting down)",
    re.IGNORECASE,
)
_BAD = re.compile(r"reject|malformed|bad record", re.IGNORECASE)


def classify(error: BaseException | str, source: str) -> Diagnosis:
    """Kind, diagnosis and fix of `error` (an exception, or its text) raised by `source`."""
    if isinstance(error, BaseException):
        for link in _chain(error):
            declared = getattr(link, "incident_kind", None)
            if isinstance(declared, str) and declared in KINDS:
                return describe(declared, source, str(link))
        for link in _chain(error):
            if isinstance(link, ApiError):
                return _api(link, source)
        if any(_WAREHOUSE_DOWN.search(f"{type(link).__name__}: {link}") for link in _chain(error)):
            return describe("source_down", "warehouse")
        text = " ".join(f"{type(link).__name__}: {link}" for link in _chain(error))
    else:
        text = error
    return describe(_kind_of_text(text), source, text)


def _api(error: ApiError, source: str) -> Diagnosis:
    status, text = error.status, str(error)
    if status in (401, 403) or _AUTH.search(text):
        kind = "auth_failed"
    elif status == 429:
        kind = "rate_limited"
    elif status == 504 or (status is None and _TIMEOUT.search(text)):
        kind = "timeout"
    elif status is None and _SCHEMA.search(text) and not _DOWN.search(error.title):
        kind = "schema_drift"  # an answer came back, in a shape the client cannot read
    elif status is None or status >= 500:
        kind = "source_down"
    elif status in (400, 404, 422) and _SCHEMA.search(text):
        kind = "schema_drift"
    else:
        kind = _kind_of_text(text)
    return describe(kind, source, text)


def _kind_of_text(text: str) -> str:
    for kind, pattern in (
        ("auth_failed", _AUTH),
        ("rate_limited", _RATE),
        ("timeout", _TIMEOUT),
        ("source_down", _DOWN),
        ("schema_drift", _SCHEMA),
        ("bad_records", _BAD),
    ):
        if pattern.search(text):
            return kind
    return "unknown"


def describe(kind: str, source: str, text: str = "") -> Diagnosis:
    """The rules' diagnosis and fix of a cause of `kind` in `source`."""
    name = NAMES.get(source, source)
    credentials = CREDENTIALS.get(source, "its credentials")
    if kind == "auth_failed":
        if source == "servicetitan":
            what = "the ServiceTitan client id/secret was refused"
        else:
            what = f"the {name} credentials were refused"
        return Diagnosis(
            kind,
            f"Authentication failed: {what} (credentials rejected by {name}); "
            "nothing is synced until they are fixed, and retrying cannot help.",
            f"check {credentials}, then run the sync again",
            0.95,
        )
    if kind == "source_down" and source == "warehouse":
        return Diagnosis(
            kind,
            "The warehouse database (PostgreSQL) closed the connection or could not be reached "
            "(a restart or an outage); the run stopped before its work was committed.",
            "check that PostgreSQL is up and DATABASE_URL reaches it; the sync is re-run with "
            "backoff and resumes from its last committed page",
            0.85,
        )
    texts: dict[str, tuple[str, str, float]] = {
        "rate_limited": (
            f"{name} rate-limited the platform (HTTP 429) and the retries ran out.",
            "wait for the quota to refill; lower the sync frequency or parallelism if it recurs",
            0.9,
        ),
        "source_down": (
            f"{name} could not be reached or answered with server errors (5xx).",
            f"check {name}'s status and the network; the sync is re-run with backoff",
            0.85,
        ),
        "timeout": (
            f"{name} did not answer within the timeout.",
            "the sync is re-run with backoff; raise HTTP_TIMEOUT_SECONDS if it persists",
            0.8,
        ),
        "schema_drift": (
            f"{name} returned data in a shape the platform does not expect (a renamed or "
            "missing field, a changed layout).",
            "compare the response with the connector and the loader's schema; update them "
            "(a retry returns the same shape)",
            0.75,
        ),
        "bad_records": (
            f"A large share of {name} records could not be loaded (see public.sync_rejects).",
            "inspect the reasons in public.sync_rejects and fix the source records or the loader",
            0.8,
        ),
        "stale": (
            f"{name} data is older than its freshness policy allows.",
            "the sync is re-run automatically; check the schedules and the Dagster daemon",
            0.7,
        ),
        "stuck_run": (
            "A run stayed STARTING/STARTED past its limit.",
            "run monitoring fails and retries it; check the run worker if it recurs",
            0.7,
        ),
        "volume_anomaly": (
            f"{name} returned far fewer records than on the same weekday before.",
            "check whether the source really had less activity or is filtering records",
            0.6,
        ),
        "workflow_stuck": (
            "A workflow instance stopped advancing (its worker died mid-step).",
            "it is resumed from its last completed step; nothing is sent twice",
            0.8,
        ),
        "outbox_stuck": (
            "Outbox messages are stuck in sending/unknown.",
            "they are reconciled with the provider before any retry",
            0.8,
        ),
        "unknown": (
            f"{name} failed for a reason the rules do not recognise.",
            "read the last error and the run's logs",
            0.3,
        ),
    }
    diagnosis, fix, confidence = texts[kind]
    return Diagnosis(kind, diagnosis, fix, confidence)
