"""The event types Python knows are exactly the event models dbt builds, in the same order."""

from __future__ import annotations

import re

import yaml

from perfect_catch.warehouse.dbt_env import PROJECT_DIR
from perfect_catch.warehouse.event_types import EVENT_TYPES
from perfect_catch.workflows.placeholders import EVENT_ROOTS

EVENTS_DIR = PROJECT_DIR / "models" / "events"


def _macro_list() -> list[str]:
    text = (PROJECT_DIR / "macros" / "events.sql").read_text()
    body = re.search(r"macro event_types\(\).*?endmacro", text, re.S)
    assert body, "macro event_types() is missing from macros/events.sql"
    return re.findall(r"'(\w+)'", body.group(0))


def test_every_event_model_is_a_known_event_type() -> None:
    models = {path.stem for path in EVENTS_DIR.glob("*.sql")} - {"workflow_events"}
    assert models == set(EVENT_TYPES)
    for name in EVENT_TYPES:
        assert f"'{name}'" in (EVENTS_DIR / f"{name}.sql").read_text(), name


def test_workflow_events_unions_the_same_list_in_the_same_order() -> None:
    assert _macro_list() == list(EVENT_TYPES)
    for path in (
        EVENTS_DIR / "workflow_events.sql",
        PROJECT_DIR / "tests" / "assert_workflow_events_holds_every_event.sql",
    ):
        assert "event_types()" in path.read_text(), path.name


def test_the_documented_models_and_accepted_values_match() -> None:
    spec = yaml.safe_load((EVENTS_DIR / "_events.yml").read_text())
    models = {model["name"]: model for model in spec["models"]}
    assert set(models) == {*EVENT_TYPES, "workflow_events"}
    column = next(c for c in models["workflow_events"]["columns"] if c["name"] == "event_type")
    accepted = next(t["accepted_values"] for t in column["data_tests"] if isinstance(t, dict))
    assert accepted["arguments"]["values"] == list(EVENT_TYPES)


def test_every_event_type_has_its_payload_roots() -> None:
    assert set(EVENT_ROOTS) == set(EVENT_TYPES)
