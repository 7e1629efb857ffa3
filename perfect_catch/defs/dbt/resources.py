"""The dbt CLI resource, on the project shipped with the platform.

The executable is the `dbt` installed beside the platform's interpreter, so a Dagster process
started without the virtualenv on PATH still finds it.
"""

import dagster as dg
from dagster_dbt import DbtCliResource

from perfect_catch.defs.dbt.project import dbt_project
from perfect_catch.warehouse.dbt_runner import dbt_executable


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(
        resources={"dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable())}
    )
