"""Finding things in the warehouse the way people name them: a customer by phone in any
format, a job type or technician by name. Writes resolve their references here first, so a
typo becomes a clear "did you mean" error before anything reaches ServiceTitan.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from perfect_catch.phones import to_e164
from perfect_catch.tools.errors import NotFoundError, ToolInputError

_NON_DIGITS = re.compile(r"\D")


def normalize_phone(phone: str) -> str:
    """What a contact's E.164 must end with to match `phone`: the whole E.164 of a number in any
    format ('+1 (480) 555-2894' -> +14805552894), or the digits of a partial one ('555-2894').

    Contacts are compared by their E.164 (`integrations.e164`, the rule of `perfect_catch.phones`),
    so a number typed in any format finds the contact stored in any other."""
    number = to_e164(phone)
    if number is not None:
        return number
    digits = _NON_DIGITS.sub("", phone)
    if len(digits) < 7:
        raise ToolInputError(f"{phone!r} is not a phone number (need at least 7 digits)")
    return digits


def rows(conn: sa.Connection, sql: str, **params: Any) -> list[dict[str, Any]]:
    """Run bound SQL and return plain dicts."""
    return [dict(row._mapping) for row in conn.execute(sa.text(sql), params)]


_CUSTOMER_COLUMNS = """
    c.id, c.name, c.type, c.active, c.balance, c.do_not_service,
    concat_ws(', ', c.street, c.city, c.state, c.zip) as address, c.merged_to_id
