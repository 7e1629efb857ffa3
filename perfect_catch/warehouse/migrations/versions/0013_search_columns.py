"""Search columns and indexes: a customer found by phone, email, name or address at any size.

`lookup_customer` used to compute every contact's E.164, every lower-cased email and every
address line per query, over every row of the tenant: seconds at a million customers. What a
lookup compares is now stored when a row is written (generated columns: the loader's COPY and
upsert fill them without knowing, and adding them fills the rows already there) and indexed:

- `st_customer_contacts.phone_e164`: the E.164 form of a phone, fax or mobile contact, by the
  one phone rule (`integrations.e164`, read as dbt's `stg_servicetitan__customer_contacts` reads
  it, which now takes the column); b-tree on (tenant, phone_e164), and on (tenant, its last
  seven digits) for the partial numbers people type ("555-2894");
- `st_customer_contacts.email_lower`: an email contact's address, trimmed and lower-cased;
  b-tree on (tenant, email_lower);
- `address_search` on customers and locations: street, city, state and zip as one line in
  `servicetitan.search_text` form (lower case, every run of other characters one space);
  `pg_trgm` GIN indexes on it and on the customer's name, for partial and misspelled input
  (`fuzzystrmatch`'s `levenshtein` ranks the misspelled matches); a b-tree on the lower-cased
  name finds the customer named exactly, whom every other match follows.

A tenant's initial load into a nearly empty table builds the contacts' search indexes and the
trigram indexes after it rather than row by row (`warehouse.loading.search_indexes`, which
holds the same definitions).

`integrations.e164` gains a shortcut for the forms offices type most ("(480) 555-2894",
"480.555.2894 ext 12", "+1 480 555 2894"): the general reading costs 60-100 µs a number, which
the contacts load would pay per row; the shortcut answers those forms in about 5 µs with the same
result (the phone rule's table of cases runs against it), and leaves everything else to the
general reading.

A misspelled name ("Jon Smtih") is corrected word by word against
`st_customer_name_words`, the distinct words of the tenant's customer names (tens of thousands
even at a million customers), kept by statement-level triggers on `st_customers` (one insert
per loaded page, whatever its size; words are never removed: a word no name holds any more
only finds nobody). Trigram similarity of a whole misspelled name over the name index matched
a fifth of a million-customer tenant; the corrected names are then read through the b-tree on
the lower-cased name.

Tables that grow with the tenant and that the conversational tools read by something other than
the customer get an index for that read: estimates by status and age (open estimates to follow
up), live jobs by status, customer and completion (customers whose last service lapsed, read
from the index alone), jobs by creation (`search_jobs`, newest first).

Revision ID: 0013_search_columns
Revises: 0012_suppliers
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

from alembic import op

revision = "0013_search_columns"
down_revision = "0012_suppliers"
branch_labels = None
depends_on = None


def _phone_rule() -> ModuleType:
    """Migration 0008, which holds the phone rule's function (its file name is no module name)."""
    path = Path(__file__).with_name("0008_phone_rule.py")
    spec = importlib.util.spec_from_file_location("phone_rule_0008", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: Where the shortcut goes: right after 0008's own shortcut for plain digits and E.164.
_AFTER = "        return '+1' || right(value, 10);\n    end if;\n"


def _e164_with_shortcut(rule: ModuleType) -> str:
    """0008's `integrations.e164`, with the shortcut for punctuated North American numbers.

    Only digits, "+", "-", "(", ")", "." and spaces, ending in a digit, perhaps followed by a
    short extension ("ext 12", "ext. 12", "x12"): without the extension and the punctuation, it
    is ten North American digits after an optional "+1" or "1", which every reading of the rule
    gives as "+1" and the ten digits. Anything else goes on to the general reading."""
    shortcut = (
        _AFTER
        + rf"""    -- Punctuated North American numbers, perhaps with a short extension: the forms
    -- offices type most, read at once (the general reading below gives the same answer).
    if value ~* '^[-(). +0-9]*[0-9](?: *(?:ext\.?|x) *[0-9]{{1,9}})?$' then
        number := translate(
            regexp_replace(value, ' *(?:ext\.?|x) *[0-9]+$', '', 'i'), '-(). ', ''
        );
        if number ~ '^(?:\+?1)?{rule._NANP}$' then
            return '+1' || right(number, 10);
        end if;
    end if;
"""
    )
    assert rule.E164.count(_AFTER) == 1, "migration 0008's e164 changed shape"
    return rule.E164.replace(_AFTER, shortcut)


SEARCH_TEXT = r"""
create or replace function servicetitan.search_text(value text) returns text
language sql immutable parallel safe as $$
    select nullif(btrim(regexp_replace(lower(value), '[^[:alnum:]]+', ' ', 'g')), '')
$$
"""

#: concat_ws is only stable (it takes any type); over text it never changes, and a generated
#: column needs an immutable expression.
ADDRESS_SEARCH = """
create or replace function servicetitan.address_search(
    street text, city text, state text, zip text
) returns text
language sql immutable parallel safe as $$
    select servicetitan.search_text(concat_ws(' ', street, city, state, zip))
$$
"""

CONTACT_COLUMNS = """
alter table servicetitan.st_customer_contacts
    add column phone_e164 text generated always as (
        case when type in ('Phone', 'MobilePhone', 'Fax')
            then integrations.e164(coalesce(raw -> 'phoneSettings' ->> 'phoneNumber', value))
        end
    ) stored,
    add column email_lower text generated always as (
        case when type = 'Email' and strpos(value, '@') > 0 then lower(btrim(value)) end
    ) stored
"""

ADDRESS_COLUMN = """
alter table servicetitan.{table}
    add column address_search text generated always as (
        servicetitan.address_search(street, city, state, zip)
    ) stored
"""

NAME_WORDS = """
create table servicetitan.st_customer_name_words (
    tenant_id bigint not null,
    word text not null,
    primary key (tenant_id, word)
);
create index st_customer_name_words_length_idx
    on servicetitan.st_customer_name_words (tenant_id, length(word))
"""

#: The words of a name as `lookup_customer` reads them: `search_text`'s, two characters or more.
NAME_WORDS_FUNCTION = """
create or replace function servicetitan.add_customer_name_words() returns trigger
language plpgsql as $$
begin
    insert into servicetitan.st_customer_name_words (tenant_id, word)
    select distinct n.tenant_id, w.word
    from written n
    cross join lateral regexp_split_to_table(servicetitan.search_text(n.name), ' ') as w(word)
    where length(w.word) >= 2
    on conflict do nothing;
    return null;
end
$$
"""

NAME_WORDS_TRIGGER = """
create trigger st_customers_name_words_{event} after {event} on servicetitan.st_customers
    referencing new table as written for each statement
    execute function servicetitan.add_customer_name_words()
"""

NAME_WORDS_BACKFILL = """
insert into servicetitan.st_customer_name_words (tenant_id, word)
select distinct c.tenant_id, w.word
from servicetitan.st_customers c
cross join lateral regexp_split_to_table(servicetitan.search_text(c.name), ' ') as w(word)
where length(w.word) >= 2
on conflict do nothing
"""

INDEXES = {
    # Partial: a contact is a phone or an email, so each row is written to one kind's indexes.
    "st_customer_contacts_phone_e164_idx": (
        "servicetitan.st_customer_contacts (tenant_id, phone_e164) where phone_e164 is not null"
    ),
    "st_customer_contacts_phone_last7_idx": (
        "servicetitan.st_customer_contacts (tenant_id, right(phone_e164, 7)) "
        "where phone_e164 is not null"
    ),
    "st_customer_contacts_email_lower_idx": (
        "servicetitan.st_customer_contacts (tenant_id, email_lower) where email_lower is not null"
    ),
    "st_customers_name_lower_idx": "servicetitan.st_customers (tenant_id, lower(name))",
    "st_customers_name_trgm_idx": "servicetitan.st_customers using gin (name gin_trgm_ops)",
    "st_customers_address_trgm_idx": (
        "servicetitan.st_customers using gin (address_search gin_trgm_ops)"
    ),
    "st_locations_address_trgm_idx": (
        "servicetitan.st_locations using gin (address_search gin_trgm_ops)"
    ),
    "st_estimates_status_created_idx": (
        "servicetitan.st_estimates (tenant_id, status, created_on)"
    ),
    "st_jobs_status_customer_completed_idx": (
        "servicetitan.st_jobs (tenant_id, job_status, customer_id, completed_on) "
        "where deleted_at is null"
    ),
    "st_jobs_created_on_idx": "servicetitan.st_jobs (tenant_id, created_on)",
}


def upgrade() -> None:
    # Both ship with PostgreSQL (contrib); the pricebook matching creates pg_trgm too.
    op.execute("create extension if not exists pg_trgm")
    op.execute("create extension if not exists fuzzystrmatch")
    # Sent as it is: through `op.execute` SQLAlchemy would read the regular expressions'
    # "(?:" groups as bind parameters.
    bind = op.get_bind()
    bind.exec_driver_sql(_e164_with_shortcut(_phone_rule()))
    bind.exec_driver_sql(SEARCH_TEXT)
    bind.exec_driver_sql(ADDRESS_SEARCH)
    bind.exec_driver_sql(CONTACT_COLUMNS)
    for table in ("st_customers", "st_locations"):
        bind.exec_driver_sql(ADDRESS_COLUMN.format(table=table))
    for name, target in INDEXES.items():
        bind.exec_driver_sql(f"create index {name} on {target}")
    bind.exec_driver_sql(NAME_WORDS)
    bind.exec_driver_sql(NAME_WORDS_FUNCTION)
    for event in ("insert", "update"):
        bind.exec_driver_sql(NAME_WORDS_TRIGGER.format(event=event))
    bind.exec_driver_sql(NAME_WORDS_BACKFILL)
    bind.exec_driver_sql("analyze servicetitan.st_customer_name_words")
    for table in ("st_customer_contacts", "st_customers", "st_locations", "st_jobs"):
        bind.exec_driver_sql(f"analyze servicetitan.{table}")


def downgrade() -> None:
    bind = op.get_bind()
    for event in ("insert", "update"):
        bind.exec_driver_sql(
            f"drop trigger if exists st_customers_name_words_{event} on servicetitan.st_customers"
        )
    bind.exec_driver_sql("drop function if exists servicetitan.add_customer_name_words()")
    bind.exec_driver_sql("drop table if exists servicetitan.st_customer_name_words")
    for name in INDEXES:
        bind.exec_driver_sql(f"drop index if exists servicetitan.{name}")
    bind.exec_driver_sql(
        "alter table servicetitan.st_customer_contacts "
        "drop column if exists phone_e164, drop column if exists email_lower"
    )
    for table in ("st_customers", "st_locations"):
        bind.exec_driver_sql(
            f"alter table servicetitan.{table} drop column if exists address_search"
        )
    bind.exec_driver_sql(
        "drop function if exists servicetitan.address_search(text, text, text, text)"
    )
    bind.exec_driver_sql("drop function if exists servicetitan.search_text(text)")
    bind.exec_driver_sql(_phone_rule().E164)
