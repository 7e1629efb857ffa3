"""The deterministic pieces behind the tools: pricebook matching, phone normalising,
estimate reading without Claude, and the registry's contract."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import BaseModel

from perfect_catch.tools.errors import ToolFailure, ToolInputError, UpstreamError
from perfect_catch.tools.lookup import normalize_phone
from perfect_catch.tools.pricebook import Item, rank, words
from perfect_catch.tools.registry import ToolSpec, all_tools, claude_tools, jsonable
from perfect_catch.tools.work_clauses import clauses


def _item(kind: str, id_: int, code: str, name: str, price: str) -> Item:
    return Item(kind, id_, code, name, name, Decimal(price), None, Decimal("1"), None)  # type: ignore[arg-type]


ITEMS = [
    _item("service", 1, "SVC-1", "Pump Replacement Labor", "650"),
    _item("service", 2, "SVC-2", "Filter Clean", "145"),
    _item("equipment", 3, "EQ-1", "Variable Speed Pump", "960"),
    _item("material", 4, "MAT-1", "Skimmer Basket", "60.66"),
    _item("material", 5, "MAT-2", "GFCI Outlet", "126.36"),
]


@pytest.mark.parametrize(
    ("phone", "digits"),
    [
        ("+1 (480) 555-2894", "+14805552894"),
        ("480.555.2894", "+14805552894"),
        ("555-2894", "5552894"),
        ("(123) 555-2894", "1235552894"),
    ],
)
def test_normalize_phone(phone: str, digits: str) -> None:
    assert normalize_phone(phone) == digits


def test_normalize_phone_refuses_non_numbers() -> None:
    with pytest.raises(ToolInputError):
        normalize_phone("call me")


def test_words_fold_plurals_synonyms_and_stopwords() -> None:
    assert words("Replace the 2 skimmer baskets and the receptacles") == [
        "2",
        "skimmer",
        "basket",
        "outlet",
    ]


def test_rank_prefers_the_closest_item() -> None:
    best, confidence = rank(ITEMS, "variable speed pump")[0]
    assert best.code == "EQ-1" and confidence == 1.0
    assert rank(ITEMS, "roof shingles") == []


def test_clause_reading_of_a_description() -> None:
    read = clauses("New variable speed pump, 2 skimmer baskets and a filter clean")
    assert [c.text for c in read] == [
        "new variable speed pump",
        "2 skimmer baskets",
        "a filter clean",
    ]
    assert [c.quantity for c in read] == [1.0, 2.0, 1.0]
    assert [c.intent for c in read] == ["install", "install", "work"]


def test_symptoms_declines_and_replaced_items_ask_for_nothing() -> None:
    read = clauses(
        "The breaker keeps tripping; customer declined the light. "
        "Install a salt system instead of chlorine tabs, then a 50 amp circuit"
    )
    assert [(c.text, c.intent) for c in read] == [
        ("the breaker keeps tripping", "none"),
        ("install a salt system", "install"),
        ("a 50 amp circuit", "install"),
    ]
    assert read[-1].quantity == 1.0


def test_every_tool_has_a_model_facing_contract() -> None:
    tools = all_tools()
    assert len({t.name for t in tools}) == len(tools) >= 29
    for spec in tools:
        assert spec.description and spec.input_schema()["type"] == "object"
        assert not (spec.read_only and spec.destructive)
        assert spec.input_model.model_config.get("extra") == "forbid", spec.name


class _Args(BaseModel):
    n: int


def test_run_turns_failures_into_tool_failures() -> None:
    from perfect_catch.connectors.servicetitan import ServiceTitanError

    def upstream(context: object, params: _Args) -> dict:
        raise ServiceTitanError(400, "bad", None, {"x": ["y"]}, "POST", "/jpm/v2/tenant/1/jobs")

    def crash(context: object, params: _Args) -> dict:
        raise RuntimeError("secret-token-123")

    def spec(fn: object) -> ToolSpec:
        return ToolSpec("t", "d", _Args, fn, "test", read_only=True)  # type: ignore[arg-type]

    with pytest.raises(ToolInputError, match="n"):
        spec(crash).run(None, {"n": "x"})  # type: ignore[arg-type]
    with pytest.raises(UpstreamError, match="HTTP 400.*nothing was changed"):
        spec(upstream).run(None, {"n": 1})  # type: ignore[arg-type]
    with pytest.raises(ToolFailure) as crashed:
        spec(crash).run(None, {"n": 1})  # type: ignore[arg-type]
    assert "secret-token-123" not in str(crashed.value)


def test_jsonable() -> None:
    assert jsonable({"a": Decimal("2.50"), "b": [Decimal("3")]}) == {"a": 2.5, "b": [3]}


def test_claude_tool_definitions() -> None:
    (definition,) = claude_tools(["lookup_customer"])
    assert definition["name"] == "lookup_customer"
    assert "phone" in definition["input_schema"]["properties"]
    with pytest.raises(ToolInputError, match="unknown tool"):
        claude_tools(["send_fax"])
