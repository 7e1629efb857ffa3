"""A signed-in session on a supplier's HTML site (Pool360, CED): log in once, reuse the cookie.

The session cookie from an earlier run is offered first; the site's redirect to its login form
says it has expired, and then the client logs in once and repeats the request. A second
redirect within one run is an error rather than a loop of logins.
"""

from __future__ import annotations

from typing import Any

import httpx
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from perfect_catch.connectors.suppliers.polite import PoliteClient
from perfect_catch.connectors.suppliers.records import LoginRefusedError, SupplierError


def is_bot_check(response: httpx.Response) -> bool:
    """A challenge page instead of the page asked for (a 403 with a challenge element)."""
    if response.status_code not in (403, 429) and "bot-check" not in response.text[:4000]:
        return False
    if "html" not in response.headers.get("content-type", ""):
        return response.status_code == 403
    tree = HTMLParser(response.text)
    return tree.css_first("#bot-check, .challenge, #px-captcha") is not None or (
        response.status_code == 403
    )


class SiteSession:
    """Login and page fetching of one supplier's site over a `PoliteClient`."""

    def __init__(self, client: PoliteClient, username: str, password: str) -> None:
        if not username or not password:
            raise SupplierError(client.supplier, "the user name and password must both be set")
        self.client = client
        self._username = username
        self._password = password
        self.logins = 0
        self._restored = False

    @property
    def supplier(self) -> str:
        return self.client.supplier

    def _restore(self) -> None:
        if self._restored:
            return
        self._restored = True
        for cookie in self.client.sessions.cookies(self.supplier):
            self.client.http.cookies.set(
                cookie["name"], cookie["value"], domain=cookie.get("domain", ""), path="/"
            )

    def _remember(self) -> None:
        jar = self.client.http.cookies.jar
        cookies = [{"name": c.name, "value": c.value or "", "domain": c.domain} for c in jar]
        self.client.sessions.set_cookies(self.supplier, cookies)

    @staticmethod
    def _to_login(response: httpx.Response) -> bool:
        if response.status_code not in (301, 302, 303, 307):
            return False
        return "/login" in response.headers.get("location", "")

    def login(self) -> None:
        """Sign in with the form; a refusal is a `LoginRefusedError` (credentials never shown)."""
        self.client.http.cookies.clear()
        response = self.client.request(
            "POST", "/login", data={"username": self._username, "password": self._password}
        )
        self.logins += 1
        if response.status_code in (302, 303) and not self._to_login(response):
            self._remember()
            return
        error = HTMLParser(response.text).css_first(".login-error")
        reason = error.text(strip=True) if error is not None else f"HTTP {response.status_code}"
        raise LoginRefusedError(self.supplier, f"the site refused the login: {reason[:200]}")

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        """GET a page behind the login, signing in at most once per run when sent to it."""
        self._restore()
        response = self.client.request("GET", path, **kwargs)
        if self._to_login(response):
            if self.logins:
                raise SupplierError(
                    self.supplier, "the site asked for a login again within one run"
                )
            self.login()
            response = self.client.request("GET", path, **kwargs)
            if self._to_login(response):
                raise SupplierError(self.supplier, "the new session was not accepted")
        if response.status_code >= 400:
            raise SupplierError(
                self.supplier, f"GET {path.split('?', 1)[0]} failed (HTTP {response.status_code})"
            )
        return response
