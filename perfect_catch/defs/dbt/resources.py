"""The dbt CLI resource, on the project shipped with the platform.

The executable is the `dbt` installed beside the platform's interpreter, so a Dagster process
started without the virtualenv on PATH still finds it.

Before each build, Dagster's resource would also load dbt itself into the run's process (its
adapter, for optional column and row-count metadata this project does not ask for): seconds of
importing and reading the profile on every build, which the event lane runs twice a minute.
`PlatformDbtCliResource` skips that; dbt still runs, as always, in its own process.
"""

from collections.abc import Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DbtCliResource

from perfect_catch.defs.dbt.project import dbt_project
from perfect_catch.warehouse.dbt_runner import dbt_executable


class PlatformDbtCliResource(DbtCliResource):
    """`DbtCliResource` without the in-process dbt adapter (no column or row-count metadata)."""

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        return None


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={
            "dbt": PlatformDbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())
        }
    )
