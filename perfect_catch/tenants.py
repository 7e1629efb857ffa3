"""ServiceTitan tenants as data: which shops to sync, and each one's own credentials.

A shop grants the ServiceTitan app access on its own and gets its own client id and secret, so
credentials belong to a tenant, not to the deployment. Tenants come from configuration, read
again whenever they are needed (adding a shop is a configuration change, not a release):

- `ST_TENANTS=1000001,1000002` (also from `.env`) with, per tenant, `ST_1000001_CLIENT_ID`,
  `ST_1000001_CLIENT_SECRET` and optionally `ST_1000001_APP_KEY`;
- or `ST_TENANTS_FILE`, a YAML file (e.g. a mounted Kubernetes Secret) listing
  `tenants: [{id: 1000001, client_id: ..., client_secret: ..., app_key: ...}]`;
- or today's single-tenant variables, `ST_TENANT_IDS` with the shared `ST_CLIENT_ID`,
  `ST_CLIENT_SECRET` and `ST_APP_KEY`, which also fill in whatever a tenant does not set.

`credentials_for(tenant)` reads only that tenant's variables (and the shared ones): a run of one
tenant never asks for, holds or passes on another tenant's secret.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from pydantic import SecretStr

from perfect_catch.settings import Settings, SettingsError

#: The dynamic partitions of the ServiceTitan assets: one per configured tenant.
TENANT_PARTITIONS = "servicetitan_tenant"
#: The run tag every tenant's run carries; the run queue limits runs per value of it.
TENANT_TAG = "perfect_catch/tenant"

_ID = re.compile(r"^[0-9]+$")


@dataclass(frozen=True)
class TenantCredentials:
    """One tenant's ServiceTitan credentials; the secrets stay `SecretStr` until the client."""

    tenant_id: int
    client_id: str
    client_secret: SecretStr = field(repr=False)
    app_key: SecretStr = field(repr=False)
    #: Where they came from (variable names or the file), for error messages; never the values.
    source: str = ""


def _tenant_id(raw: object, where: str) -> int:
    text = str(raw).strip()
    if not _ID.match(text):
        raise SettingsError(f"{where}: tenant id must be a number, got {text!r}")
    return int(text)


def process_environment() -> dict[str, str]:
    """This process's variables over those of `.env` (as `Settings` reads them): where a
    tenant's `ST_<ID>_*` variables are looked up."""
    from dotenv import dotenv_values

    env_file = os.environ.get("PERFECT_CATCH_ENV_FILE", ".env")
    from_file = {k: v for k, v in dotenv_values(env_file).items() if v is not None}
    return {**from_file, **os.environ}


def read_tenants_file(path: Path | None) -> dict[int, dict[str, str]]:
    """The tenants of `ST_TENANTS_FILE` by id (empty without a file); a bad file is an error
    naming it."""
    if path is None:
        return {}
    where = f"ST_TENANTS_FILE {path}"
    try:
        document = yaml.safe_load(Path(path).read_text()) or {}
    except OSError as error:
        raise SettingsError(f"{where}: cannot be read ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise SettingsError(f"{where}: not valid YAML ({error})") from None
    entries = document.get("tenants") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise SettingsError(f"{where}: expected a `tenants:` list")
    found: dict[int, dict[str, str]] = {}
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict) or "id" not in entry:
            raise SettingsError(f"{where}: tenants[{index}] needs an `id`")
        unknown = sorted(set(entry) - {"id", "name", "client_id", "client_secret", "app_key"})
        if unknown:
            raise SettingsError(f"{where}: tenants[{index}] has unknown keys {unknown}")
        tenant = _tenant_id(entry["id"], f"{where}: tenants[{index}].id")
        found[tenant] = {k: str(v) for k, v in entry.items() if k != "id" and v is not None}
    return found


def configured_tenant_ids(settings: Settings) -> list[int]:
    """Every tenant to sync, in order of first mention: `ST_TENANT_IDS` and `ST_TENANTS` (both
    in `settings.st_tenant_ids`), then the tenants file, read afresh on each call so that a
    sensor sees a tenant added to it."""
    ids = [*settings.st_tenant_ids, *read_tenants_file(settings.st_tenants_file)]
    return list(dict.fromkeys(ids))


def credentials_for(
    tenant_id: int, settings: Settings, environ: Mapping[str, str] | None = None
) -> TenantCredentials:
    """`tenant_id`'s credentials from `settings` (shared ones and the tenants file)."""
    return resolve_credentials(
        tenant_id,
        shared=(
            settings.st_client_id,
            settings.st_client_secret.get_secret_value(),
            settings.st_app_key.get_secret_value(),
        ),
        tenants_file=settings.st_tenants_file,
        environ=environ,
    )


def resolve_credentials(
    tenant_id: int,
    *,
    shared: tuple[str, str, str],
    tenants_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> TenantCredentials:
    """`tenant_id`'s own credentials (its file entry, then its `ST_<ID>_*` variables), each
    part falling back to the `shared` (client id, client secret, app key). Only this tenant's
    names are read."""
    environ = process_environment() if environ is None else environ
    own = read_tenants_file(tenants_file).get(tenant_id, {})
    prefix = f"ST_{tenant_id}_"
    sources: list[str] = []

    def pick(key: str, fallback: str) -> str:
        if own.get(key):
            sources.append(f"ST_TENANTS_FILE[{tenant_id}].{key}")
            return own[key]
        name = prefix + key.upper()
        if environ.get(name):
            sources.append(name)
            return environ[name]
        sources.append(f"ST_{key.upper()}")
        return fallback

    client_id = pick("client_id", shared[0])
    secret = pick("client_secret", shared[1])
    app_key = pick("app_key", shared[2])
    if not client_id or not secret:
        raise SettingsError(
            f"tenant {tenant_id}: no ServiceTitan credentials; set {prefix}CLIENT_ID and "
            f"{prefix}CLIENT_SECRET (or the shared ST_CLIENT_ID and ST_CLIENT_SECRET)"
        )
    return TenantCredentials(
        tenant_id, client_id, SecretStr(secret), SecretStr(app_key), ", ".join(sources)
    )


def kubernetes_secret_name(tenant_id: int, prefix: str) -> str:
    """The Kubernetes Secret holding `tenant_id`'s `ST_<ID>_*` variables."""
    return f"{prefix}{tenant_id}"
