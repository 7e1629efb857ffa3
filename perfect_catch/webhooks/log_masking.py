"""Logs without customers' phone numbers and email addresses, tracebacks included.

Webhook payloads carry phone numbers and emails, and an exception raised while storing one can
carry them in its message (a database error quotes the statement's parameters, a value error
quotes the value). `MaskingFormatter` masks the whole formatted record, message and traceback
alike: a phone number keeps its last 4 digits (`***0142`), an email the last 4 characters of its
local part (`***ples@***`). The receiver's engines also hide SQL parameters from their errors
(`hide_parameters`), so this is the second of two guards.
"""

from __future__ import annotations

import logging
import re
from typing import Any

#: A phone number: E.164 (+ and 10 to 15 digits) or North American (10 digits, optionally
#: grouped 3-3-4 with spaces, dots, dashes or parentheses, optionally after a 1).
_PHONE = re.compile(
    r"(?<![\w+])(?:\+\d{10,15}|(?:\+?1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4})(?!\w)"
)
_EMAIL = re.compile(r"([A-Za-z0-9._%+-]+)@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def _phone(match: re.Match[str]) -> str:
    digits = re.sub(r"\D", "", match.group(0))
    return f"***{digits[-4:]}"


def _email(match: re.Match[str]) -> str:
    return f"***{match.group(1)[-4:]}@***"


def mask(text: str) -> str:
    """`text` with every email and phone number masked."""
    return _PHONE.sub(_phone, _EMAIL.sub(_email, text))


class MaskingFormatter(logging.Formatter):
    """A formatter whose output (message, traceback, stack) has phones and emails masked."""

    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def log_config(level: str = "INFO") -> dict[str, Any]:
    """A `logging.config.dictConfig` (also uvicorn's `log_config`) that masks every record the
    receiver and its libraries write to stderr."""
    handler = {
        "class": "logging.StreamHandler",
        "formatter": "masked",
        "stream": "ext://sys.stderr",
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "masked": {
                "()": f"{__name__}.MaskingFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s: %(message)s",
            }
        },
        "handlers": {"stderr": handler},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {
            "uvicorn": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.error": {"level": level, "handlers": [], "propagate": True},
            "uvicorn.access": {"level": "WARNING", "handlers": [], "propagate": True},
        },
    }
