"""The code location's settings: read once when the definitions load, they configure the
schedules, sensors and resources, and reach assets, ops and sensors as the `settings` resource
(`settings: dg.ResourceParam[Settings]`), so a test hands its own instead of changing the
environment."""

import dagster as dg

from perfect_catch.settings import Settings, get_settings

SettingsResource = dg.ResourceParam[Settings]


@dg.definitions
def resources() -> dg.Definitions:
    return dg.Definitions(resources={"settings": get_settings()})
