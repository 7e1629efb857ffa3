"""Customers, contacts and locations made in PostgreSQL with `generate_series`: tens of thousands
of rows in seconds (a million in a few minutes), for the tests and benchmarks that need a table
large enough for the planner to prefer an index, without syncing that many records.

Names, streets and cities come from the simulator's vocabulary, so names repeat as a real
tenant's do; phones are typed the ways office staff type them.
"""

from __future__ import annotations

import sqlalchemy as sa

from perfect_catch.simulators.servicetitan import catalog as cat

#: Ids of the generated rows start here, clear of the simulator's own.
FIRST_ID = 900_000_000


def _array(values: tuple[str, ...]) -> str:
    quoted = ", ".join("'" + value.replace("'", "''") + "'" for value in values)
    return f"array[{quoted}]::text[]"


def generate_customers(conn: sa.Connection, tenant_id: int, count: int) -> None:
    """`count` customers from id `FIRST_ID`, each with a phone (four ways of writing it), a
    mobile phone, an email and a location, then ANALYZE (as autovacuum would, later)."""
    cities = tuple(city for city, *_ in cat.CITIES)
    names = f"""
        with g as (select n, (n::bigint * 2654435761) % 4294967296 as h
                   from generate_series(0, :count - 1) n)
        select n, h,
               ({_array(cat.FIRST_NAMES)})[1 + h % {len(cat.FIRST_NAMES)}] as first,
               ({_array(cat.LAST_NAMES)})[1 + (h / 64) % {len(cat.LAST_NAMES)}] as last,
               (100 + (h / 4096) % 19000)::text || ' ' || (array['N','E','S','W'])[1 + h % 4]
                 || ' ' || ({_array(cat.STREET_NAMES)})[1 + (h / 256) % {len(cat.STREET_NAMES)}]
                 || ' ' || (array['Rd','St','Ave','Dr','Ln'])[1 + (h / 16) % 5] as street,
               ({_array(cities)})[1 + (h / 8) % {len(cities)}] as city,
               (array['480','602','623','520'])[1 + n % 4] as area,
               lpad((200 + (h / 7) % 800)::text, 3, '0') as exchange,
               lpad(((h / 5600) % 10000)::text, 4, '0') as line
        from g
    """
    conn.execute(
        sa.text(f"""create temp table pc_generated on commit drop as {names}"""),
        {"count": count},
    )
    for statement in (
        """
            insert into servicetitan.st_customers
              (tenant_id, id, name, type, active, street, city, state, zip, created_on, raw,
               modified_on, synced_at)
            select :t, :first + n, first || ' ' || last, 'Residential', n % 20 <> 0, street,
                   city, 'AZ', (85000 + h % 400)::text, now() - make_interval(days => n % 900),
                   '{}'::jsonb, now() - make_interval(mins => n % 100000), now()
            from pc_generated
        """,
        """
            insert into servicetitan.st_locations
              (tenant_id, id, customer_id, name, active, street, city, state, zip, raw,
               modified_on, synced_at)
            select :t, :first + n, :first + n, first || ' ' || last, true,
                   ((h / 3) % 19000 + 100)::text || ' ' || split_part(street, ' ', 2) || ' '
                     || split_part(street, ' ', 3) || ' Pkwy',
                   city, 'AZ', (85000 + h % 400)::text, '{}'::jsonb, now(), now()
            from pc_generated
        """,
        """
            insert into servicetitan.st_customer_contacts
              (tenant_id, id, customer_id, type, value, active, raw, modified_on, synced_at)
            select :t, :first + 3 * n, :first + n, 'Phone',
                   case n % 4
                     when 0 then '(' || area || ') ' || exchange || '-' || line
                     when 1 then area || '-' || exchange || '-' || line
                     when 2 then '+1' || area || exchange || line
                     else area || '.' || exchange || '.' || line || ' ext ' || (n % 90 + 10)
                   end, true, '{}'::jsonb, now(), now()
            from pc_generated
            union all
            select :t, :first + 3 * n + 1, :first + n, 'MobilePhone',
                   '1 ' || area || ' ' || lpad((300 + (h / 11) % 700)::text, 3, '0') || ' '
                     || lpad(((h / 13) % 10000)::text, 4, '0'), true, '{}'::jsonb, now(), now()
            from pc_generated
            union all
            select :t, :first + 3 * n + 2, :first + n, 'Email',
                   initcap(first) || '.' || replace(replace(last, ' ', ''), '''', '') || n
                     || '@Example.com', true, '{}'::jsonb, now(), now()
            from pc_generated
        """,
    ):
        conn.execute(sa.text(statement), {"t": tenant_id, "first": FIRST_ID})
    for table in ("st_customers", "st_locations", "st_customer_contacts"):
        conn.execute(sa.text(f"analyze servicetitan.{table}"))


