"""A small declarative condition language over an event and the warehouse, never `eval`.

A condition is plain YAML data:

    all: [{field: estimate.total, op: ">=", value: 1000}, {check: estimate_open}]

- `all` / `any` take a list, `not` one condition;
- `field` reads a dotted path of the event context (`estimate.total`, `payload.customer.id`,
  `event.event_type`) and compares it with `op` (==, !=, >, >=, <, <=, in, not_in, contains,
  exists, not_exists) to `value`;
- `check` runs a named, parameterised SQL check against current warehouse state, with optional
  `params`.

Checks are named so that what a workflow may ask of the database is a fixed, reviewed list of
bound-parameter queries; a workflow chooses among them but cannot write SQL. They are re-run
before every step, which is how a sold estimate stops its own follow-ups.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from perfect_catch.messaging.consent import suppression_reason
from perfect_catch.phones import InvalidPhoneError, require_e164
from perfect_catch.settings import WorkflowSettings
from perfect_catch.warehouse.st_statuses import AppointmentStatus, EstimateStatus

Op = Literal["==", "!=", ">", ">=", "<", "<=", "in", "not_in", "contains", "exists", "not_exists"]


class FieldCondition(BaseModel):
    """Compare a value of the event with a constant."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_]+)*$")
    op: Op = "=="
    value: Any = None

    def describe(self) -> str:
        return f"{self.field} {self.op} {self.value!r}"


class CheckCondition(BaseModel):
    """Run a named warehouse check."""

    model_config = ConfigDict(extra="forbid")

    check: str
    params: dict[str, Any] = Field(default_factory=dict)

    def describe(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in sorted(self.params.items()))
        return f"{self.check}({args})"


class AllOf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    all: list[Condition] = Field(min_length=1)

    def describe(self) -> str:
        return "all(" + ", ".join(c.describe() for c in self.all) + ")"


class AnyOf(BaseModel):
    model_config = ConfigDict(extra="forbid")

    any: list[Condition] = Field(min_length=1)

    def describe(self) -> str:
        return "any(" + ", ".join(c.describe() for c in self.any) + ")"


class NotOf(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    not_: Condition = Field(alias="not")

    def describe(self) -> str:
        return f"not({self.not_.describe()})"


def _kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("all", "any", "not", "check", "field"):
            if key in value:
                return key
        return None
    return {
        AllOf: "all",
        AnyOf: "any",
        NotOf: "not",
        CheckCondition: "check",
        FieldCondition: "field",
    }.get(type(value))


Condition = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")]
    | Annotated[CheckCondition, Tag("check")]
    | Annotated[FieldCondition, Tag("field")],
    Discriminator(
        _kind,
        custom_error_type="condition",
        custom_error_message="a condition needs one of: all, any, not, check, field",
    ),
]

for _model in (AllOf, AnyOf, NotOf):
    _model.model_rebuild()


@dataclass(frozen=True)
class CheckScope:
    """What a check may use: the event's ids and payload, the instance, time and settings."""

    tenant_id: int
    customer_id: int | None
    job_id: int | None
    estimate_id: int | None
    invoice_id: int | None
    appointment_id: int | None
    instance_id: int | None
    payload: dict[str, Any]
    now: datetime
    config: WorkflowSettings


CheckFn = Callable[[sa.Connection, CheckScope, dict[str, Any]], bool]


@dataclass(frozen=True)
class NamedCheck:
    """A reviewed warehouse query a workflow may ask for by name."""

    name: str
    description: str
    fn: CheckFn
    params: frozenset[str] = frozenset()
    required: frozenset[str] = frozenset()


def _exists(conn: sa.Connection, sql: str, **params: Any) -> bool:
    return bool(conn.execute(sa.text(f"select exists ({sql})"), params).scalar())


def _estimate_open(conn: sa.Connection, scope: CheckScope, params: dict[str, Any]) -> bool:
    if scope.estimate_id is None:
        return False
    return _exists(
        conn,
        "select 1 from servicetitan.st_estimates where tenant_id = :t and id = :e"
        " and deleted_at is null and status = :open",
        t=scope.tenant_id,
        e=scope.estimate_id,
        open=EstimateStatus.OPEN,
    )


def _no_upcoming_appointment(
    conn: sa.Connection, scope: CheckScope, params: dict[str, Any]
) -> bool:
    return not _exists(
        conn,
        "select 1 from servicetitan.st_appointments where tenant_id = :t and customer_id = :c"
        " and deleted_at is null and start_on > :now"
        " and coalesce(status, '') <> all(:closed)",
        t=scope.tenant_id,
        c=scope.customer_id,
        now=scope.now,
        closed=list(AppointmentStatus.CLOSED),
    )


