"""The dbt CLI resource, on the project shipped with the platform.

The executable is the `dbt` installed beside the platform's interpreter, so a Dagster process
started without the virtualenv on PATH still finds it.

Before each build, Dagster's resource would also load dbt itself into the run's process (its
adapter, for optional column and row-count metadata this project does not ask for): seconds of
importing and reading the profile on every build, which the event lane runs twice a minute.
`PlatformDbtCliResource` skips that; dbt still runs, as always, in its own process. It also
reads the version of dbt from the installed package instead of running `dbt --version` first,
a whole further dbt process (seconds) before every build.
"""

import importlib.metadata
from collections.abc import Sequence
from functools import cached_property
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource
from packaging import version

from perfect_catch.defs.dbt.project import dbt_project
from perfect_catch.warehouse.dbt_runner import dbt_executable


class PlatformDbtCliResource(DbtCliResource):
    """`DbtCliResource` without the in-process dbt adapter (no column or row-count metadata)
    and without a `dbt --version` process before each build."""

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None

    @cached_property
    def _cli_version(self) -> version.Version:
        """The version of the dbt-core package: the `dbt` this resource runs is the one
        installed beside the platform's interpreter (`dbt_executable`), from that package."""
        return version.parse(importlib.metadata.version("dbt-core"))


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "dbt": PlatformDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
        }
    )
