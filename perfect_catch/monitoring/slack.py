"""A Slack incoming-webhook client: one POST of a text message.

The webhook URL is itself the credential (whoever holds it can post), so no error raised here
names it: only the status Slack answered.
"""

from __future__ import annotations

import httpx


class SlackError(Exception):
    """Slack did not accept the message; the text names the status, never the URL."""


def post_message(url: str, text: str, *, timeout: float = 10.0) -> None:
    """Post `text` to the incoming webhook at `url`; raise `SlackError` unless Slack says ok."""
    try:
        response = httpx.post(url, json={"text": text}, timeout=timeout)
    except httpx.TransportError as error:
        raise SlackError(f"Slack webhook unreachable ({type(error).__name__})") from None
    if response.status_code != 200:
        raise SlackError(
            f"Slack webhook answered HTTP {response.status_code}: {response.text[:100]}"
        )