def _appointment_upcoming(conn: sa.Connection, scope: CheckScope, params: dict[str, Any]) -> bool:
    if scope.appointment_id is None:
        return False
    return _exists(
        conn,
        "select 1 from servicetitan.st_appointments where tenant_id = :t and id = :a"
        " and deleted_at is null and start_on > :now"
        " and coalesce(status, '') <> all(:closed)",
        t=scope.tenant_id,
        a=scope.appointment_id,
        now=scope.now,
        closed=list(AppointmentStatus.CLOSED),
    )


def _review_not_received(conn: sa.Connection, scope: CheckScope, params: dict[str, Any]) -> bool:
    tag = str(params.get("tag") or scope.config.review_received_tag)
    return not _exists(
        conn,
        "select 1 from integrations.ghl_customer_contacts link"
        " join integrations.ghl_contacts contact"
        "   on contact.location_id = link.location_id and contact.id = link.contact_id"
        " where link.tenant_id = :t and link.customer_id = :c"
        "   and exists (select 1 from unnest(contact.tags) as tag where lower(tag) = lower(:tag))",
        t=scope.tenant_id,
        c=scope.customer_id,
        tag=tag,
    )


def _messages_sent_below(conn: sa.Connection, scope: CheckScope, params: dict[str, Any]) -> bool:
    if scope.instance_id is None:
        return True
    sent = conn.execute(
        sa.text(
            "select count(*) from automation.workflow_step_runs where instance_id = :i"
            " and step_type in ('send_sms', 'send_email') and status = 'succeeded'"
        ),
        {"i": scope.instance_id},
    ).scalar_one()
    return int(sent) < int(params["max"])


def _customer_not_opted_out(conn: sa.Connection, scope: CheckScope, params: dict[str, Any]) -> bool:
    """The dispatcher's own consent model (`consent.suppression_reason`), asked early so that a
    workflow stops instead of queueing messages that would only be suppressed."""
    channel = str(params.get("channel", "sms"))
    customer = scope.payload.get("customer") or {}
    if channel == "sms":
        if customer.get("do_not_text"):
            return False
        try:
            address = require_e164(customer.get("phone"))
        except InvalidPhoneError:
            return True
    else:
        address = str(customer.get("email") or "").strip().lower()
    reason = suppression_reason(
        conn,
        tenant_id=scope.tenant_id,
        customer_id=scope.customer_id,
        channel=channel,
        address=address,
    )
    return reason is None


def _invoice_unpaid(conn: sa.Connection, scope: CheckScope, params: dict[str, Any]) -> bool:
    """Asked at workflow time, so the raw tables rather than the `invoices` mart: what is owed
    is SQL function `servicetitan.invoice_balance_due` (migration 0010), the rule the mart uses,
    which counts payments applied even while ServiceTitan's own balance still lags them."""
    if scope.invoice_id is None:
        return False
    return _exists(
        conn,
        "select 1 from servicetitan.st_invoices where tenant_id = :t and id = :i"
        " and deleted_at is null"
        " and servicetitan.invoice_balance_due(tenant_id, customer_id, id, total, balance) > 0",
        t=scope.tenant_id,
        i=scope.invoice_id,
    )


def _step_ran_at_least(conn: sa.Connection, scope: CheckScope, params: dict[str, Any]) -> bool:
    """Lets a step depend on how long ago an earlier one ran: a reminder is pointless an hour
    after the confirmation it repeats."""
    if scope.instance_id is None:
        return False
    return _exists(
        conn,
        "select 1 from automation.workflow_step_runs where instance_id = :i and step_key = :k"
        " and status = 'succeeded' and finished_at <= :now - make_interval(hours => :h)",
        i=scope.instance_id,
        k=str(params["step"]),
        now=scope.now,
        h=int(params["hours"]),
    )


