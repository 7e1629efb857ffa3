"""The shapes of signed webhook payloads, checked before anything is stored.

A valid signature proves who sent a request, not that its values fit: a provider (or whoever
holds its key) can still post a NUL character PostgreSQL refuses, a timestamp no clock can
represent, or a list where a string belongs. Each payload is validated here with a pydantic
model; a value that does not fit is a `PayloadError` naming the field (the receiver answers
400), never a 500 and never a value stored as its Python text. Free text (an SMS body) has its
NUL characters stripped; identifiers, addresses and any other value containing one are refused.
Error messages name the field and the rule, never the value (which may be a phone or email).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    StringConstraints,
    ValidationError,
    model_validator,
)

#: Timestamps outside these bounds are refused (seconds since the epoch: 2000-01-01, 2100-01-01).
MIN_TIMESTAMP = 946_684_800
MAX_TIMESTAMP = 4_102_444_800
NUL = "\x00"


class PayloadError(ValueError):
    """A signed payload holds a value that does not fit; `field` names it."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"invalid field {field!r}: {problem}")
        self.field = field


def _no_nul(value: str) -> str:
    if NUL in value:
        raise ValueError("contains a NUL character")
    return value


def _strip_nul(value: str) -> str:
    return value.replace(NUL, "")


def _iso_time(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError("is not an ISO 8601 timestamp") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if not MIN_TIMESTAMP <= moment.timestamp() <= MAX_TIMESTAMP:
        raise ValueError("is outside 2000-01-01 .. 2100-01-01")
    return value


Text = Annotated[StrictStr, StringConstraints(max_length=2000), AfterValidator(_no_nul)]
Name = Annotated[StrictStr, StringConstraints(max_length=200), AfterValidator(_no_nul)]
Sid = Annotated[StrictStr, StringConstraints(pattern=r"^[A-Za-z0-9]{2,64}$")]
FreeText = Annotated[StrictStr, StringConstraints(max_length=20_000), AfterValidator(_strip_nul)]
IsoTime = Annotated[Name, AfterValidator(_iso_time)]
Timestamp = Annotated[int, Field(ge=MIN_TIMESTAMP, le=MAX_TIMESTAMP)]


def _nul_path(value: Any, path: str) -> str | None:
    """The path of the first string (or key) holding a NUL in a JSON value, else None."""
    if isinstance(value, str):
        return path if NUL in value else None
    if isinstance(value, Mapping):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            if NUL in str(key):
                return path or "(key)"
            found = _nul_path(item, where)
            if found:
                return found
    if isinstance(value, list):
        for n, item in enumerate(value):
            found = _nul_path(item, f"{path}[{n}]")
            if found:
                return found
    return None


class _Open(BaseModel):
    """Known fields typed; other fields kept as sent, but never with a NUL character."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    @model_validator(mode="after")
    def _extras_without_nul(self) -> _Open:
        for key, value in (self.model_extra or {}).items():
            found = _nul_path(value, key)
            if found or NUL in key:
                raise PayloadError(found or "(key)", "contains a NUL character")
        return self


class TwilioInbound(_Open):
    """An inbound SMS as Twilio posts it."""

    MessageSid: Sid | None = None
    SmsSid: Sid | None = None
    From: Name = ""
    To: Name = ""
    Body: FreeText = ""

    @model_validator(mode="after")
    def _needs_sid(self) -> TwilioInbound:
        if not (self.MessageSid or self.SmsSid):
            raise PayloadError("MessageSid", "is required")
        return self


class TwilioStatus(_Open):
    """A status callback of a message we sent."""

    MessageSid: Sid | None = None
    SmsSid: Sid | None = None
    MessageStatus: Annotated[StrictStr, StringConstraints(pattern=r"^[a-z_]{1,32}$")] | None = None
    SmsStatus: Annotated[StrictStr, StringConstraints(pattern=r"^[a-z_]{1,32}$")] | None = None
    ErrorCode: Annotated[StrictStr, StringConstraints(pattern=r"^[0-9]{0,10}$")] | None = None
    To: Name | None = None

    @model_validator(mode="after")
    def _needs_sid_and_status(self) -> TwilioStatus:
        if not (self.MessageSid or self.SmsSid):
            raise PayloadError("MessageSid", "is required")
        if not (self.MessageStatus or self.SmsStatus):
            raise PayloadError("MessageStatus", "is required")
        return self


class CallbackKey(BaseModel):
    """The outbox key the dispatcher put in a status callback's URL."""

    key: Name


class SendGridEvent(_Open):
    """One event of a SendGrid Event Webhook post."""

    event: Annotated[Name, StringConstraints(min_length=1)]
    email: Name | None = None
    timestamp: Timestamp | None = None
    sg_event_id: Name | None = None
    sg_message_id: Name | None = None
    status: Name | None = None
    type: Name | None = None
    reason: Text | None = None
    outbox_key: Name | None = None


class GhlEvent(_Open):
    """A GoHighLevel contact or opportunity webhook (the fields the platform reads)."""

    type: Annotated[Name, StringConstraints(min_length=1)]
    locationId: Annotated[Name, StringConstraints(min_length=1)]
    id: Annotated[Name, StringConstraints(min_length=1)]
    firstName: Name | None = None
    lastName: Name | None = None
    name: Name | None = None
    email: Name | None = None
    phone: Name | None = None
    source: Name | None = None
    status: Name | None = None
    contactId: Name | None = None
    pipelineId: Name | None = None
    pipelineStageId: Name | None = None
    tags: list[Name] | None = None
    monetaryValue: float | None = None
    dateAdded: IsoTime | None = None
    dateUpdated: IsoTime | None = None
    createdAt: IsoTime | None = None
    updatedAt: IsoTime | None = None


M = TypeVar("M", bound=BaseModel)


def _field(loc: tuple[int | str, ...], prefix: str) -> str:
    path = prefix
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path = f"{path}.{part}" if path else str(part)
    return path or "(body)"


def _within(exc: PayloadError, prefix: str) -> PayloadError:
    return PayloadError(_field((exc.field,), prefix), str(exc).split(": ", 1)[1])


def parse(model: type[M], data: Any, prefix: str = "") -> M:
    """`data` as `model`, or a `PayloadError` naming the first field that does not fit."""
    try:
        return model.model_validate(data)
    except PayloadError as exc:
        raise _within(exc, prefix) from None
    except ValidationError as exc:
        first = exc.errors(include_input=False, include_url=False)[0]
        inner = first.get("ctx", {}).get("error")
        if isinstance(inner, PayloadError):
            raise _within(inner, prefix) from None
        problem = str(first["msg"]).removeprefix("Value error, ")
        raise PayloadError(_field(tuple(first["loc"]), prefix), problem) from None


def as_dict(model: BaseModel) -> dict[str, Any]:
    """The validated payload as the writers expect it: fields as sent (no defaults added)."""
    return model.model_dump(exclude_unset=True)
