"""Finding the pricebook items a piece of work names, in PostgreSQL: full-text search and
trigram similarity (`pg_trgm`) over item names and descriptions, with the trade's words
(`pricebook.trade_synonyms`, which a shop extends with its own) appended to what was said, and
the labor that installs a piece of equipment (the pricebook's linked services, else
`pricebook.install_labor_rules`).

The measure that decides is how well an item's whole name is found in the clause
(`strict_word_similarity(name, clause)`): "Pool Pump Seal Kit" is not what "replace the pool
pump" asks for, though it shares two words. A name counts without its sizes ("Pool Heater 400k
BTU" is named by "the pool heater"), and a name found only through a trade word counts a little
less than one said outright ("a GFCI outlet" is the outlet before the labor of installing
outlets). Full-text rank only breaks ties."""

from __future__ import annotations

import re
from dataclasses import dataclass

import sqlalchemy as sa

from perfect_catch.tools.pricebook import Item, Kind, item_from_row

#: An item is what a clause names when its name is found in the clause at least this well.
NAME_MATCH = 0.6


@dataclass(frozen=True)
class Candidate:
    """A pricebook item found for one clause, with how well its name is found in it."""

    item: Item
    name_match: float
    text_rank: float


def trade_synonyms(conn: sa.Connection, tenant_id: int) -> list[tuple[str, str]]:
    """(phrase, what it means) of the trade and of the tenant, longest phrase first."""
    rows = conn.execute(
        sa.text(
            "select phrase, means from pricebook.trade_synonyms"
            " where tenant_id is null or tenant_id = :t"
            " order by length(phrase) desc, tenant_id nulls last, phrase"
        ),
        {"t": tenant_id},
    )
    seen: set[str] = set()
    result = []
    for phrase, means in rows:
        if phrase not in seen:
            seen.add(phrase)
            result.append((phrase, means.lower()))
    return result


def expand(text: str, synonyms: list[tuple[str, str]]) -> str:
    """`text` followed by what its trade phrases mean. Phrases are taken longest first and never
    overlap, so "pump seal" is a seal kit and not also a pump."""
    if not synonyms:
        return text
    pattern = re.compile(
        r"(?<![a-z0-9])(" + "|".join(re.escape(p) for p, _ in synonyms) + r")(?![a-z0-9])"
    )
    meanings = dict(synonyms)
    extra = [meanings[m.group(1)] for m in pattern.finditer(text.lower())]
    return " ".join([text, *extra])


_ITEMS = """
    select 'service' as kind, id, code, display_name, description, price, member_price, cost,
           hours
    from pricebook.services
    where tenant_id = :t and deleted_at is null and coalesce(active, true)
    union all
    select 'material', id, code, display_name, description, price, member_price, cost,
           null::numeric
    from pricebook.materials
    where tenant_id = :t and deleted_at is null and coalesce(active, true)
    union all
    select 'equipment', id, code, display_name, description, price, member_price, cost,
           null::numeric
    from pricebook.equipment
    where tenant_id = :t and deleted_at is null and coalesce(active, true)
"""

_SEARCH = rf"""
with
clauses as (
    select ord, said, expanded,
           cast(nullif(replace(cast(plainto_tsquery('english', expanded) as text), ' & ', ' | '),
                '') as tsquery) as query
    from unnest(cast(:said as text[]), cast(:expanded as text[]))
        with ordinality as c(said, expanded, ord)
),
items as ({_ITEMS}),
scored as (
    select clauses.ord, items.*,
           greatest(
               public.strict_word_similarity(lower(items.display_name), clauses.said),
               public.strict_word_similarity(core.name, clauses.said),
               0.95 * public.strict_word_similarity(lower(items.display_name), clauses.expanded),
               0.95 * public.strict_word_similarity(core.name, clauses.expanded)
           ) as name_match,
           coalesce(ts_rank(pricebook.search_document(items.display_name, items.description),
                            clauses.query), 0) as text_rank
    from clauses cross join items
    cross join lateral (
        select btrim(regexp_replace(regexp_replace(lower(items.display_name),
            '\m[0-9][0-9a-z/.]*(\s+(btu|kw|lbs?|gal|ft|in|amps?|v))?\M', ' ', 'g'),
            '\s+', ' ', 'g')) as name
    ) as core
    where lower(items.display_name) <<% clauses.expanded
       or pricebook.search_document(items.display_name, items.description) @@ clauses.query
)
select distinct on (ord, lower(display_name)) *
from scored
where name_match >= :floor
order by ord, lower(display_name), id
"""


def search(
    conn: sa.Connection, tenant_id: int, said: list[str], expanded: list[str], floor: float = 0.3
) -> list[list[Candidate]]:
    """Candidates per clause (same order as `said`), best name match first, then full-text
    rank, then the longer (more specific) name."""
    found: list[list[Candidate]] = [[] for _ in said]
    if not said:
        return found
    rows = conn.execute(
        sa.text(_SEARCH),
        {"t": tenant_id, "said": said, "expanded": expanded, "floor": floor},
    )
    for row in rows:
        found[row.ord - 1].append(
            Candidate(
                item_from_row(row, row.kind), round(float(row.name_match), 2), float(row.text_rank)
            )
        )
    for candidates in found:
        candidates.sort(key=lambda c: (-c.name_match, -c.text_rank, -len(c.item.name), c.item.id))
    return found


def install_labor(conn: sa.Connection, tenant_id: int, item: Item) -> Item | None:
    """The service that installs `item` (equipment, or a part put in): one the pricebook links
    to it, else the labor a rule names for its name (the tenant's rules before the trade's)."""
    row = conn.execute(
        sa.text(
            f"""with items as ({_ITEMS})
            select items.* from items
            where items.kind = 'service' and items.id in (
                select s.id from pricebook.services s
                where s.tenant_id = :t and s.deleted_at is null
                  and (s.raw -> 'serviceEquipment' @> jsonb_build_array(
                          jsonb_build_object('skuId', cast(:item as bigint)))
                       or s.raw -> 'serviceMaterials' @> jsonb_build_array(
                          jsonb_build_object('skuId', cast(:item as bigint))))
            )
            union all
            select * from (
                select items.* from pricebook.install_labor_rules rule
                join items on items.kind = 'service'
                    and lower(items.display_name) = lower(rule.labor_name)
                where (rule.tenant_id is null or rule.tenant_id = :t)
                  and lower(:name) like lower(rule.item_pattern)
                order by rule.tenant_id nulls last, length(rule.item_pattern) desc, items.id
            ) by_rule
            limit 1"""
        ),
        {"t": tenant_id, "item": item.id, "name": item.name},
    ).first()
    return None if row is None else item_from_row(row, row.kind)


def kind_allowed(kind: Kind, intent: str) -> bool:
    """Equipment is priced only when something is installed or replaced, parts only when some
    work is asked; a named service always."""
    if kind == "equipment":
        return intent == "install"
    if kind == "material":
        return intent in ("install", "work")
    return True
