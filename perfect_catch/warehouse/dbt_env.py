"""The warehouse connection as the `PC_DBT_*` environment variables dbt's profile reads.

dbt has no configuration of its own: `dbt_project/profiles.yml` reads these variables, and every
caller (the Dagster resource, `dbt_runner`, tests) derives them here from the platform's one
warehouse URL, so dbt always writes to the database the syncs load.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import make_url

from perfect_catch.settings import Settings

PROJECT_DIR = Path(
    os.environ.get("DBT_PROJECT_DIR") or Path(__file__).resolve().parents[2] / "dbt_project"
)
"""The dbt project shipped with the platform (`dbt_project/` at the repository root); an
installed, non-editable package (the container image) finds it at `DBT_PROJECT_DIR`, the
variable dbt itself reads for its project folder."""

ENV_NAMES = ("PC_DBT_HOST", "PC_DBT_PORT", "PC_DBT_USER", "PC_DBT_PASSWORD", "PC_DBT_DBNAME")

RUN_DEFAULTS = {"DBT_INDIRECT_SELECTION": "cautious"}
"""How every caller runs dbt. Cautious indirect selection runs a test only when all the models
it reads are selected, so building a subset (one asset from the Dagster UI) never fails on a
test that reads a model the subset did not build."""


def env_for_url(url: str) -> dict[str, str]:
    """`PC_DBT_*` for a PostgreSQL URL, any driver; a unix-socket `?host=/dir` is kept as host.

    psycopg2 (dbt-postgres) treats a host that starts with `/` as the socket directory, which
    is how the embedded server is reached.
    """
    parsed = make_url(url)
    host = parsed.host or parsed.query.get("host") or "localhost"
    if isinstance(host, tuple):
        host = host[0]
    return {
        "PC_DBT_HOST": str(host),
        "PC_DBT_PORT": str(parsed.port or 5432),
        "PC_DBT_USER": parsed.username or "postgres",
        "PC_DBT_PASSWORD": parsed.password or "",
        "PC_DBT_DBNAME": parsed.database or "postgres",
    }


def dbt_env(settings: Settings, url: str | None = None) -> dict[str, str]:
    """`PC_DBT_*` for `url`, or for the configured warehouse (starting the embedded server),
    with the platform's `RUN_DEFAULTS` and the install patterns of `settings`."""
    if url is None:
        from perfect_catch.warehouse.engine import base_url

        url = base_url(settings)
    return {
        **RUN_DEFAULTS,
        **env_for_url(url),
        **install_env(settings),
        **callrail_env(settings),
    }


def install_env(settings: Settings) -> dict[str, str]:
    """What counts as install work, for the `install_job_created` event: the same patterns the
    GoHighLevel install pipeline uses (INSTALL_BUSINESS_UNITS, INSTALL_JOB_TYPES), so an install
    job means one thing everywhere."""
    config = settings.integrations
    return {
        "PC_INSTALL_BUSINESS_UNITS": ",".join(config.install_business_units),
        "PC_INSTALL_JOB_TYPES": ",".join(config.install_job_types),
    }


def callrail_env(settings: Settings) -> dict[str, str]:
    """The tenant a CallRail call from an unknown number belongs to (`call_missed`): the first
    configured ServiceTitan tenant; none configured, dbt falls back to the warehouse's one."""
    tenants = settings.st_tenant_ids
    return {"PC_CALLRAIL_TENANT_ID": str(tenants[0])} if tenants else {}


@contextmanager
def applied(env: Mapping[str, str]) -> Iterator[None]:
    """Set `env` in `os.environ` for the block, then restore what was there before.

    Dagster's dbt resource passes the process environment to the dbt subprocess and takes no
    environment of its own, so the connection has to be in `os.environ` while it runs.
    """
    saved = {name: os.environ.get(name) for name in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
