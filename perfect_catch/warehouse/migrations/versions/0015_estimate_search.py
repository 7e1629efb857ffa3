"""Estimate search over the pricebook, and marketing spend for the attribution mart.

`generate_estimate` without Claude reads a job description the way a technician does: every
piece of work, matched to the pricebook by PostgreSQL full-text search and trigram similarity
(`pg_trgm`) over item names and descriptions, and by the words of the trade a shop uses for
them. Those words live in `pricebook.trade_synonyms` ("salt cell" means a salt chlorine
generator, "EV charger" electric vehicle supply equipment), seeded with the pool and electrical
trade's and extended by the shop (rows with its tenant id). `pricebook.install_labor_rules`
pairs equipment (and parts put in, such as a GFCI outlet) with the labor that installs it when
the pricebook does not link them itself.

`pricebook.search_document(name, description)` is the one definition of what full-text search
reads; the GIN indexes are built on it, so a query that calls it uses them.

`automation.tool_writes` remembers what a write tool did under an idempotency key, so a tool
called twice with the same request (a retried MCP call) writes to ServiceTitan once.

`integrations.marketing_spend` holds what the shop spends per lead source and month, so
`marts.marketing_attribution` can show a cost per sold job where a cost is known.

Revision ID: 0015_estimate_search
Revises: 0014_recipient_timezone
"""

from __future__ import annotations

from alembic import op

revision = "0015_estimate_search"
down_revision = "0014_recipient_timezone"
branch_labels = None
depends_on = None

PRICEBOOK_TABLES = ("materials", "equipment", "services")

#: (phrase a customer or technician says, the pricebook words it means), for every tenant.
TRADE_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("salt cell", "salt chlorine generator"),
    ("salt system", "salt chlorine generator"),
    ("salt generator", "salt chlorine generator"),
    ("salt water system", "salt chlorine generator"),
    ("chlorinator", "salt chlorine generator"),
    ("swg", "salt chlorine generator"),
    ("vs pump", "variable speed pump"),
    ("variable speed", "variable speed pump"),
    ("pool pump", "variable speed pump"),
    ("pump motor", "variable speed pump"),
    ("new pump", "variable speed pump"),
    ("pump seal", "pool pump seal kit"),
    ("shaft seal", "pool pump seal kit"),
    ("seal kit", "pool pump seal kit"),
    ("heater", "pool heater"),
    ("gas heater", "pool heater"),
    ("heat pump", "heat pump"),
    ("pool light", "led pool light"),
    ("spa light", "led pool light"),
    ("light bulb", "led pool light bulb"),
    ("bulb", "led pool light bulb"),
    ("automation", "automation system"),
    ("pool controller", "automation system"),
    ("iaqualink", "automation system"),
    ("filter cartridge", "cartridge filter element"),
    ("cartridges", "cartridge filter element"),
    ("cartridge element", "cartridge filter element"),
    ("new filter", "cartridge filter"),
    ("filter clean", "filter clean"),
    ("clean the filter", "filter clean"),
    ("clean filter", "filter clean"),
    ("filter cleaning", "filter clean"),
    ("green pool", "green-to-clean"),
    ("green to clean", "green-to-clean"),
    ("algae", "green-to-clean"),
    ("swamp", "green-to-clean"),
    ("acid wash", "acid wash"),
    ("drain and clean", "acid wash"),
    ("weekly service", "weekly pool service"),
    ("weekly cleaning", "weekly pool service"),
    ("weekly maintenance", "weekly pool service"),
    ("diagnose", "diagnostic visit"),
    ("diagnostic", "diagnostic visit"),
    ("troubleshoot", "diagnostic visit"),
    ("service call", "diagnostic visit"),
    ("shock", "pool shock"),
    ("chlorine tabs", "chlorine tablets"),
    ("tabs", "chlorine tablets"),
    ("muriatic", "muriatic acid"),
    ("de powder", "de filter powder"),
    ("diatomaceous", "de filter powder"),
    ("skimmer basket", "skimmer basket"),
    ("o-rings", "o-ring kit"),
    ("o-ring", "o-ring kit"),
    ("gauge", "pressure gauge"),
    ("teflon", "teflon tape"),
    ("ev charger", "level 2 ev charger"),
    ("car charger", "level 2 ev charger"),
    ("tesla charger", "level 2 ev charger"),
    ("wall connector", "level 2 ev charger"),
    ("electric vehicle supply equipment", "level 2 ev charger"),
    ("evse", "level 2 ev charger"),
    ("panel upgrade", "panel upgrade 200a"),
    ("service upgrade", "panel upgrade 200a"),
    ("main panel", "200a main panel"),
    ("electrical panel", "200a main panel"),
    ("breaker box", "200a main panel"),
    ("breaker panel", "200a main panel"),
    ("standby generator", "standby generator"),
    ("whole house generator", "standby generator"),
    ("whole-home generator", "standby generator"),
    ("backup generator", "standby generator"),
    ("generac", "standby generator"),
    ("gfci", "gfci outlet"),
    ("gfi", "gfci outlet"),
    ("breaker", "20a breaker"),
    ("romex", "12/2 romex"),
    ("conduit", "pvc conduit"),
    ("wire nuts", "wire nuts assorted"),
    ("light fixture", "light fixture install"),
    ("ceiling fan", "light fixture install"),
    ("fixture", "light fixture install"),
    ("outlet", "outlet / switch install"),
    ("receptacle", "outlet / switch install"),
    ("switch", "outlet / switch install"),
    ("dimmer", "outlet / switch install"),
)

