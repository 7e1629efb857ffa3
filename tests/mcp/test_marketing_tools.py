"""The marketing marts and tools on a known story: a customer first calls from a Google Ads
number, calls again through Yelp, then gets an estimate that sells; a web lead hears back by
email after 30 minutes; a missed caller never does. First and last touch credit different
sources, the shop's spend gives a cost per sold job, and response times are measured."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from perfect_catch.warehouse import dbt_runner

ACCOUNT = "ACC-test"


@pytest.fixture(scope="module")
def story(make_world, tmp_path_factory: pytest.TempPathFactory):
    world = make_world()
    with world.engine.begin() as conn:
        sold = conn.execute(
            sa.text(
                """select e.customer_id, e.created_on, cc.value as phone
                   from servicetitan.st_estimates e
                   join servicetitan.st_customer_contacts cc
                     on cc.tenant_id = e.tenant_id and cc.customer_id = e.customer_id
                   where e.tenant_id = :t and e.status = 'Sold' and e.active
                     and cc.type in ('Phone', 'MobilePhone') and cc.deleted_at is null
                     and integrations.e164(cc.value) is not null
                     and (select count(distinct c2.customer_id)
                          from servicetitan.st_customer_contacts c2
                          where integrations.e164(c2.value) = integrations.e164(cc.value)) = 1
                   order by e.created_on limit 1"""
            ),
            {"t": world.tenant_id},
        ).one()
        first, last = sold.created_on - timedelta(days=3), sold.created_on - timedelta(hours=1)

        def call(call_id: str, phone: str, when, source: str, answered: bool) -> None:
            raw = {"id": call_id, "source_name": source, "voicemail": False}
            conn.execute(
                sa.text(
                    """insert into integrations.callrail_calls (account_id, id, direction,
                           answered, customer_phone_number, customer_phone_e164, start_time,
                           raw)
                       values (:a, :id, 'inbound', :answered, :phone, integrations.e164(:phone),
                               :when, cast(:raw as jsonb))"""
                ),
                {
                    "a": ACCOUNT,
                    "id": call_id,
                    "answered": answered,
                    "phone": phone,
                    "when": when,
                    "raw": orjson.dumps(raw).decode(),
                },
            )

        call("CAL-first", sold.phone, first, "Google Ads", True)
        call("CAL-last", sold.phone, last, "Yelp", False)
        call("CAL-nobody", "+15055550123", last, "Facebook", False)
        lead_at = last
        conn.execute(
            sa.text(
                """insert into integrations.ghl_contacts (location_id, id, email, source,
                       date_added, raw)
                   values ('LOC', 'web-lead', 'Web.Lead@Example.com', 'website form', :at,
                           '{}'::jsonb)"""
            ),
            {"at": lead_at},
        )
        conn.execute(
            sa.text(
                """insert into automation.outbox (idempotency_key, tenant_id, channel,
                       to_address, body, status, sent_at)
                   values ('reply-1', :t, 'email', 'web.lead@example.com', 'Hi', 'sent', :at)"""
            ),
            {"t": world.tenant_id, "at": lead_at + timedelta(minutes=30)},
        )
        month = first.replace(day=1).date()
        conn.execute(
            sa.text(
                "insert into integrations.marketing_spend (source_system, lead_source, month,"
                " amount) values ('callrail', 'Google Ads', :m, 500)"
            ),
            {"m": month},
        )
    url = world.engine.url.render_as_string(hide_password=False)
    target: Path = tmp_path_factory.mktemp("marketing_dbt")
    dbt_runner.invoke(
        ["run", "--select", "+marketing_attribution", "+lead_response_summary"],
        world.context.settings,
        url=url,
        target_path=target,
        in_process=True,
    ).check()
    return world, sold


def test_first_and_last_touch_credit_different_sources(story) -> None:
    world, sold = story
    estimates = world.scalar(
        "select count(*) from servicetitan.st_estimates where tenant_id = :t"
        " and customer_id = :c and active and created_on >= :since",
        t=world.tenant_id,
        c=sold.customer_id,
        since=sold.created_on - timedelta(days=3),
    )
    first = world.ok("marketing_attribution", {"grouping": "source", "source_system": "callrail"})[
        "rows"
    ]
    by_source = {row["lead_source"]: row for row in first}
    assert by_source["Google Ads"]["customers_matched"] == 1
    assert by_source["Google Ads"]["estimates"] == estimates
    assert by_source["Google Ads"]["estimates_sold"] >= 1
    assert by_source["Google Ads"]["calls_answered"] == 1
    assert by_source["Yelp"]["estimates"] == 0 and by_source["Yelp"]["calls_missed"] == 1
    sold_count = by_source["Google Ads"]["estimates_sold"]
    assert float(by_source["Google Ads"]["cost_per_sold_job"]) == pytest.approx(500 / sold_count)

    last = world.ok(
        "marketing_attribution",
        {"grouping": "source", "source_system": "callrail", "attribution": "last_touch"},
    )["rows"]
    by_source = {row["lead_source"]: row for row in last}
    assert by_source["Yelp"]["estimates_sold"] >= 1
    assert "servicetitan" in {
        row["source_system"]
        for row in world.ok("marketing_attribution", {"grouping": "campaign"})["rows"]
    }


def test_lead_response_time_measures_the_first_answer(story) -> None:
    world, _ = story
    web = world.ok("lead_response_time", {"source": "website form"})
    assert web["overall"]["leads"] == 1
    assert float(web["overall"]["median_minutes"]) == pytest.approx(30.0)
    everyone = world.ok("lead_response_time", {})
    unanswered = {row["lead_key"] for row in everyone["unanswered"]}
    assert "+15055550123" in unanswered
    assert world.error("lead_response_time", {"start_date": "2025-02-01", "end_date": "2025-01-01"})
