"""Pages decoded in pieces equal what one `orjson.loads` gives, whatever the body holds."""

from __future__ import annotations

import random
from typing import Any

import orjson
import pytest

from perfect_catch.connectors import json_pages
from perfect_catch.connectors.json_pages import loads_page
from perfect_catch.simulators.servicetitan import ServiceTitanState
from perfect_catch.simulators.servicetitan.records import GENERATORS


def _page(records: list[Any], **envelope: Any) -> bytes:
    return orjson.dumps({"hasMore": True, "continueFrom": "abc", **envelope, "data": records})


# Strings close to the cuts, escapes, brackets, empty and unicode values.
_TRICKY = ['},{"id"', '}, {"id":', '"}]}', "\\", '"', "]}", "é ☃ 𝄞", "", '{"id":[{']


def _record(rng: random.Random, index: int) -> dict[str, Any]:
    return {
        "id": index,
        "name": rng.choice(_TRICKY) + str(index),
        "items": [{"itemId": rng.randrange(10**6), "note": rng.choice(_TRICKY)}]
        * rng.randrange(0, 4),
        "address": {"street": f"{index} Main St", "tags": [{"tag": 1}, {"tag": 2}]},
        "balance": rng.random() * 1000,
        "active": rng.random() < 0.5,
        "mergedToId": None,
    }


@pytest.fixture(autouse=True)
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    # Small pieces: every page below is cut in many places.
    monkeypatch.setattr(json_pages, "CHUNK_BYTES", 700)


@pytest.mark.parametrize("seed", range(6))
def test_a_page_decodes_to_what_orjson_gives(seed: int) -> None:
    rng = random.Random(seed)
    body = _page([_record(rng, i) for i in range(300)])
    pieces = json_pages._loads_in_pieces(body)
    assert pieces is not None  # really decoded in pieces, not whole
    assert pieces == orjson.loads(body)
    assert loads_page(body) == orjson.loads(body)


def test_nested_objects_that_start_with_the_same_key_are_not_cut() -> None:
    # An estimate's items start with "id" too, but not with "id" then "jobId".
    records = [
        {"id": i, "jobId": 7, "items": [{"id": 1, "sku": {"id": 2}}, {"id": 3, "sku": None}] * 9}
        for i in range(60)
    ]
    body = _page(records)
    pieces = json_pages._loads_in_pieces(body)
    assert pieces is not None
    assert pieces == orjson.loads(body)


def test_records_that_start_with_an_empty_array_are_cut_too() -> None:
    body = _page([{"customFields": [], "permissions": {}, "id": i} for i in range(300)])
    pieces = json_pages._loads_in_pieces(body)
    assert pieces is not None
    assert pieces == orjson.loads(body)


def test_a_cut_inside_a_nested_array_falls_back_to_decoding_whole() -> None:
    # Nested objects that start as the records do: cuts land between them, the piece before
    # does not decode, so the body is decoded whole.
    body = _page(
        [{"id": i, "kind": "a", "items": [{"id": 1, "kind": "b"}] * 40} for i in range(50)]
    )
    assert json_pages._loads_in_pieces(body) is None
    assert loads_page(body) == orjson.loads(body)


def test_the_cut_written_inside_strings_is_never_cut() -> None:
    # In JSON text a quote inside a string is escaped, so the cut never matches inside one.
    body = _page([{"id": i, "note": '},{"id":1,"note":' * 200} for i in range(50)])
    assert b'},{\\"id\\":1,\\"note\\":' in body
    pieces = json_pages._loads_in_pieces(body)
    assert pieces is not None
    assert pieces == orjson.loads(body)


@pytest.mark.parametrize(
    "body",
    [
        # the array of records is not the last member
        orjson.dumps({"data": [{"id": i} for i in range(200)], "hasMore": False}),
        # not an object, or the last member is something else
        orjson.dumps([{"id": i} for i in range(200)]),
        orjson.dumps({"hasMore": False, "data": [{"id": i} for i in range(200)], "x": [1]}),
        # an earlier member holds an array of objects too
        orjson.dumps({"errors": [{"id": 1}], "data": [{"id": i} for i in range(200)]}),
        # pretty-printed: no cut matches
        orjson.dumps({"data": [{"id": i} for i in range(200)]}, option=orjson.OPT_INDENT_2),
        # duplicate keys: the last one wins, as in orjson
        b'{"data":[' + b",".join(b'{"id":%d}' % i for i in range(200)) + b'],"data":[]}',
        # the array's key came earlier too: it is not the last key of the decoded object
        b'{"data":1,"x":{"a":2},"data":['
        + b",".join(b'{"id":%d,"n":1}' % i for i in range(200))
        + b"]}",
        # whitespace after the end
        orjson.dumps({"data": [{"id": i} for i in range(200)]}) + b"\n  ",
    ],
)
def test_other_shapes_decode_as_orjson_does(body: bytes) -> None:
    assert loads_page(body) == orjson.loads(body)


@pytest.mark.parametrize(
    "body",
    [
        _page([{"id": i} for i in range(200)])[:-3] + b",]}",  # a trailing comma
        _page([{"id": i} for i in range(200)]).replace(b'{"id":150}', b'{"id":15"0}'),
        _page([{"id": i} for i in range(200)])[:-1],  # cut short
        b'{"hasMore":tru,"data":[' + b",".join(b'{"id":%d}' % i for i in range(200)) + b"]}",
    ],
)
def test_malformed_json_raises_as_orjson_does(body: bytes) -> None:
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(body)
    with pytest.raises(orjson.JSONDecodeError):
        loads_page(body)


def test_every_simulated_export_page_is_decoded_in_pieces() -> None:
    state = ServiceTitanState(seed=1, size="small")
    store = next(iter(state.tenants.values()))
    for entity in GENERATORS:
        body = store.export_page_json(entity, None, False, 5000, state.recent_window_ticks)
        pieces = json_pages._loads_in_pieces(body)
        assert pieces is not None, entity
        assert pieces == orjson.loads(body), entity
