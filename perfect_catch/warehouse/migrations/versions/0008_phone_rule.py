"""Phone numbers: `integrations.e164` follows the rule of `perfect_catch.phones`.

Until now SQL took any ten digits, dbt required a real area code and exchange, and Python had
two rules of its own. The function is rewritten to read a number the way `phonenumbers.parse`
does (in a North American default region) and to accept what `perfect_catch.phones` accepts:
a North American number whose area code and exchange start with 2-9, or a number with another
country code, written in full, whose length is possible for that country (`COUNTRY_LENGTHS`, the
lengths of the phonenumbers release this was written for). dbt's `normalize_phone` calls it.

The E.164 columns computed in Python are recomputed with it, and calls whose number changed are
unlinked from their customer (the next CallRail sync links them again), as a sync would.

Revision ID: 0008_phone_rule
Revises: 0007_invoice_due_index
"""

from __future__ import annotations

import json

from alembic import op

revision = "0008_phone_rule"
down_revision = "0007_invoice_due_index"
branch_labels = None
depends_on = None

#: Country calling code -> lengths of a national number `phonenumbers.is_possible_number` takes
#: as whole (not only dialable locally), from phonenumbers 9.0.43.
COUNTRY_LENGTHS = (
    '{"1":[10],"20":[8,9,10],"211":[9],"212":[9],"213":[8,9],"216":[8],"218":[9],"220":[7,9],"221":'
    '[9],"222":[8],"223":[8],"224":[8,9],"225":[10],"226":[8],"227":[8],"228":[8],"229":[10],"230":'
    '[7,8,10],"231":[7,8,9],"232":[8],"233":[8,9],"234":[10,11,12,13,14],"235":[8],"236":[8],"237":'
    '[8,9],"238":[7],"239":[7],"240":[9],"241":[7,8],"242":[9],"243":[7,8,9,10],"244":[9],"245":[7,'
    '9],"246":[7],"247":[5,6],"248":[7],"249":[9],"250":[8,9],"251":[9],"252":[6,7,8,9],"253":[8],"'
    '254":[7,8,9,10],"255":[9],"256":[9],"257":[8],"258":[8,9],"260":[9],"261":[9],"262":[9],"263":'
    '[7,9,10],"264":[8,9],"265":[7,9],"266":[8],"267":[7,8,10],"268":[8,9],"269":[7],"27":[5,6,7,8,'
    '9,10],"290":[4,5],"291":[7],"297":[7],"298":[6],"299":[6],"30":[10,11,12],"31":[5,6,7,8,9,10,1'
    '1],"32":[8,9],"33":[9],"34":[9],"350":[8],"351":[9],"352":[4,5,6,7,8,9,10,11],"353":[7,8,9,10]'
    ',"354":[7,9],"355":[6,7,8,9],"356":[8],"357":[8],"358":[5,6,7,8,9,10,11,12],"359":[6,7,8,9,12]'
    ',"36":[8,9],"370":[8],"371":[8],"372":[7,8,10],"373":[8],"374":[8],"375":[6,7,8,9,10,11],"376"'
    ':[6,8,9],"377":[8,9],"378":[8,10],"380":[9,10],"381":[6,7,8,9,10,11,12],"382":[8,9],"383":[8,9'
    ',10,11,12],"385":[7,8,9],"386":[5,6,7,8],"387":[8,9],"389":[8],"39":[6,7,8,9,10,11,12],"40":[6'
    ',9],"41":[9,12],"420":[9,10,11,12],"421":[6,7,9],"423":[7,9],"43":[4,5,6,7,8,9,10,11,12,13],"4'
    '4":[7,9,10],"45":[8],"46":[6,7,8,9,10,12],"47":[5,8],"48":[6,7,8,9,10],"49":[4,5,6,7,8,9,10,11'
    ',12,13,14,15],"500":[5],"501":[7,11],"502":[8,11],"503":[7,8,11],"504":[8,11],"505":[8],"506":'
    '[8,10],"507":[7,8,10,11],"508":[6,9],"509":[8],"51":[8,9],"52":[10],"53":[6,7,8,10],"54":[10,1'
    '1],"55":[8,9,10,11],"56":[9,10,11],"57":[8,10,11],"58":[10],"590":[9],"591":[8,9],"592":[7],"5'
    '93":[8,9,10,11],"594":[9],"595":[6,7,8,9,10,11],"596":[9],"597":[6,7],"598":[4,5,6,7,8,9,10,11'
    ',12,13],"599":[7,8],"60":[8,9,10],"61":[5,6,7,8,9,10,12],"62":[7,8,9,10,11,12,13,14,15,16,17],'
    '"63":[6,8,9,10,11,12,13],"64":[5,6,7,8,9,10],"65":[8,10,11],"66":[8,9,10,13],"670":[7,8],"672"'
    ':[6],"673":[7],"674":[7],"675":[7,8],"676":[5,7],"677":[5,7],"678":[5,7],"679":[7,11],"680":[7'
    '],"681":[6,9],"682":[5],"683":[4,7],"685":[5,6,7,10],"686":[5,8],"687":[6],"688":[5,6,7],"689"'
    ':[6,8,9],"690":[4,5,6,7],"691":[7],"692":[7],"7":[10,14],"800":[8],"808":[8],"81":[8,9,10,11,1'
    '2,13,14,15,16,17],"82":[5,6,8,9,10,11,12,13,14],"84":[7,8,9,10],"850":[8,10],"852":[5,6,7,8,9,'
    '11],"853":[7,8],"855":[8,9,10],"856":[8,9,10],"86":[7,8,9,10,11,12],"870":[9,12],"878":[12],"8'
    '80":[6,7,8,9,10],"881":[9,10],"882":[7,8,9,10,11,12],"883":[8,9,10,11,12],"886":[7,8,9,10,11],'
    '"888":[11],"90":[7,10,12,13],"91":[8,9,10,11,12,13],"92":[8,9,10,11,12],"93":[9],"94":[9],"95"'
    ':[6,7,8,9,10],"960":[7,10],"961":[7,8],"962":[8,9],"963":[8,9],"964":[8,9,10],"965":[7,8],"966'
    '":[9,10],"967":[7,8,9],"968":[7,8,9],"970":[8,9,10],"971":[5,6,7,8,9,10,11,12],"972":[7,8,9,10'
    ',11,12],"973":[8],"974":[7,8,9,11],"975":[7,8],"976":[8,9,10],"977":[8,10,11],"979":[9],"98":['
    '4,5,6,7,10],"992":[9],"993":[8],"994":[9],"995":[9],"996":[9,10],"998":[9]}'
)


