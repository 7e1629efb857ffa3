"""The sensor that evaluates automation conditions: it rebuilds the dbt models after the syncs
that feed them. Its default status follows `SCHEDULES_DEFAULT_ON`, like every other sensor."""

import dagster as dg

from perfect_catch.settings import get_settings

dbt_automation_sensor = dg.AutomationConditionSensorDefinition(
    "dbt_automation",
    target=dg.AssetSelection.all(),
    minimum_interval_seconds=30,
    default_status=(
        dg.DefaultSensorStatus.RUNNING
        if get_settings().schedules_default_on
        else dg.DefaultSensorStatus.STOPPED
    ),
    description="Evaluates the assets' automation conditions every 30 s: the dbt models "
    "rebuild once the ServiceTitan syncs that feed them have new data.",
    metadata={"interval_seconds": 30},
)
