"""Dagster entry point: every definition under `perfect_catch/defs/`, loaded by folder.

Runs execute their steps in the run's own process (`in_process_executor`): the steps are
network and database bound, and starting a Python process per step — each importing Dagster
and these definitions, several seconds apiece on a small machine — would cost more than the
steps themselves and put tens of seconds between a ServiceTitan change and the workflows it
starts.
"""

import warnings
from pathlib import Path

import dagster as dg

import perfect_catch.defs

# Dagster 1.13 passes `owners` itself whenever it binds a sensor to its jobs, and warns every
# process that loads these definitions that the parameter is in beta; no sensor here sets it.
warnings.filterwarnings(
    "ignore", message="Parameter `owners` of initializer `SensorDefinition", category=dg.BetaWarning
)


@dg.definitions
def defs() -> dg.Definitions:
    loaded = dg.load_from_defs_folder(path_within_project=Path(perfect_catch.defs.__file__).parent)
    return dg.Definitions.merge(loaded, dg.Definitions(executor=dg.in_process_executor))