CHECKS: dict[str, NamedCheck] = {
    check.name: check
    for check in (
        NamedCheck(
            "estimate_open", "the estimate is still Open (not sold, not dismissed)", _estimate_open
        ),
        NamedCheck(
            "no_upcoming_appointment",
            "the customer has no upcoming appointment",
            _no_upcoming_appointment,
        ),
        NamedCheck(
            "appointment_upcoming",
            "the appointment is still ahead and not canceled",
            _appointment_upcoming,
        ),
        NamedCheck(
            "review_not_received",
            "the customer's GHL contact has no review tag",
            _review_not_received,
            frozenset({"tag"}),
        ),
        NamedCheck(
            "messages_sent_below",
            "this instance sent fewer than `max` messages",
            _messages_sent_below,
            frozenset({"max"}),
            frozenset({"max"}),
        ),
        NamedCheck(
            "customer_not_opted_out",
            "the customer has not opted out of `channel`",
            _customer_not_opted_out,
            frozenset({"channel"}),
        ),
        NamedCheck("invoice_unpaid", "the invoice still has a balance", _invoice_unpaid),
        NamedCheck(
            "step_ran_at_least",
            "step `step` of this instance succeeded at least `hours` ago",
            _step_ran_at_least,
            frozenset({"step", "hours"}),
            frozenset({"step", "hours"}),
        ),
    )
}


def problems(condition: Condition) -> list[str]:
    """What is wrong with a parsed condition (unknown checks, bad parameters), for loading."""
    found: list[str] = []
    if isinstance(condition, AllOf | AnyOf):
        for child in condition.all if isinstance(condition, AllOf) else condition.any:
            found += problems(child)
    elif isinstance(condition, NotOf):
        found += problems(condition.not_)
    elif isinstance(condition, CheckCondition):
        spec = CHECKS.get(condition.check)
        if spec is None:
            found.append(
                f"unknown check {condition.check!r}; known checks: {', '.join(sorted(CHECKS))}"
            )
        else:
            extra = sorted(set(condition.params) - spec.params)
            missing = sorted(spec.required - set(condition.params))
            if extra:
                found.append(f"check {condition.check!r} takes no parameter(s) {extra}")
            if missing:
                found.append(f"check {condition.check!r} needs parameter(s) {missing}")
            for name in ("max", "hours"):
                value = condition.params.get(name)
                if name in condition.params and (not isinstance(value, int) or value < 0):
                    found.append(f"check {condition.check!r}: {name} must be a whole number")
            channel = condition.params.get("channel")
            if channel is not None and channel not in ("sms", "email"):
                found.append(f"check {condition.check!r}: channel must be sms or email")
    return found


def lookup(context: dict[str, Any], path: str) -> tuple[bool, Any]:
    """(found, value) of a dotted path in nested dicts."""
    value: Any = context
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        else:
            return False, None
    return True, value


def _number(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def _compare(actual: Any, op: str, expected: Any) -> bool:
    if op in ("in", "not_in"):
        options = expected if isinstance(expected, list) else [expected]
        inside = actual in options or _number(actual) in [_number(o) for o in options]
        return inside if op == "in" else not inside
    if op == "contains":
        return actual is not None and expected in actual
    left, right = _number(actual), _number(expected)
    if op == "==":
        return left == right
    if op == "!=":
        return left != right
    if left is None or right is None:
        return False
    try:
        return {
            ">": left > right,
            ">=": left >= right,
            "<": left < right,
            "<=": left <= right,
        }[op]
    except TypeError:
        return False


@dataclass(frozen=True)
class Verdict:
    """Whether a condition held and, when it did not, which part failed."""

    ok: bool
    failed: str | None = None


def evaluate(
    condition: Condition | None,
    context: dict[str, Any],
    conn: sa.Connection,
    scope: CheckScope,
) -> Verdict:
    """Evaluate `condition` against the event `context` and the warehouse (None holds)."""
    if condition is None:
        return Verdict(True)
    if isinstance(condition, AllOf):
        for child in condition.all:
            verdict = evaluate(child, context, conn, scope)
            if not verdict.ok:
                return verdict
        return Verdict(True)
    if isinstance(condition, AnyOf):
        for child in condition.any:
            if evaluate(child, context, conn, scope).ok:
                return Verdict(True)
        return Verdict(False, condition.describe())
    if isinstance(condition, NotOf):
        inner = evaluate(condition.not_, context, conn, scope)
        return Verdict(not inner.ok, None if not inner.ok else condition.describe())
    if isinstance(condition, CheckCondition):
        ok = CHECKS[condition.check].fn(conn, scope, condition.params)
        return Verdict(ok, None if ok else condition.describe())
    found, actual = lookup(context, condition.field)
    if condition.op == "exists":
        ok = found and actual is not None
    elif condition.op == "not_exists":
        ok = not found or actual is None
    else:
        ok = found and _compare(actual, condition.op, condition.value)
    return Verdict(ok, None if ok else condition.describe())
