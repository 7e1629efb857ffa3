"""`generate_estimate` on everyday pool and electrical job descriptions, scored against the
items a technician would write (`estimate_battery`): with and without (simulated) Claude, on
the descriptions the matcher was developed against and on held-out ones. Goal: recall >= 90%
and at most one wrong extra item per ten descriptions."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import sqlalchemy as sa
from estimate_battery import HELD_OUT, TUNING, Case, score

from perfect_catch.tools.estimate_generation import GenerateEstimateInput, generate_estimate


def _drafter(world) -> Callable[[str], list[str]]:
    def draft(description: str) -> list[str]:
        answer = generate_estimate(world.context, GenerateEstimateInput(description=description))
        for line in answer["lines"]:
            assert line["matched"] is True and line["item"]["name"]
        return [line["item"]["name"] for line in answer["lines"]]

    return draft


@pytest.fixture(scope="module")
def claude_world(make_world):
    env = make_world().sim.env
    return make_world(
        anthropic_api_key=env["ANTHROPIC_API_KEY"], anthropic_base_url=env["ANTHROPIC_BASE_URL"]
    )


@pytest.mark.parametrize("split", ["tuning", "held_out"])
def test_battery_without_a_key_meets_the_goal(world, split: str) -> None:
    cases: tuple[Case, ...] = TUNING if split == "tuning" else HELD_OUT
    result = score(cases, _drafter(world))
    assert len(TUNING) + len(HELD_OUT) >= 30
    assert result.recall >= 0.9, result.misses
    assert result.extras_per_ten <= 1.0, result.misses


@pytest.mark.parametrize("split", ["tuning", "held_out"])
def test_battery_with_claude_meets_the_goal(claude_world, split: str) -> None:
    cases: tuple[Case, ...] = TUNING if split == "tuning" else HELD_OUT
    result = score(cases, _drafter(claude_world))
    assert result.recall >= 0.9, result.misses
    assert result.extras_per_ten <= 1.0, result.misses
    answer = generate_estimate(
        claude_world.context, GenerateEstimateInput(description=cases[0].description)
    )
    assert answer["extraction"]["method"] == "claude"


def test_salt_cell_is_the_generator_and_the_pump_comes_with_its_labor(world) -> None:
    answer = world.ok(
        "generate_estimate", {"description": "replace the pool pump and add a salt cell"}
    )
    names = [line["item"]["name"] for line in answer["lines"]]
    assert set(names) == {
        "Variable Speed Pump",
        "Pump Replacement Labor",
        "Salt Chlorine Generator",
    }
    assert answer["extraction"]["method"] == "keyword_matcher"
    labor = next(line for line in answer["lines"] if line["item"]["name"].endswith("Labor"))
    assert labor["note"] == "installs Variable Speed Pump"


def test_a_symptom_or_a_declined_item_is_not_priced(world) -> None:
    answer = world.ok(
        "generate_estimate",
        {
            "description": "The breaker keeps tripping; customer declined the EV charger. "
            "Diagnose it"
        },
    )
    assert [line["item"]["name"] for line in answer["lines"]] == ["Diagnostic Visit"]


def test_a_shop_extends_the_trade_words(make_world) -> None:
    shop = make_world()
    description = "install a new pebble sheen skimmer"
    before = generate_estimate(shop.context, GenerateEstimateInput(description=description))
    assert not before["lines"] and before["unmatched"]
    with shop.engine.begin() as conn:
        conn.execute(
            sa.text(
                "insert into pricebook.trade_synonyms (tenant_id, phrase, means)"
                " values (:t, 'pebble sheen skimmer', 'skimmer basket')"
            ),
            {"t": shop.tenant_id},
        )
    after = generate_estimate(shop.context, GenerateEstimateInput(description=description))
    assert [line["item"]["name"] for line in after["lines"]] == ["Skimmer Basket"]