def _lengths(lengths: list[int]) -> str:
    """`[7, 9, 10]` -> `[0-9]{7}|[0-9]{9,10}`: runs of lengths as one repetition each."""
    runs: list[list[int]] = []
    for length in lengths:
        if runs and runs[-1][1] == length - 1:
            runs[-1][1] = length
        else:
            runs.append([length, length])
    return "|".join(f"[0-9]{{{a}}}" if a == b else f"[0-9]{{{a},{b}}}" for a, b in runs)


_BY_CODE: dict[str, list[int]] = json.loads("".join(COUNTRY_LENGTHS))
#: The country calling codes (no one is the start of another, so at most one matches).
_CODE = "^(" + "|".join(_BY_CODE) + ")"
#: Country code and national number of a possible length, together.
_WHOLE = "^(?:" + "|".join(f"{code}(?:{_lengths(n)})" for code, n in _BY_CODE.items()) + ")$"
#: What phonenumbers takes for a number (ASCII): two digits, or three or more digits among
#: punctuation followed by punctuation, letters and digits, then perhaps an extension.
_NUMBER = r"\+*(?:[-x ().\[\]/~*]*[0-9]){3,}[-x ().\[\]/~*A-Za-z0-9]*"
#: An extension at the end, as phonenumbers recognises one: ";ext=12", "ext. 12", "x12", "#12",
#: "- 12#", ",,12", ", 12".
_EXTENSION = (
    r";ext=[0-9]{1,20}"
    r"|[ \t,]*(?:e?xt(?:ensio)?n?|anexo)[:.]?[ \t,-]*[0-9]{1,20}#?"
    r"|[ \t,]*(?:[x#~]|int)[:.]?[ \t,-]*[0-9]{1,9}#?"
    r"|[- ]+[0-9]{1,6}#"
    r"|[ \t]*(?:,,|;)[:.]?[ \t,-]*[0-9]{1,15}#?"
    r"|[ \t]*,+[:.]?[ \t,-]*[0-9]{1,9}#?"
)
_VIABLE = rf"^(?:[0-9]{{2}}|{_NUMBER}(?:{_EXTENSION})?)$"
#: Ten North American digits: area code and exchange start with 2-9.
_NANP = "[2-9][0-9]{2}[2-9][0-9]{6}"