HISTORY = (
    """
    insert into servicetitan.st_jobs
      (tenant_id, id, job_number, customer_id, location_id, job_status, total, active,
       completed_on, created_on, raw, modified_on, synced_at)
    select :t, :first + 2 * n + k, (:first + 2 * n + k)::text, :first + n, :first + n,
           case when k = 0 then 'Completed' else 'Scheduled' end, 150 + n % 900, true,
           case when k = 0 then now() - make_interval(days => n % 700) end,
           now() - make_interval(days => n % 700 + 3), '{"summary": "Pool pump repair"}',
           now(), now()
    from generate_series(0, :count - 1) n cross join generate_series(0, 1) k
    """,
    """
    insert into servicetitan.st_appointments
      (tenant_id, id, job_id, customer_id, appointment_number, status, start_on, end_on,
       active, raw, modified_on, synced_at)
    select :t, :first + 2 * n + k, :first + 2 * n + k, :first + n, n || '-' || k,
           case when k = 0 then 'Done' else 'Scheduled' end,
           now() - make_interval(days => n % 700 - 30 * k),
           now() - make_interval(days => n % 700 - 30 * k) + interval '2 hours', true, '{}',
           now(), now()
    from generate_series(0, :count - 1) n cross join generate_series(0, 1) k
    """,
    """
    insert into servicetitan.st_estimates
      (tenant_id, id, job_id, customer_id, name, status, subtotal, active, created_on, raw,
       modified_on, synced_at)
    select :t, :first + n, :first + 2 * n, :first + n, 'Variable speed pump',
           (array['Open', 'Sold', 'Dismissed'])[1 + n % 3], 1200 + n % 3000, true,
           now() - make_interval(days => n % 700), '{}', now(), now()
    from generate_series(0, :count - 1) n
    """,
    """
    insert into servicetitan.st_invoices
      (tenant_id, id, reference_number, customer_id, location_id, job_id, invoice_date,
       due_date, total, balance, active, raw, modified_on, synced_at)
    select :t, :first + n, n::text, :first + n, :first + n, :first + 2 * n,
           now() - make_interval(days => n % 700), now() - make_interval(days => n % 700 - 30),
           150 + n % 900, case when n % 7 = 0 then 150 + n % 900 else 0 end, true, '{}', now(),
           now()
    from generate_series(0, :count - 1) n
    """,
    """
    insert into servicetitan.st_payments
      (tenant_id, id, customer_id, type, total, paid_on, active, raw, modified_on, synced_at)
    select :t, :first + n, :first + n, 'Credit Card', 150 + n % 900,
           now() - make_interval(days => n % 700 - 5), true,
           jsonb_build_object('appliedTo', jsonb_build_array(jsonb_build_object(
             'appliedTo', :first + n, 'appliedAmount', 150 + n % 900))),
           now(), now()
    from generate_series(0, :count - 1) n where n % 7 <> 0
    """,
)


def generate_history(conn: sa.Connection, tenant_id: int, count: int) -> None:
    """For each of the first `count` generated customers: two jobs (one completed), their
    appointments, an estimate, an invoice (one in seven unpaid) and its payment; then ANALYZE."""
    for statement in HISTORY:
        conn.execute(sa.text(statement), {"t": tenant_id, "first": FIRST_ID, "count": count})
    for table in ("st_jobs", "st_appointments", "st_estimates", "st_invoices", "st_payments"):
        conn.execute(sa.text(f"analyze servicetitan.{table}"))
