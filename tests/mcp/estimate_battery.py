"""Job descriptions as customers and technicians write them, for a pool and electrical shop,
with the pricebook items a technician would put on the estimate, and the score of a drafted
estimate: recall (expected items found) and wrong extras (items nothing asked for).

`TUNING` is what the matcher was developed against; `HELD_OUT` was written apart and is only
scored, so its figures say how the matcher does on descriptions it has never seen. The item
names are those of the simulated tenant's pricebook (`simulators/servicetitan/catalog.py`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Case:
    description: str
    expected: frozenset[str]


def case(description: str, *expected: str) -> Case:
    return Case(description, frozenset(expected))


TUNING: tuple[Case, ...] = (
    case(
        "Replace the pool pump and add a salt cell",
        "Variable Speed Pump",
        "Pump Replacement Labor",
        "Salt Chlorine Generator",
    ),
    case(
        "New variable speed pump, 2 skimmer baskets and a filter clean",
        "Variable Speed Pump",
        "Pump Replacement Labor",
        "Skimmer Basket",
        "Filter Clean",
    ),
    case(
        "Install a Level 2 EV charger in the garage",
        "Level 2 EV Charger",
        "EV Charger Install Labor",
    ),
    case(
        "Customer wants a Tesla charger put in and a GFCI outlet by the garage door",
        "Level 2 EV Charger",
        "EV Charger Install Labor",
        "GFCI Outlet",
        "Outlet / Switch Install",
    ),
    case(
        "Pool is green, needs a green to clean and 4 lbs of shock",
        "Green-to-Clean",
        "Pool Shock 1lb",
    ),
    case(
        "Upgrade the electrical panel to 200 amp",
        "200A Main Panel",
        "Panel Upgrade 200A",
    ),
    case(
        "Pump is leaking at the shaft, replace the pump seal and o-rings",
        "Pool Pump Seal Kit",
        "O-Ring Kit",
    ),
    case(
        "Replace the pool heater with a new 400k BTU unit",
        "Pool Heater 400k BTU",
        "Heater Install Labor",
    ),
    case(
        "Drain and acid wash the pool, then refill and balance with muriatic acid",
        "Acid Wash",
        "Muriatic Acid 1gal",
    ),
    case(
        "Install a whole house Generac generator",
        "Standby Generator 22kW",
        "Generator Install Labor",
    ),
    case(
        "Pool light is out. Replace the LED pool light",
        "LED Pool Light",
        "Light Fixture Install",
    ),
    case(
        "Swap the bulb in the pool light",
        "LED Pool Light Bulb",
    ),
    case(
        "Troubleshoot breaker tripping in the kitchen and replace the 20 amp breaker",
        "Diagnostic Visit",
        "20A Breaker",
    ),
    case(
        "Clean the salt cell and replace the pressure gauge",
        "Salt Cell Cleaner",
        "Pressure Gauge",
    ),
    case(
        "Set up weekly pool service and drop off a bucket of chlorine tabs",
        "Weekly Pool Service",
        "Chlorine Tablets 25lb",
    ),
    case(
        "Replace 3 outlets with GFCI outlets in the bathrooms",
        "GFCI Outlet",
        "Outlet / Switch Install",
    ),
    case(
        "Hang two new light fixtures in the patio",
        "Light Fixture Install",
    ),
    case(
        "Install a heat pump for the spa",
        "Heat Pump",
        "Heater Install Labor",
    ),
    case(
        "New cartridge filter, the old one is cracked",
        "Cartridge Filter",
    ),
    case(
        "Add pool automation so they can run everything from the phone",
        "Automation System",
    ),
    case(
        "Diagnose why the pump won't prime",
        "Diagnostic Visit",
    ),
    case(
        "Replace filter cartridges and clean the filter, add DE powder",
        "Cartridge Filter Element",
        "Filter Clean",
        "DE Filter Powder",
    ),
)

HELD_OUT: tuple[Case, ...] = (
    case(
        "Homeowner wants a salt system instead of chlorine tabs, plus a new vs pump",
        "Salt Chlorine Generator",
        "Variable Speed Pump",
        "Pump Replacement Labor",
    ),
    case(
        "EV charger install on the side of the house, customer has a Chevy Bolt",
        "Level 2 EV Charger",
        "EV Charger Install Labor",
    ),
    case(
        "Heater not firing. Run a diagnostic and replace the pressure gauge",
        "Diagnostic Visit",
        "Pressure Gauge",
    ),
    case(
        "Algae everywhere - green pool cleanup, add 2 bags of shock",
        "Green-to-Clean",
        "Pool Shock 1lb",
    ),
    case(
        "Main panel is Federal Pacific, replace with a new 200A panel",
        "200A Main Panel",
        "Panel Upgrade 200A",
    ),
    case(
        "Install a backup generator and a new 20A breaker for the well pump",
        "Standby Generator 22kW",
        "Generator Install Labor",
        "20A Breaker",
    ),
    case(
        "Replace the pump motor. Also replace the skimmer basket",
        "Variable Speed Pump",
        "Pump Replacement Labor",
        "Skimmer Basket",
    ),
    case(
        "Customer asked for a new pool light and a new spa light",
        "LED Pool Light",
        "Light Fixture Install",
    ),
    case(
        "Acid wash the pool",
        "Acid Wash",
    ),
    case(
        "Add two GFCI outlets on the back patio and run romex from the panel",
        "GFCI Outlet",
        "Outlet / Switch Install",
        "12/2 Romex 250ft",
    ),
    case(
        "Clean filter and swap out the cartridge element",
        "Filter Clean",
        "Cartridge Filter Element",
    ),
    case(
        "Convert to a heat pump, the gas heater is shot",
        "Heat Pump",
        "Heater Install Labor",
    ),
    case(
        "Pool controller died, install a new iAquaLink automation system",
        "Automation System",
    ),
    case(
        "Replace the shaft seal on the pump and put teflon tape on the fittings",
        "Pool Pump Seal Kit",
        "Teflon Tape",
    ),
    # Written after the matcher's last change, never used to change it.
    case(
        "Customer's Tesla needs a charger in the garage. Also quote a whole-home generator",
        "Level 2 EV Charger",
        "EV Charger Install Labor",
        "Standby Generator 22kW",
        "Generator Install Labor",
    ),
    case(
        "Weekly maintenance starting next week, first visit bring 2 buckets of chlorine tablets",
        "Weekly Pool Service",
        "Chlorine Tablets 25lb",
    ),
    case(
        "Spa heater keeps shutting off, check it out and replace the o-ring kit",
        "Diagnostic Visit",
        "O-Ring Kit",
    ),
    case(
        "Put in a new breaker panel and 3 new 20 amp breakers",
        "200A Main Panel",
        "Panel Upgrade 200A",
        "20A Breaker",
    ),
    case(
        "Filter pressure is high. Clean the filter and add DE",
        "Filter Clean",
        "DE Filter Powder",
    ),
    case(
        "Install 4 new light fixtures and a dimmer switch in the living room",
        "Light Fixture Install",
        "Outlet / Switch Install",
    ),
)


@dataclass(frozen=True)
class Score:
    descriptions: int
    expected: int
    found: int
    wrong_extras: int
    misses: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...]

    @property
    def recall(self) -> float:
        return self.found / self.expected if self.expected else 1.0

    @property
    def extras_per_ten(self) -> float:
        return 10 * self.wrong_extras / self.descriptions if self.descriptions else 0.0


def score(cases: Iterable[Case], draft: Callable[[str], Iterable[str]]) -> Score:
    """Score `draft` (a description -> the item names of its priced lines) over `cases`."""
    cases = list(cases)
    expected = found = extras = 0
    misses = []
    for item in cases:
        names = set(draft(item.description))
        hit = names & item.expected
        wrong = names - item.expected
        expected += len(item.expected)
        found += len(hit)
        extras += len(wrong)
        if hit != item.expected or wrong:
            misses.append(
                (item.description, tuple(sorted(item.expected - hit)), tuple(sorted(wrong)))
            )
    return Score(len(cases), expected, found, extras, tuple(misses))
