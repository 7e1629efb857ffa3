"""The dbt project as Dagster sees it, with its manifest prepared before anything loads it.

`dagster dev` re-parses the project on start (`prepare_if_dev`); everywhere else the manifest
comes from the install step (`dbt parse`), and when it is missing or older than a file of the
project it is parsed here, so a fresh checkout or an edited model never loads a stale one.
Parsing never touches the database.
"""

from dagster_dbt import DbtProject

from perfect_catch.warehouse import dbt_runner
from perfect_catch.warehouse.dbt_env import PROJECT_DIR

dbt_project = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
dbt_project.prepare_if_dev()
dbt_runner.ensure_manifest()
