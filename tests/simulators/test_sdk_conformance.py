"""Twilio, SendGrid, Anthropic and CallRail simulators read through the clients the product uses.

The official SDKs (`twilio`, `sendgrid`, `anthropic`) are pointed at the simulators exactly as
the product points them (Twilio's `api` domain base URL, SendGrid's `host`, Anthropic's
`base_url`), and every field the product reads must come out of the SDK's objects typed, not
through a fallback (`status or "queued"`, `headers.get(name.lower())`, `.get(..., default)`).
The Anthropic SDK builds its models without validation, so the raw body is also validated
strictly against `anthropic.types.Message`.

CallRail has no official Python SDK: its responses are validated with a JSON Schema written
from CallRail's API v3 documentation of the calls list (the fields the connector requests and
the sync reads, and both paging envelopes).

`KNOWN_DIFFERENCES` names where each simulator is known to differ from the real API; the only
one touching a field the product reads is CallRail's customer_phone_number format, which the
simulator varies on purpose so that phone matching is exercised.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import anthropic
import httpx
import jsonschema
import orjson
import pytest
from anthropic.types import Message as AnthropicMessage
from anthropic.types import TextBlock, ToolUseBlock
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import CustomArg, Mail
from twilio.rest import Client as TwilioClient

from perfect_catch.connectors.callrail import CALL_FIELDS
from perfect_catch.simulators.server import SimulatorServer

KNOWN_DIFFERENCES = {
    "twilio": (
        "price stays null and num_media is always '0' (no MMS); status moves only when the "
        "test drives it (/_admin/advance); list filters only To/From (no DateSent)."
    ),
    "sendgrid": (
        "Email Activity `msg_id` is the bare X-Message-Id, where SendGrid appends "
        "'.filterdrecv-…' (the provider splits on '.', so both read the same); no "
        "per-event detail, opens/clicks always 0."
    ),
    "anthropic": (
        "usage carries only input_tokens/output_tokens (no cache_* or service_tier), token "
        "counts are a length estimate, replies are scripted, and tool_choice is not enforced."
    ),
    "callrail": (
        "only the calls list exists; customer_phone_number comes in five formats (CallRail "
        "sends E.164) so that phone matching is exercised; customer_city/state/country are "
        "fixed (Phoenix, AZ, US), tags are always empty and value/note null."
    ),
}


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorServer]:
    with SimulatorServer(seed=3, size="small", port=0) as running:
        yield running


# --- Twilio -----------------------------------------------------------------------------------


def _twilio(env: dict[str, str]) -> TwilioClient:
    client = TwilioClient(env["TWILIO_ACCOUNT_SID"], env["TWILIO_AUTH_TOKEN"])
    client.api.base_url = env["TWILIO_API_URL"]
    return client


def _assert_twilio_message(message: Any, to: str, body: str) -> None:
    """The fields `providers._twilio_record` and `TwilioProvider` read, typed by the SDK."""
    assert isinstance(message.sid, str) and message.sid.startswith("SM")
    assert message.status in ("queued", "sending", "sent", "delivered")
    assert message.to == to
    assert message.body == body
    assert isinstance(message.num_segments, str) and message.num_segments.isdigit()
    assert message.error_code is None
    # The SDK parses RFC 2822 dates; an unparseable one would stay a string.
    assert isinstance(message.date_created, datetime) and message.date_created.tzinfo
    assert isinstance(message.date_updated, datetime)
    assert message.direction == "outbound-api"


def test_twilio_create_fetch_and_list_through_the_sdk(sim: SimulatorServer) -> None:
    env = sim.env
    client = _twilio(env)
    to = "+16025550111"
    sent = [
        client.messages.create(to=to, from_=env["TWILIO_FROM_NUMBER"], body=f"hello {i}")
        for i in range(5)
    ]
    for i, message in enumerate(sent):
        _assert_twilio_message(message, to, f"hello {i}")
    fetched = client.messages(sent[0].sid).fetch()
    _assert_twilio_message(fetched, to, "hello 0")
    assert fetched.date_created == sent[0].date_created

    # Paging: the SDK follows next_page_uri from page to page (page size 2, five messages).
    listed = client.messages.list(to=to, from_=env["TWILIO_FROM_NUMBER"], page_size=2)
    assert sorted(m.sid for m in listed) == sorted(m.sid for m in sent)
    for message in listed:
        _assert_twilio_message(message, to, message.body)
    page = client.messages.page(to=to, page_size=2)
    assert len(list(page)) == 2
    following = page.next_page()
    assert following is not None and len(list(following)) == 2
    assert client.messages.list(to="+16025550999", limit=200) == []


def test_twilio_error_code_and_refusal_through_the_sdk(sim: SimulatorServer) -> None:
    from twilio.base.exceptions import TwilioRestException

    env = sim.env
    client = _twilio(env)
    message = client.messages.create(
        to="+16025550112", from_=env["TWILIO_FROM_NUMBER"], body="will fail"
    )
    httpx.post(
        f"{env['TWILIO_API_URL']}/_admin/advance",
        json={"sid": message.sid, "outcome": "undelivered", "error_code": 30003},
    ).raise_for_status()
    failed = client.messages(message.sid).fetch()
    assert failed.status == "undelivered"
    assert failed.error_code == 30003  # the SDK reads it as an int
    assert isinstance(failed.error_message, str) or failed.error_message is None

    with pytest.raises(TwilioRestException) as caught:
        client.messages.create(to="not-a-number", from_=env["TWILIO_FROM_NUMBER"], body="x")
    assert (caught.value.status, caught.value.code) == (400, 21211)
    assert "not a valid phone number" in caught.value.msg
    with pytest.raises(TwilioRestException) as missing:
        client.messages("SM" + "0" * 32).fetch()
    assert (missing.value.status, missing.value.code) == (404, 20404)


# --- SendGrid ---------------------------------------------------------------------------------


def test_sendgrid_send_and_activity_through_the_sdk(sim: SimulatorServer) -> None:
    env = sim.env
    client = SendGridAPIClient(api_key=env["SENDGRID_API_KEY"], host=env["SENDGRID_API_URL"])
    mail = Mail(
        from_email=env["SENDGRID_FROM_EMAIL"],
        to_emails="pat@example.com",
        subject="Your visit",
        plain_text_content="See you tomorrow",
        html_content="<p>See you tomorrow</p>",
    )
    mail.custom_arg = CustomArg("outbox_key", 'key "quoted"')
    response = client.send(mail)
    assert response.status_code == 202
    # The product reads the header by its documented name, without the lower-case fallback.
    message_id = response.headers.get("X-Message-Id")
    assert isinstance(message_id, str) and len(message_id) >= 10

    query = 'unique_args[\'outbox_key\']="key \\"quoted\\""'
    found = client.client.messages.get(query_params={"query": query, "limit": 10})
    assert found.status_code == 200
    rows = orjson.loads(found.body)["messages"]
    assert len(rows) == 1
    row = rows[0]
    assert row["msg_id"].split(".")[0] == message_id
    assert row["status"] in ("processed", "delivered", "not_delivered")
    assert row["to_email"] == "pat@example.com"
    assert row["from_email"] == env["SENDGRID_FROM_EMAIL"]
    assert isinstance(row["opens_count"], int) and isinstance(row["clicks_count"], int)
    # Documented as an ISO 8601 time, e.g. "2017-10-13T18:56:21Z".
    assert datetime.fromisoformat(row["last_event_time"].replace("Z", "+00:00")).tzinfo

    import python_http_client.exceptions as sg_errors

    bad = SendGridAPIClient(api_key="wrong", host=env["SENDGRID_API_URL"])
    with pytest.raises(sg_errors.UnauthorizedError) as caught:
        bad.send(mail)
    errors = orjson.loads(caught.value.body)["errors"]
    assert errors[0]["message"]


# --- Anthropic --------------------------------------------------------------------------------

_TOOL = {
    "name": "record_work",
    "description": "Record the work lines.",
    "input_schema": {
        "type": "object",
        "properties": {"lines": {"type": "array", "items": {"type": "object"}}},
        "required": ["lines"],
    },
}


def _anthropic(env: dict[str, str]) -> anthropic.Anthropic:
    return anthropic.Anthropic(
        api_key=env["ANTHROPIC_API_KEY"], base_url=env["ANTHROPIC_BASE_URL"], max_retries=0
    )


def _create(client: anthropic.Anthropic, messages: list[dict[str, Any]]) -> AnthropicMessage:
    raw = client.messages.with_raw_response.create(
        model="claude-sonnet-4-5",
        max_tokens=500,
        system="Pursue the goal.",
        tools=[_TOOL],  # type: ignore[list-item]
        messages=messages,  # type: ignore[arg-type]
    )
    # The SDK builds its models without checking types; validate the body strictly as well.
    strict = AnthropicMessage.model_validate_json(raw.http_response.content, strict=True)
    parsed = raw.parse()
    assert parsed == strict
    return parsed


def test_anthropic_tool_use_then_end_turn_through_the_sdk(sim: SimulatorServer) -> None:
    client = _anthropic(sim.env)
    first = _create(client, [{"role": "user", "content": "A customer called."}])
    assert first.type == "message" and first.role == "assistant"
    assert first.stop_reason == "tool_use"
    assert isinstance(first.usage.input_tokens, int) and first.usage.input_tokens > 0
    assert isinstance(first.usage.output_tokens, int) and first.usage.output_tokens > 0
    uses = [b for b in first.content if isinstance(b, ToolUseBlock)]
    assert len(uses) == 1
    use = uses[0]
    assert use.name == "record_work"
    assert isinstance(use.id, str) and use.id.startswith("toolu_")
    assert isinstance(use.input, dict) and isinstance(use.input["lines"], list)
    texts = [b for b in first.content if isinstance(b, TextBlock)]
    assert texts and isinstance(texts[0].text, str)
    # The agent loop sends the blocks back as `model_dump(exclude_none=True)`.
    content = [block.model_dump(exclude_none=True) for block in first.content]
    assert {b["type"] for b in content} == {"text", "tool_use"}

    second = _create(
        client,
        [
            {"role": "user", "content": "A customer called."},
            {"role": "assistant", "content": content},
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "{}"}],
            },
        ],
    )
    assert second.stop_reason == "end_turn"
    assert [b.type for b in second.content] == ["text"]
    assert isinstance(second.content[0], TextBlock) and second.content[0].text


def test_anthropic_errors_map_to_the_sdk_exceptions(sim: SimulatorServer) -> None:
    env = sim.env
    bad = anthropic.Anthropic(api_key="wrong", base_url=env["ANTHROPIC_BASE_URL"], max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        bad.messages.create(model="m", max_tokens=10, messages=[{"role": "user", "content": "hi"}])
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    }
    with pytest.raises(anthropic.BadRequestError):
        _anthropic(env).messages.create(
            model="m", max_tokens=10, messages=[{"role": "assistant", "content": "hi"}]
        )


# --- CallRail ---------------------------------------------------------------------------------

_NULLABLE_STRING = {"type": ["string", "null"]}
# Patterns rather than `format`: jsonschema checks `date-time` and `uri` only with extra packages.
_DATE_TIME = {
    "type": "string",
    "pattern": r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?([+-]\d{2}:\d{2}|Z)$",
}
_URL = {"type": ["string", "null"], "pattern": r"^https?://[^\s]+$"}
#: A call as CallRail API v3 documents it (`GET /v3/a/{account_id}/calls.json`), for the fields
#: returned by default and those the connector asks for in `fields=`.
CALL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": [
        "id",
        "answered",
        "business_phone_number",
        "customer_city",
        "customer_country",
        "customer_name",
        "customer_phone_number",
        "customer_state",
        "direction",
        "duration",
        "recording",
        "recording_duration",
        "recording_player",
        "start_time",
        "tracking_phone_number",
        "voicemail",
        *CALL_FIELDS,
    ],
    "properties": {
        "id": {"type": "string", "minLength": 1},
        "answered": {"type": "boolean"},
        "business_phone_number": {"type": ["string", "null"], "pattern": r"^\+1\d{10}$"},
        "customer_city": _NULLABLE_STRING,
        "customer_country": _NULLABLE_STRING,
        "customer_name": _NULLABLE_STRING,
        # CallRail sends E.164; the simulator mixes formats on purpose (KNOWN_DIFFERENCES).
        "customer_phone_number": {"type": "string", "pattern": r"\d{3}\D{0,2}\d{3}\D?\d{4}$"},
        "customer_state": _NULLABLE_STRING,
        "direction": {"enum": ["inbound", "outbound"]},
        "duration": {"type": ["integer", "null"], "minimum": 0},
        "recording": _URL,
        "recording_duration": {"type": ["string", "null"], "pattern": r"^\d+$"},
        "recording_player": _URL,
        "start_time": _DATE_TIME,
        "tracking_phone_number": {"type": "string", "pattern": r"^\+1\d{10}$"},
        "voicemail": {"type": "boolean"},
        "company_id": {"type": "string", "minLength": 1},
        "lead_status": {"enum": ["good_lead", "not_a_lead", "previously_marked_good_lead", None]},
        "tags": {"type": "array", "items": {"type": "object"}},
        "source": _NULLABLE_STRING,
        "source_name": _NULLABLE_STRING,
        "first_call": {"type": "boolean"},
        "value": _NULLABLE_STRING,
        "note": _NULLABLE_STRING,
        "created_at": _DATE_TIME,
    },
}
RELATIVE_PAGE_SCHEMA = {
    "type": "object",
    "required": ["per_page", "has_next_page", "next_page", "calls"],
    "properties": {
        "per_page": {"type": "integer"},
        "has_next_page": {"type": "boolean"},
        "next_page": _URL,
        "calls": {"type": "array", "items": CALL_SCHEMA},
    },
}
OFFSET_PAGE_SCHEMA = {
    "type": "object",
    "required": ["page", "per_page", "total_pages", "total_records", "calls"],
    "properties": {
        "page": {"type": "integer", "minimum": 1},
        "per_page": {"type": "integer"},
        "total_pages": {"type": "integer", "minimum": 1},
        "total_records": {"type": "integer", "minimum": 0},
        "calls": {"type": "array", "items": CALL_SCHEMA},
    },
}


def _validate(schema: dict[str, Any], body: Any) -> None:
    jsonschema.Draft202012Validator(schema).validate(body)


def test_callrail_pages_validate_against_the_documented_shapes(sim: SimulatorServer) -> None:
    env = sim.env
    url = f"{env['CALLRAIL_API_URL']}/v3/a/{env['CALLRAIL_ACCOUNT_ID']}/calls.json"
    headers = {"Authorization": f'Token token="{env["CALLRAIL_API_KEY"]}"'}
    params: dict[str, Any] | None = {
        "per_page": 40,
        "order": "asc",
        "sort": "start_time",
        "fields": ",".join(CALL_FIELDS),
        "relative_pagination": "true",
    }
    seen: list[dict[str, Any]] = []
    pages = 0
    with httpx.Client(headers=headers, timeout=10) as http:
        while True:
            response = http.get(url, params=params)
            assert response.status_code == 200, response.text
            body = response.json()
            _validate(RELATIVE_PAGE_SCHEMA, body)
            seen += body["calls"]
            pages += 1
            if not body["has_next_page"]:
                assert body["next_page"] is None
                break
            url, params = body["next_page"], None
        assert pages >= 2
        starts = [datetime.fromisoformat(c["start_time"]) for c in seen]
        assert starts == sorted(starts)
        assert len({c["id"] for c in seen}) == len(seen)
        assert any(c["recording"] for c in seen) and any(not c["answered"] for c in seen)

        offset = http.get(
            f"{env['CALLRAIL_API_URL']}/v3/a/{env['CALLRAIL_ACCOUNT_ID']}/calls.json",
            params={"per_page": 40, "page": 2, "fields": ",".join(CALL_FIELDS)},
        )
        body = offset.json()
        _validate(OFFSET_PAGE_SCHEMA, body)
        assert body["total_records"] == len(seen) and body["page"] == 2


def test_callrail_offsets_are_opaque_urlsafe_tokens(sim: SimulatorServer) -> None:
    """The connector follows `next_page` verbatim; its offset must survive URL encoding."""
    env = sim.env
    url = f"{env['CALLRAIL_API_URL']}/v3/a/{env['CALLRAIL_ACCOUNT_ID']}/calls.json"
    headers = {"Authorization": f'Token token="{env["CALLRAIL_API_KEY"]}"'}
    body = httpx.get(
        url, params={"per_page": 5, "relative_pagination": "true"}, headers=headers
    ).json()
    offset = httpx.URL(body["next_page"]).params["offset"]
    base64.urlsafe_b64decode(offset.encode())
