"""Decode a large page of records in pieces, so the decoding thread lets the others run.

`orjson.loads` holds the GIL for the whole of its input, which for an export page of 5,000
ServiceTitan customers is long (docs/benchmarks.md). The sync engine decodes the next page on
one thread while another drives the COPY of the current page into PostgreSQL, and that thread
needs the GIL back after every wait on the server, so PostgreSQL sat idle while a page was being
decoded.

`loads_page` returns exactly what `orjson.loads` returns, and raises what it raises. A body
whose last member is an array of objects (`{"hasMore": …, "continueFrom": …, "data": [{…}, …]}`,
the shape of ServiceTitan's pages) is decoded as its envelope with an empty array, then the
array's elements in runs of about `CHUNK_BYTES`, cut where an object is followed by `,` and an
object starting with the same two keys as the array's first element (`},{"id":7,"jobId":`).
That text never occurs inside a string (a quote in a string is escaped), and a cut inside a
nested array leaves the run before it with a container open, which does not decode. So every
run must decode as a JSON array, and the envelope as an object whose last member is that empty
array; if anything does not, the body is decoded whole.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

#: Size of a piece; smaller bodies are decoded whole. About a tenth of an export page of
#: customers, so a piece holds the GIL for a tenth of the time the whole page would.
CHUNK_BYTES = 256 * 1024


def loads_page(body: bytes) -> Any:
    """`orjson.loads(body)`, in pieces of about `CHUNK_BYTES` when `body` is a large page."""
    if len(body) <= CHUNK_BYTES:
        return orjson.loads(body)
    decoded = _loads_in_pieces(body)
    return orjson.loads(body) if decoded is None else decoded


def _loads_in_pieces(body: bytes) -> dict[str, Any] | None:
    """The decoded page, or None when it does not have the shape described above."""
    tail = body.rstrip()
    if not tail.endswith(b"]}"):
        return None
    end = len(tail) - 2  # the array's closing bracket
    start = body.find(b":[{", 0, end)  # checked below: it must open the last member's array
    if start < 0:
        return None
    start += 1  # the array's opening bracket
    try:
        envelope = orjson.loads(body[: start + 1] + body[end:])
    except orjson.JSONDecodeError:
        return None
    # Valid JSON that ends with `[]}` is an object. Its last key in order is not that array's
    # when the array's key came earlier too (`{"data": 1, "x": 2, "data": []}`).
    assert isinstance(envelope, dict)
    last = next(reversed(envelope))
    if envelope[last] != []:
        return None
    cut_before = _cut_pattern(body[start + 1 : start + 400])
    if cut_before is None:
        return None
    records: list[Any] = []
    view = memoryview(body)
    begin = start + 1
    while begin < end:
        match = cut_before.search(body, begin + CHUNK_BYTES, end)
        stop = end if match is None else match.start() + 1
        try:
            run = orjson.loads(b"[" + view[begin:stop] + b"]")
        except orjson.JSONDecodeError:
            return None
        records += run
        begin = stop + 1  # past the comma
    envelope[last] = records
    return envelope


# A value without a comma: a number or a literal, a plain string, an empty array or object.
_SIMPLE_VALUE = rb'(?:[^,{}\[\]"]*|"[^"\\,]*"|\[\]|\{\})'
# The first two members of an element: a key, a simple value, the next key.
_FIRST_MEMBERS = re.compile(rb'\{("[^"\\]*":)' + _SIMPLE_VALUE + rb',("[^"\\]*":)')


def _cut_pattern(head: bytes) -> re.Pattern[bytes] | None:
    """Where to cut: before an element that starts with the same two keys as the first one.

    Records start with the same members in the same order as a rule (`{"id":1,"jobId":`);
    nested objects seldom start with both (an estimate's items start with `{"id":`, then
    `"sku":`), so the cuts stay off the nested arrays most records have."""
    match = _FIRST_MEMBERS.match(head)
    if match is None:
        return None
    first, second = match.groups()
    return re.compile(re.escape(b"},{" + first) + _SIMPLE_VALUE + b"," + re.escape(second))
