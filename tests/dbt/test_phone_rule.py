"""One phone rule: Python (`perfect_catch.phones`), SQL (`integrations.e164`) and dbt
(`normalize_phone`) give the same answer for every input of one table.

The table holds the forms numbers arrive in (office staff's formats, providers' E.164, the
simulators' 555 numbers) and the ones that must be refused; each row says the answer, so the
test pins the rule as well as the agreement.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import phonenumbers
import pytest
import sqlalchemy as sa
from phonenumbers import PhoneNumber, ValidationResult

from perfect_catch.phones import InvalidPhoneError, require_e164, to_e164
from perfect_catch.settings import load_settings
from perfect_catch.warehouse import dbt_runner, migrate

MIGRATION = (
    Path(__file__).resolve().parents[2]
    / "perfect_catch/warehouse/migrations/versions/0008_phone_rule.py"
)

CASES: list[tuple[str | None, str | None]] = [
    # North American numbers as office staff type them
    ("(480) 555-2894", "+14805552894"),
    ("602-555-0100", "+16025550100"),
    ("602.555.0100", "+16025550100"),
    ("6025550100", "+16025550100"),
    ("602/555/0100", "+16025550100"),
    ("[602] 555 0100", "+16025550100"),
    ("  602 555 0100  ", "+16025550100"),
    # with the country code: 11 digits, +1, a doubled trunk 1
    ("16025550100", "+16025550100"),
    ("1 (602) 555 0100", "+16025550100"),
    ("1.602.555.0100", "+16025550100"),
    ("+16025550100", "+16025550100"),
    ("+1 (602) 555-0100", "+16025550100"),
    ("+1-602-555-0100", "+16025550100"),
    ("1 1 602 555 0100", "+16025550100"),
    ("+1 1 602 555 0100", "+16025550100"),
    ("011 1 602 555 0100", "+16025550100"),
    # extensions
    ("602-555-0100 ext 12", "+16025550100"),
    ("602-555-0100 ext. 12", "+16025550100"),
    ("602-555-0100 extension 5", "+16025550100"),
    ("602 555 0100 x12", "+16025550100"),
    ("602 555 0100 X 1234", "+16025550100"),
    ("602 555 0100 #12", "+16025550100"),
    ("602-555-0100;ext=12", "+16025550100"),
    ("602-555-0100,,12", "+16025550100"),
    ("6025550100x7", "+16025550100"),
    ("1-602-555-0100 ext. 5", "+16025550100"),
    ("602.555.0100 X 99", "+16025550100"),
    ("+1 (602) 555-0100 ext 7", "+16025550100"),
    # labels, letters and notes
    ("cell: 602-555-0100", "+16025550100"),
    ("tel:+1-602-555-0100", "+16025550100"),
    ("1-800-FLOWERS", "+18003569377"),
    ("602-555-CALL", "+16025552255"),
    ("602 555 01OO", None),
    ("602-555-0100 (home)", None),
    ("call me", None),
    ("N/A", None),
    # too short, too long, local only
    ("555-0100", None),
    ("555-01", None),
    ("12345", None),
    ("602555010", None),
    ("60255501001", None),
    ("26025550100", None),
    ("602-555-0100, 480-555-0101", None),
    # area code or exchange starting with 0 or 1
    ("(123) 456-7890", None),
    ("(602) 055-0100", None),
    ("(602) 155-0100", None),
    ("+1 023 555 0100", None),
    ("1602555010", None),
    # the simulators' numbers, and ones libphonenumber does not list as assigned: kept
    ("(480) 555-0199", "+14805550199"),
    ("(520) 555-9999", "+15205559999"),
    ("505 212 3456", "+15052123456"),
    ("505 012 3456", None),
    ("(555) 555-0100", "+15555550100"),
    ("(200) 555-0100", "+12005550100"),
    ("+1 684 555 0100", "+16845550100"),
    ("+15005550001", "+15005550001"),
    # other countries, written in full
    ("+44 20 7946 0958", "+442079460958"),
    ("+44 (0)20 7946 0958", "+442079460958"),
    ("+44 7911 123456", "+447911123456"),
    ("011 44 20 7946 0958", "+442079460958"),
    ("+49 30 123456", "+4930123456"),
    ("+33 1 23 45 67 89", "+33123456789"),
    ("+52 55 1234 5678", "+525512345678"),
    ("+61 2 9374 4000", "+61293744000"),
    ("+44 123", None),
    ("+44 1234 5678", None),
    ("+999 1234 5678", None),
    ("+0 602 555 0100", None),
    ("+12", None),
    ("+1 602", None),
    ("+", None),
    # nothing at all
    ("", None),
    ("   ", None),
    (None, None),
]


@pytest.fixture
def inputs(engine: sa.Engine) -> sa.Engine:
    """The table's inputs in the test database, numbered in table order."""
    with engine.begin() as conn:
        conn.execute(
            sa.text("create table public.phone_inputs (n integer primary key, value text)")
        )
        conn.execute(
            sa.text("insert into public.phone_inputs values (:n, :value)"),
            [{"n": n, "value": value} for n, (value, _) in enumerate(CASES)],
        )
    return engine


