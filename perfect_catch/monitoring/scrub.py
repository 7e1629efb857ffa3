"""Scrubbing secrets from anything monitoring stores, logs, alerts or sends to Claude.

An error can quote a request, a URL or a config value; an incident row, an alert or a prompt
outlives the process and is read by people and models that must not see credentials. Every
configured secret value is replaced, and so are the shapes secrets take when their value is not
configured here (bearer tokens, URL passwords, `password=` / `secret=` / `token=` pairs).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa
from pydantic import BaseModel, SecretStr

from perfect_catch.connectors.http import Redactor
from perfect_catch.settings import Settings

REDACTED = "***"

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}"), rf"\1 {REDACTED}"),
    (re.compile(r"(?i)([a-z][a-z0-9+.-]*://[^:/@\s]*:)[^@\s]+@"), rf"\1{REDACTED}@"),
    (
        re.compile(
            r"(?i)\b([a-z_-]*(?:password|passwd|secret|token|api[_-]?key|authorization)[a-z_-]*"
            r"\s*[=:]\s*)(\"[^\"]*\"|'[^']*'|[^\s&,;]+)"
        ),
        rf"\1{REDACTED}",
    ),
    (re.compile(r"\bsk-ant-[A-Za-z0-9_-]{6,}"), REDACTED),
    (re.compile(r"\bSG\.[A-Za-z0-9_-]{6,}\.[A-Za-z0-9_-]{6,}"), REDACTED),
)


def secret_values(settings: Settings) -> list[str]:
    """Every secret the settings hold: each `SecretStr` (sections included) and the password
    of a database URL."""
    found: list[str] = []

    def walk(model: BaseModel) -> None:
        for name in type(model).model_fields:
            value = getattr(model, name)
            if isinstance(value, SecretStr):
                found.append(value.get_secret_value())
            elif isinstance(value, BaseModel):
                walk(value)

    walk(settings)
    if settings.database_url:
        password = sa.make_url(settings.database_url).password
        if password:
            found.append(str(password))
    return [value for value in found if value]


class Scrubber:
    """Replaces configured secret values and secret-shaped text; safe to call on any text."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._values = Redactor(secrets)

    @classmethod
    def from_settings(cls, settings: Settings, *extra: str | None) -> Scrubber:
        return cls([*secret_values(settings), *extra])

    def add(self, *secrets: str | None) -> None:
        self._values.add(*secrets)

    def __call__(self, text: str | None) -> str | None:
        if text is None:
            return None
        text = self._values(text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text

    def text(self, text: str) -> str:
        """`text` scrubbed (for callers that never pass None)."""
        return self(text) or ""
