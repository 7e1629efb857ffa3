"""Prices as the shop writes them: money to the cent, and what a pricebook price change does
(the change, the margin over cost) with the rule that refuses selling below cost unless asked."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from perfect_catch.tools.errors import ToolInputError
from perfect_catch.tools.pricebook import Item

CENT = Decimal("0.01")


def money(value: Decimal | float | int) -> Decimal:
    """`value` in dollars to the cent, half a cent up. Through `str`, so a float counts as the
    decimal it prints as, not as its binary value (2.675 is 2.68)."""
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def price_change(
    item: Item,
    price: float,
    member_price: float | None,
    *,
    allow_below_cost: bool,
) -> dict[str, Any]:
    """The effect of giving `item` a new price (and member price): old and new, the change in
    dollars and percent, the new margin. A price under the item's cost is refused unless
    `allow_below_cost`."""
    new_price = money(price)
    cost = item.cost or Decimal(0)
    if cost and new_price < cost and not allow_below_cost:
        raise ToolInputError(
            f"{item.code} {item.name} costs {money(cost)}; {new_price} would sell it at a loss. "
            "Pass allow_below_cost=true if that is intended."
        )
    old = money(item.price)
    return {
        "sku_id": item.id,
        "kind": item.kind,
        "code": item.code,
        "name": item.name,
        "old_price": old,
        "new_price": new_price,
        "change": new_price - old,
        "change_percent": round(float((new_price - old) / old * 100), 1) if old else None,
        "old_member_price": item.member_price,
        "new_member_price": money(member_price) if member_price else None,
        "cost": item.cost,
        "new_margin": round(float((new_price - cost) / new_price), 3) if cost else None,
    }