def test_python_gives_the_table() -> None:
    assert [(value, to_e164(value)) for value, _ in CASES] == CASES


def test_sql_gives_the_table(inputs: sa.Engine) -> None:
    with inputs.connect() as conn:
        rows = conn.execute(
            sa.text("select n, integrations.e164(value) from public.phone_inputs order by n")
        ).all()
    assert [(CASES[n][0], e164) for n, e164 in rows] == CASES


def test_dbt_gives_the_table(inputs: sa.Engine, database_url: str, dbt_target: Path) -> None:
    sql = "select n, {{ normalize_phone('value') }} as e164 from public.phone_inputs order by n"
    result = dbt_runner.invoke(
        ["show", "--inline", sql, "--limit", "-1", "--output", "json", "--log-format", "json"],
        load_settings(database_url=database_url),
        url=database_url,
        target_path=dbt_target,
    )
    assert result.returncode == 0, result.output
    shown = next(
        json.loads(line)["data"]["preview"]
        for line in result.output.splitlines()
        if line.startswith("{") and '"preview"' in line
    )
    rows = json.loads(shown) if isinstance(shown, str) else shown
    assert [(CASES[row["n"]][0], row["e164"]) for row in rows] == CASES


def _migration() -> ModuleType:
    spec = importlib.util.spec_from_file_location("phone_rule_migration", MIGRATION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_sql_knows_the_lengths_phonenumbers_knows() -> None:
    """The SQL function carries phonenumbers' possible lengths per country code; when a release
    of phonenumbers changes them, a new migration must bring the function up to date."""
    possible = {
        str(code): [
            length
            for length in range(1, 18)
            if phonenumbers.is_possible_number_with_reason(
                PhoneNumber(country_code=code, national_number=int("2" * length))
            )
            == ValidationResult.IS_POSSIBLE
        ]
        for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE
    }
    assert json.loads("".join(_migration().COUNTRY_LENGTHS)) == possible


def test_refusals_name_the_number_and_the_reason() -> None:
    with pytest.raises(InvalidPhoneError, match=r"'\(123\) 555-0100'.*area code and exchange"):
        require_e164("(123) 555-0100")
    with pytest.raises(InvalidPhoneError, match=r"'555-01'.*not ten North American digits"):
        require_e164("555-01")
    with pytest.raises(InvalidPhoneError, match=r"'call me': not a phone number"):
        require_e164("call me")
    assert require_e164("(480) 555-2894") == "+14805552894"


def test_north_american_regions_read_a_local_number_alike() -> None:
    """Why the region is a constant (`phones.REGION`): every other North American one gives the
    same E.164 for the table's numbers written without a country code."""
    local = [
        (text, e164)
        for text, e164 in CASES
        if text and e164 and e164.startswith("+1") and not text.lstrip().startswith(("+", "011"))
    ]
    assert len(local) >= 10
    nanp = [
        r for r in phonenumbers.SUPPORTED_REGIONS if phonenumbers.country_code_for_region(r) == 1
    ]
    assert {"US", "CA", "PR"} <= set(nanp)
    for region in nanp:
        read = [phonenumbers.format_number(phonenumbers.parse(t, region), 0) for t, _ in local]
        assert read == [e164 for _, e164 in local], region


def test_the_migration_recomputes_stored_numbers(engine: sa.Engine) -> None:
    """Numbers stored under the old rule (any ten digits) are brought to the new one, and a call
    whose number changed loses its customer link until the next sync links it again."""
    migrate.downgrade(engine, "0007_invoice_due_index")
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                """insert into integrations.ghl_contacts (location_id, id, phone, phone_e164, raw)
                   values ('L', 'good', '(480) 555-2894', '+14805552894', '{}'),
                          ('L', 'bad', '(123) 456-7890', '+11234567890', '{}')"""
            )
        )
        conn.execute(
            sa.text(
                """insert into integrations.callrail_calls (account_id, id,
                       customer_phone_number, customer_phone_e164, st_tenant_id, st_customer_id,
                       raw)
                   values ('A', 'good', '+14805552894', '+14805552894', 1, 10, '{}'),
                          ('A', 'bad', '+15051234567', '+15051234567', 1, 11, '{}')"""
            )
        )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        contacts = conn.execute(
            sa.text("select id, phone_e164 from integrations.ghl_contacts order by id")
        ).all()
        calls = conn.execute(
            sa.text(
                "select id, customer_phone_e164, st_customer_id from integrations.callrail_calls "
                "order by id"
            )
        ).all()
    assert [tuple(row) for row in contacts] == [("bad", None), ("good", "+14805552894")]
    assert [tuple(row) for row in calls] == [("bad", None, None), ("good", "+14805552894", 10)]
