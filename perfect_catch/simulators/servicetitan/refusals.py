"""Why the simulated API refuses a request, as exceptions the routes turn into `ApiErrorResponse`.

They live apart from the writes so every module that checks a request (the writer, scheduling,
sales, pricebook, CRM) raises the same ones, whatever the route that called it.
"""

from __future__ import annotations

# ServiceTitan's ids are int64: a larger number names no record (and JSON encoders refuse it).
INT64_MAX = (1 << 63) - 1


def is_id(value: object) -> bool:
    """An int64 the API could take as an id (a bool is not one)."""
    return (
        isinstance(value, int) and not isinstance(value, bool) and -INT64_MAX <= value <= INT64_MAX
    )


class NotFound(LookupError):
    """A referenced record does not exist; `field` names the request field that pointed at it."""

    def __init__(self, entity: str, record_id: object, field: str = "id") -> None:
        super().__init__(f"{entity} {record_id} was not found")
        self.entity = entity
        self.record_id = record_id
        self.field = field


class Invalid(ValueError):
    """A request the real API would refuse; `errors` maps field names to messages."""

    status = 400

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or {}


class Conflict(Invalid):
    """A valid request that clashes with existing records (a technician booked twice): 409."""

    status = 409


def invalid(field: str, message: str) -> Invalid:
    """The usual single-field refusal: the title and the field's message are the same text."""
    return Invalid(message, {field: [message]})
