"""Secrets reach Dagster resources only as `EnvVar`s, so the UI never shows their values."""

import os

import dagster as dg
from pydantic import SecretStr

from perfect_catch.settings import get_settings


def secret_env(name: str) -> dg.EnvVar:
    """`EnvVar(name)`, exporting the value from `.env` first when only the file holds it."""
    if name not in os.environ:
        value = getattr(get_settings(), name.lower())
        os.environ[name] = value.get_secret_value() if isinstance(value, SecretStr) else value
    return dg.EnvVar(name)