#: (equipment or part name pattern, LIKE on the lower-cased name; the service that installs
#: it), for every tenant.
INSTALL_LABOR: tuple[tuple[str, str], ...] = (
    ("%pump", "Pump Replacement Labor"),
    ("%heater%", "Heater Install Labor"),
    ("%heat pump%", "Heater Install Labor"),
    ("%ev charger%", "EV Charger Install Labor"),
    ("%standby generator%", "Generator Install Labor"),
    ("%main panel%", "Panel Upgrade 200A"),
    ("%pool light", "Light Fixture Install"),
    ("%gfci outlet%", "Outlet / Switch Install"),
)


def _quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def upgrade() -> None:
    op.execute("create extension if not exists pg_trgm with schema public")
    op.execute(
        """
        create function pricebook.search_document(name text, description text) returns tsvector
        language sql immutable parallel safe as $$
            select setweight(to_tsvector('english', coalesce(name, '')), 'A')
                || setweight(to_tsvector('english', coalesce(description, '')), 'B')
        $$
        """
    )
    for table in PRICEBOOK_TABLES:
        op.execute(
            f"create index {table}_search_idx on pricebook.{table}"
            " using gin (pricebook.search_document(display_name, description))"
        )
        op.execute(
            f"create index {table}_name_trgm_idx on pricebook.{table}"
            " using gin (lower(display_name) public.gin_trgm_ops)"
        )
    op.execute(
        """
        create table pricebook.trade_synonyms (
            id bigserial primary key,
            tenant_id bigint,
            phrase text not null check (phrase = lower(btrim(phrase)) and phrase <> ''),
            means text not null check (btrim(means) <> ''),
            created_at timestamptz not null default now()
        )
        """
    )
    op.execute(
        "create unique index trade_synonyms_phrase_idx"
        " on pricebook.trade_synonyms (coalesce(tenant_id, 0), phrase)"
    )
    op.execute(
        """
        create table pricebook.install_labor_rules (
            id bigserial primary key,
            tenant_id bigint,
            item_pattern text not null,
            labor_name text not null,
            created_at timestamptz not null default now()
        )
        """
    )
    op.execute(
        "create unique index install_labor_rules_pattern_idx"
        " on pricebook.install_labor_rules (coalesce(tenant_id, 0), item_pattern)"
    )
    synonyms = ", ".join(f"({_quote(p)}, {_quote(m)})" for p, m in TRADE_SYNONYMS)
    op.execute(f"insert into pricebook.trade_synonyms (phrase, means) values {synonyms}")
    rules = ", ".join(f"({_quote(p)}, {_quote(n)})" for p, n in INSTALL_LABOR)
    op.execute(
        f"insert into pricebook.install_labor_rules (item_pattern, labor_name) values {rules}"
    )
    op.execute(
        """
        create table integrations.marketing_spend (
            source_system text not null check (
                source_system in ('callrail', 'gohighlevel', 'servicetitan')),
            lead_source text not null,
            month date not null check (month = date_trunc('month', month)),
            amount numeric(14, 2) not null check (amount >= 0),
            note text,
            updated_at timestamptz not null default now(),
            primary key (source_system, lead_source, month)
        )
        """
    )

    op.execute(
        """
        create table automation.tool_writes (
            idempotency_key text primary key,
            tool text not null,
            tenant_id bigint not null,
            request_hash text not null,
            result jsonb not null,
            created_at timestamptz not null default now()
        )
        """
    )


def downgrade() -> None:
    op.execute("drop table if exists automation.tool_writes")
    op.execute("drop table if exists integrations.marketing_spend")
    op.execute("drop table if exists pricebook.install_labor_rules")
    op.execute("drop table if exists pricebook.trade_synonyms")
    for table in PRICEBOOK_TABLES:
        op.execute(f"drop index if exists pricebook.{table}_name_trgm_idx")
        op.execute(f"drop index if exists pricebook.{table}_search_idx")
    op.execute("drop function if exists pricebook.search_document(text, text)")
