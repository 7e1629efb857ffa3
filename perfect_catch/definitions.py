"""Dagster entry point: every definition under `perfect_catch/defs/`, loaded by folder."""

from pathlib import Path

import dagster as dg

import perfect_catch.defs


@dg.definitions
def defs() -> dg.Definitions:
    return dg.load_from_defs_folder(path_within_project=Path(perfect_catch.defs.__file__).parent)