#: PL/pgSQL rather than SQL: its steps run once each, on plans kept for the session, where a SQL
#: function of the same steps (several queries deep) was planned again on every call.
E164 = rf"""
create or replace function integrations.e164(value text) returns text
language plpgsql immutable parallel safe as $$
declare
    number text;
    digits text;
    full_digits text;
    code text;
    national text;
begin
    -- The forms most numbers arrive in (ServiceTitan's ten digits, providers' E.164), at once.
    if value ~ '^(?:\+?1)?{_NANP}$' then
        return '+1' || right(value, 10);
    end if;
    -- From the first digit or "+", without trailing punctuation or a second number ("/x ...").
    number := regexp_replace(
        regexp_replace(substring(value from '[+0-9].*$'), '[^#0-9A-Za-z]+$', ''),
        '[\\/] *x.*$', ''
    );
    if number is null or length(value) > 250 or length(number) < 2
        or number !~* '{_VIABLE}' then
        return null;
    end if;
    -- An extension is dropped when what comes before it is a number.
    if regexp_replace(number, '(?:{_EXTENSION})$', '', 'i') ~* '{_VIABLE}' then
        number := regexp_replace(number, '(?:{_EXTENSION})$', '', 'i');
    end if;
    -- Three or more letters are a keypad word ("1-800-FLOWERS"); fewer are dropped.
    if length(regexp_replace(number, '[^A-Za-z]', '', 'g')) >= 3 then
        number := translate(
            upper(number), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', '22233344455566677778889999'
        );
    end if;
    digits := regexp_replace(number, '[^0-9]', '', 'g');
    -- Written in full: after "+", or after the international prefix 011.
    if left(number, 1) = '+' and digits ~ '^[1-9]' then
        full_digits := digits;
    elsif digits ~ '^011[1-9]' then
        full_digits := substr(digits, 4);
    elsif digits ~ '^1{{0,3}}{_NANP}$' then
        -- No country code written: North American, after up to three leading 1s (phonenumbers
        -- strips them as country code and trunk prefix).
        return '+1' || right(digits, 10);
    else
        return null;
    end if;
    code := substring(full_digits from '{_CODE}');
    national := substr(full_digits, length(code) + 1);
    if code is null then
        return null;
    elsif code = '1' then
        -- North American: an optional trunk 1 and ten digits.
        return case when national ~ '^1?{_NANP}$' then '+1' || right(national, 10) end;
    end if;
    -- "(0)" marks another country's trunk prefix ("+44 (0)20 ..."), dropped when the rest has
    -- a possible length.
    if strpos(number, '(0)') > 0 and left(national, 1) = '0'
        and code || substr(national, 2) ~ '{_WHOLE}' then
        national := substr(national, 2);
    end if;
    return case when code || national ~ '{_WHOLE}' then '+' || code || national end;
end
$$
"""

#: The body of migration 0003, restored by `downgrade`.
E164_0003 = r"""
create or replace function integrations.e164(value text) returns text
language sql immutable parallel safe as $$
    select case
        when d ~ '^[0-9]{10}$' then '+1' || d
        when d ~ '^1[0-9]{10}$' then '+' || d
        when plus and length(d) between 8 and 15 then '+' || d
        else null
    end
    from (
        select
            regexp_replace(
                regexp_replace(lower(coalesce(value, '')), '(ext\.?|x|#).*$', ''),
                '[^0-9]', '', 'g'
            ) as d,
            left(btrim(coalesce(value, '')), 1) = '+' as plus
    ) parts
$$
"""

#: The stored E.164 columns, brought to the function's answers; a call whose number changed
#: loses its customer link, which the next CallRail sync makes again.
RECOMPUTE = (
    """
    update integrations.ghl_contacts set phone_e164 = integrations.e164(phone)
    where phone_e164 is distinct from integrations.e164(phone)
    """,
    """
    update integrations.callrail_calls
    set customer_phone_e164 = integrations.e164(customer_phone_number),
        st_tenant_id = null, st_customer_id = null
    where customer_phone_e164 is distinct from integrations.e164(customer_phone_number)
    """,
)


def _create(function: str) -> None:
    # Sent as it is (it holds no "%"): through `op.execute` SQLAlchemy would read the regular
    # expressions' "(?:1" and "(?:e" as bind parameters.
    op.get_bind().exec_driver_sql(function)


def upgrade() -> None:
    _create(E164)
    for statement in RECOMPUTE:
        op.execute(statement)


def downgrade() -> None:
    _create(E164_0003)
    for statement in RECOMPUTE:
        op.execute(statement)