"""

#: Corrections of one misspelled word kept (the fewest edits first), and the edits allowed: one
#: in a word of up to three letters ("Jon" -> John), two in a longer one (two swapped letters:
#: "Pual" -> Paul, "Smtih" -> Smith).
CORRECTIONS = 5

#: Names made of the words' corrections looked up by the name's index at most (about).
_COMBINATIONS = 125
_SHORT_WORD = 3

#: Customers matching a broad search ("smith", "Camelback") ranked at most: thousands share a
#: street or a surname at a large tenant, all holding every word asked for, and ranking them
#: all costs seconds. Exact names are looked for first, so this only bounds the runners-up.
CANDIDATES = 500

#: `levenshtein` (fuzzystrmatch) takes texts up to this length; a longer name is not typed.
_MAX_FUZZY_NAME = 255

#: Digits of a partial phone number the index of contacts' last seven digits narrows by.
_PHONE_INDEXED_DIGITS = 7

#: pg_trgm indexes words of three characters or more; a shorter one ("N", "Rd") is checked on
#: the rows the longer ones found instead of scanning the whole index.
_TRIGRAM = 3


def find_customers(
    conn: sa.Connection,
    tenant_id: int,
    *,
    customer_id: int | None = None,
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
    address: str | None = None,
    limit: int = 10,
    fuzzy: bool = False,
) -> list[dict[str, Any]]:
    """Customers matching every given criterion (live rows, merged ones followed to their
    survivor), best matches first: a name equal to the one asked for, then the most alike.

    Each criterion reads a search column through its index (migration 0013): a phone by its
    E.164 or its last digits, an email lower-cased, a name or address by pg_trgm. A name matches
    when it is the name asked for (any case), then when it holds every word given; with `fuzzy`,
    when none does, each word is corrected against the dictionary of the tenant's name words
    ("Jon Smtih" -> John Smith) and the names holding the corrections found, the fewest edits
    from the name typed first. Writes resolve customers without `fuzzy`: a guess is for a
    person to confirm."""
    query = _CustomerQuery(tenant_id, limit)
    if customer_id is not None:
        query.where("c.id = :customer_id", customer_id=customer_id)
    if phone:
        query.phone(phone)
    if email:
        query.where(
            f"c.id in (select e.customer_id from {_CONTACTS} e"
            " where e.tenant_id = :tenant and e.email_lower = lower(btrim(:email))"
            " and e.deleted_at is null)",
            email=email,
        )
    if address:
        query.address(conn, address, alone=not (customer_id or phone or email or name))
    if not name:
        return query.run(conn)
    found = query.with_name_exact(name).run(conn)
    if len(found) < limit:
        seen = {customer["id"] for customer in found}
        found += [c for c in query.with_name_words(name).run(conn) if c["id"] not in seen]
    if found or not fuzzy or len(name) > _MAX_FUZZY_NAME:
        return found[:limit]
    corrections = corrected_words(conn, tenant_id, name)
    if not corrections:
        return []
    found = query.with_names_in(name, corrections).run(conn)
    if len(found) < limit:
        seen = {customer["id"] for customer in found}
        alike = query.with_corrected_words(name, corrections).run(conn)
        found += [c for c in alike if c["id"] not in seen]
    return found[:limit]


def _swapped(word: str) -> list[str]:
    """`word` with two neighbouring letters swapped, each way: the commonest typing slip, which
    `levenshtein` counts as two edits, as many as words that merely share half the letters."""
    return [word[:n] + word[n + 1] + word[n] + word[n + 2 :] for n in range(len(word) - 1)]


def corrected_words(conn: sa.Connection, tenant_id: int, name: str) -> list[list[str]]:
    """Each word of `name` (as `servicetitan.search_text` reads it) with the words of the
    tenant's customer names it may be a misspelling of: itself if a name holds it, then it with
    two letters swapped ("Smtih" -> Smith), then the fewest edits away; [] if some word is like
    no name's word.

    The dictionary (`st_customer_name_words`, migration 0013) is small even at a million
    customers, so every word of a similar length (an index on the words' length) is compared by
    `levenshtein_less_equal` (fuzzystrmatch), which stops counting past the edits allowed."""
    text = conn.execute(sa.text("select servicetitan.search_text(:name)"), {"name": name}).scalar()
    words = (text or "").split()
    corrections: list[list[str]] = []
    for word in words:
        if len(word) < 2:
            corrections.append([word])
            continue
        edits = 1 if len(word) <= _SHORT_WORD else 2
        found = conn.execute(
            sa.text(
                """select word from servicetitan.st_customer_name_words
                   where tenant_id = :tenant
                     and length(word) between :shortest and :longest
                     and levenshtein_less_equal(word, :word, :edits) <= :edits
                   order by word = :word desc, word = any(:swapped) desc, levenshtein(word, :word),
                            similarity(word, :word) desc, word
                   limit :corrections"""
            ),
            {
                "tenant": tenant_id,
                "word": word,
                "swapped": _swapped(word),
                "edits": edits,
                "shortest": len(word) - edits,
                "longest": len(word) + edits,
                "corrections": CORRECTIONS,
            },
        ).scalars()
        corrected = list(found)
        if not corrected:
            return []
        corrections.append(corrected)
    return corrections


_CONTACTS = "servicetitan.st_customer_contacts"


def _contains(column: str, key: str, word: str) -> str:
    """`column` holds `word` (bound as `key`, a LIKE pattern `%word%`), as an index condition
    when pg_trgm can index the word, else as a check on the rows found."""
    if len(word) >= _TRIGRAM:
        return f"{column} ilike :{key}"
    return f"strpos(lower({column}), lower(:{key}_text)) > 0"


#: How far a customer's name is from a misspelled one typed.
_EDITS = f"levenshtein(lower(left(c.name, {_MAX_FUZZY_NAME})), lower(:name))"


class _CustomerQuery:
    """The clauses of one customer search, each written so an index serves it."""

    def __init__(self, tenant_id: int, limit: int) -> None:
        self.clauses = ["c.tenant_id = :tenant", "c.deleted_at is null"]
        self.ranks: list[str] = []
        self.params: dict[str, Any] = {"tenant": tenant_id, "limit": limit}
        self.candidates: int | None = CANDIDATES

    def where(self, clause: str, **params: Any) -> None:
        self.clauses.append(clause)
        self.params.update(params)

    def phone(self, phone: str) -> None:
        """A whole number by its E.164; a partial one by its last seven digits, then all."""
        number = normalize_phone(phone)
        if number.startswith("+"):
            self.where(
                f"c.id in (select p.customer_id from {_CONTACTS} p"
                " where p.tenant_id = :tenant and p.phone_e164 = :phone"
                " and p.deleted_at is null)",
                phone=number,
            )
            return
        self.where(
            f"c.id in (select p.customer_id from {_CONTACTS} p"
            " where p.tenant_id = :tenant and right(p.phone_e164, 7) = :phone_last"
            " and p.phone_e164 like :phone_end and p.deleted_at is null)",
            phone_last=number[-_PHONE_INDEXED_DIGITS:],
            phone_end=f"%{number}",
        )

    def address(self, conn: sa.Connection, address: str, *, alone: bool) -> None:
        """Every word of `address` in the customer's address line or one of its locations'.

        `alone` (no other criterion): the customers are found through the address indexes, at
        most `CANDIDATES` from each table. Otherwise the other criteria find them and the
        address is checked on each: a broad address ("Camelback") matches tens of thousands."""
        text = conn.execute(
            sa.text("select servicetitan.search_text(:address)"), {"address": address}
        ).scalar()
        words = (text or "").split()
        if not words:
            raise ToolInputError(f"address {address!r} has no letters or digits to look for")
        params: dict[str, Any] = {"address_text": text}
        matches = []
        for n, word in enumerate(words):
            params[f"addr{n}"], params[f"addr{n}_text"] = f"%{word}%", word
            matches.append(_contains("{alias}.address_search", f"addr{n}", word))
        match = " and ".join(matches)
        if alone:
            clause = f"""c.id in (
                (select a.id from servicetitan.st_customers a
                 where a.tenant_id = :tenant and {match.format(alias="a")} limit {CANDIDATES})
                union all
                (select l.customer_id from servicetitan.st_locations l
                 where l.tenant_id = :tenant and l.deleted_at is null
                   and {match.format(alias="l")} limit {CANDIDATES}))"""
        else:
            # "offset 0" keeps the check per customer found: without it PostgreSQL may hash
            # every location matching the address first, tens of thousands for a street.
            clause = f"""({match.format(alias="c")}
                or exists (select 1 from servicetitan.st_locations l
                           where l.tenant_id = c.tenant_id and l.customer_id = c.id
                             and l.deleted_at is null and {match.format(alias="l")}
                           offset 0))"""
        self.where(clause, **params)
        self.ranks.append("similarity(c.address_search, :address_text) desc")

    def with_name_exact(self, name: str) -> _CustomerQuery:
        """This search, for customers named `name` (any case)."""
        return self._with_name(name, ["lower(c.name) = lower(:name)"], {})

    def with_name_words(self, name: str) -> _CustomerQuery:
        """This search, for names holding every word of `name`, the most alike first."""
        params: dict[str, Any] = {}
        clauses = []
        for n, word in enumerate(name.split()):
            params[f"name{n}"], params[f"name{n}_text"] = f"%{like_pattern(word)}%", word
            clauses.append(_contains("c.name", f"name{n}", word))
        return self._with_name(name, clauses, params)

    def with_names_in(self, name: str, corrections: list[list[str]]) -> _CustomerQuery:
        """This search, for customers named (any case) by a combination of the corrections of
        `name`'s words, read through the b-tree on the lower-cased name, the likeliest
        combination first, then the fewest edits from `name`."""
        # At most about `_COMBINATIONS` names, whatever the number of words typed.
        kept = max(1, round(_COMBINATIONS ** (1 / max(len(corrections), 1))))
        # The likeliest first: the fewest places down each word's corrections in all.
        combinations = sorted(
            itertools.product(*(list(enumerate(words[:kept])) for words in corrections)),
            key=lambda combination: sum(place for place, _ in combination),
        )
        names = [" ".join(word for _, word in combination) for combination in combinations]
        return self._with_name(
            name,
            ["lower(c.name) = any(:corrected)"],
            {"corrected": names},
            "array_position(cast(:corrected as text[]), lower(c.name))",
            _EDITS,
        )

    def with_corrected_words(self, name: str, corrections: list[list[str]]) -> _CustomerQuery:
        """This search, for names holding a correction of every word of `name` ("Smith, John"
        for "Jon Smtih"), the fewest edits from `name` first."""
        params: dict[str, Any] = {}
        clauses = []
        for n, words in enumerate(corrections):
            alternatives = []
            for m, word in enumerate(words):
                key = f"fix{n}_{m}"
                params[key], params[f"{key}_text"] = f"%{like_pattern(word)}%", word
                alternatives.append(_contains("c.name", key, word))
            clauses.append(f"({' or '.join(alternatives)})")
        return self._with_name(name, clauses, params, _EDITS)

    def _with_name(
        self, name: str, clauses: list[str], params: dict[str, Any], *first: str
    ) -> _CustomerQuery:
        query = _CustomerQuery.__new__(_CustomerQuery)
        query.clauses = [*self.clauses, *clauses]
        query.ranks = [*first, "similarity(c.name, :name) desc", *self.ranks]
        query.params = {**self.params, **params, "name": name.strip()}
        query.candidates = self.candidates
        return query

    def sql(self) -> str:
        """The best `limit` of the customers matching every clause (of the first
        `self.candidates` found, when set)."""
        ranks = ", ".join(
            [*self.ranks, "c.active desc", "c.merged_to_id is not null", "c.modified_on desc"]
        )
        cap = "" if self.candidates is None else f" limit {self.candidates}"
        return (
            f"select {_CUSTOMER_COLUMNS} from ("
            f"select c.* from servicetitan.st_customers c where {' and '.join(self.clauses)}"
            f"{cap}) c order by {ranks}, c.id limit :limit"
        )

    def run(self, conn: sa.Connection) -> list[dict[str, Any]]:
        return rows(conn, self.sql(), **self.params)


def like_pattern(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contacts_of(conn: sa.Connection, tenant_id: int, customer_id: int) -> list[dict[str, Any]]:
    return rows(
        conn,
        """select type, value, memo from servicetitan.st_customer_contacts
           where tenant_id = :tenant and customer_id = :customer and deleted_at is null
             and coalesce(active, true) order by id""",
        tenant=tenant_id,
        customer=customer_id,
    )


def resolve_customer(
    conn: sa.Connection,
    tenant_id: int,
    *,
    customer_id: int | None = None,
    name: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    """Exactly one live customer, or an error that lists the candidates to choose from."""
    if not any((customer_id, name, phone, email)):
        raise ToolInputError("identify the customer: give customer_id, name, phone or email")
    found = find_customers(
        conn, tenant_id, customer_id=customer_id, name=name, phone=phone, email=email, limit=6
    )
    described = " and ".join(
        f"{label} {value!r}"
        for label, value in (
            ("id", customer_id),
            ("name", name),
            ("phone", phone),
            ("email", email),
        )
        if value
    )
    if not found:
        raise NotFoundError(
            f"no customer matches {described}; check it with lookup_customer, or create the "
            "customer in ServiceTitan first"
        )
    customer = found[0]
    if len(found) > 1 and customer_id is None:
        options = "; ".join(f"{c['id']} {c['name']} ({c['address']})" for c in found[:5])
        raise ToolInputError(
            f"{len(found)} customers match {described}: {options}. Pass customer_id."
        )
    if customer["merged_to_id"]:
        raise ToolInputError(
            f"customer {customer['id']} was merged into {customer['merged_to_id']}; use that id"
        )
    if customer["active"] is False:
        raise ToolInputError(f"customer {customer['id']} ({customer['name']}) is inactive")
    return customer


@dataclass(frozen=True)
class Reference:
    """A small lookup table that people refer to by name (job types, campaigns...)."""

    table: str
    label: str


JOB_TYPES = Reference("servicetitan.st_job_types", "job type")
BUSINESS_UNITS = Reference("servicetitan.st_business_units", "business unit")
CAMPAIGNS = Reference("servicetitan.st_campaigns", "campaign")
TECHNICIANS = Reference("servicetitan.st_technicians", "technician")


def resolve(
    conn: sa.Connection, tenant_id: int, ref: Reference, value: int | str
) -> dict[str, Any]:
    """The active row of `ref` whose id is `value` or whose name matches it (exactly, else as a
    unique substring); otherwise an error listing what exists."""
    base = (
        f"select id, name, raw from {ref.table} "
        "where tenant_id = :tenant and deleted_at is null and coalesce(active, true)"
    )
    text = str(value).strip()
    if text.isdigit():
        found = rows(conn, base + " and id = :id", tenant=tenant_id, id=int(text))
    else:
        found = rows(conn, base + " and lower(name) = lower(:name)", tenant=tenant_id, name=text)
        if not found:
            found = rows(
                conn,
                base + " and name ilike :pattern",
                tenant=tenant_id,
                pattern=f"%{like_pattern(text)}%",
            )
    if len(found) == 1:
        return found[0]
    if not found:
        known = rows(conn, base + " order by name limit 40", tenant=tenant_id)
        listing = ", ".join(f"{r['name']} ({r['id']})" for r in known)
        raise NotFoundError(f"unknown {ref.label} {value!r}; known: {listing}")
    listing = ", ".join(f"{r['name']} ({r['id']})" for r in found[:10])
    raise ToolInputError(f"{ref.label} {value!r} is ambiguous: {listing}; pass the id")


def locations_of(conn: sa.Connection, tenant_id: int, customer_id: int) -> list[dict[str, Any]]:
    return rows(
        conn,
        """select id, name, concat_ws(', ', street, city, state, zip) as address
           from servicetitan.st_locations
           where tenant_id = :tenant and customer_id = :customer and deleted_at is null
             and coalesce(active, true) and merged_to_id is null
           order by id""",
        tenant=tenant_id,
        customer=customer_id,
    )
