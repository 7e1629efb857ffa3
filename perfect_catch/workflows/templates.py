"""Message templates: sandboxed Jinja2 with strict undefined names.

Templates come from YAML that people edit, so they render in a `SandboxedEnvironment` (no
attribute tricks, no file access) and with `StrictUndefined`: a name without a value stops the
step instead of sending a message with a hole in it. The names a template uses are found from
its syntax tree when the workflow is loaded, so a typo fails validation, not a customer's text.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment


class TemplateError(ValueError):
    """A template does not parse, names something unknown or cannot be rendered."""


def _present(value: Any) -> Any:
    """Output values must exist: a null in the event stops the message like a missing name."""
    if value is None:
        raise jinja2.UndefinedError("a value the template prints is empty in this event")
    return value


def _money(value: Any) -> str:
    """1234.5 -> "$1,234.50"; whole amounts drop the cents ("$1,200")."""
    _present(value)
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return str(value)
    if amount == amount.to_integral_value():
        return f"${amount:,.0f}"
    return f"${amount:,.2f}"


def _as_datetime(value: Any) -> datetime | date:
    if isinstance(value, datetime | date):
        return value
    text = str(value)
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return date.fromisoformat(text[:10])


@jinja2.pass_context
def _local(context: jinja2.runtime.Context, value: Any, fmt: str = "%A %B %-d at %-I:%M %p") -> str:
    """A timestamp in the customer's timezone (the `timezone` variable), formatted."""
    moment = _as_datetime(_present(value))
    if isinstance(moment, datetime) and moment.tzinfo is not None:
        zone = context.get("timezone")
        if zone:
            moment = moment.astimezone(ZoneInfo(str(zone)))
    return moment.strftime(fmt)


def _first_name(value: Any) -> str:
    parts = str(value or "").split()
    return parts[0] if parts else ""


def _environment(autoescape: bool) -> SandboxedEnvironment:
    env = SandboxedEnvironment(
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        keep_trailing_newline=False,
        finalize=_present,
    )
    env.filters.update(money=_money, local=_local, first_name=_first_name)
    return env


_TEXT = _environment(autoescape=False)
_HTML = _environment(autoescape=True)


def names_in(source: str) -> set[str]:
    """The top-level variables `source` reads (its undeclared names)."""
    try:
        return set(meta.find_undeclared_variables(_TEXT.parse(source)))
    except jinja2.TemplateSyntaxError as error:
        raise TemplateError(
            f"template syntax error on line {error.lineno}: {error.message}"
        ) from None


def unknown_names(source: str, known: set[str]) -> list[str]:
    """Names `source` uses that are not in `known`, sorted."""
    return sorted(names_in(source) - known)


def render(source: str, variables: dict[str, Any], *, html: bool = False) -> str:
    """Render `source`; a missing value or a sandbox violation raises `TemplateError`."""
    env = _HTML if html else _TEXT
    try:
        return env.from_string(source).render(variables).strip()
    except jinja2.UndefinedError as error:
        raise TemplateError(f"template cannot be filled: {error.message}") from None
    except jinja2.exceptions.SecurityError as error:
        raise TemplateError(f"template not allowed: {error}") from None
    except jinja2.TemplateError as error:
        raise TemplateError(f"template failed: {error}") from None
