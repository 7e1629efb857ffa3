"""The parts of a supplier's HTML site that Pool360 and CED share: pages, login, robots, guard.

Each request passes the guard first: it is logged, a client that comes too fast gets the bot
check page (and keeps getting it for a while), then the host's injected faults apply (slow
pages, 429, 5xx, hangs). Pages behind the login redirect to the login form when the session
cookie is missing or expired, as a real site does.
"""

from __future__ import annotations

import html
from collections.abc import Awaitable, Callable
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from perfect_catch.simulators.supplier_site import SupplierSite

Handler = Callable[[Request], Awaitable[Response]]

ROBOTS = "User-agent: *\nDisallow: /cart\nDisallow: /checkout\nDisallow: /account/orders\n"


def page(title: str, body: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(
        f"<!doctype html><html><head><title>{html.escape(title)}</title></head>"
        f"<body><header class='site-header'>{html.escape(title)}</header>{body}</body></html>",
        status_code=status,
    )


def bot_check() -> HTMLResponse:
    return page(
        "Access denied",
        "<div id='bot-check' class='challenge'><h1>Please verify you are a human</h1>"
        "<p>Unusual traffic was detected from your network.</p></div>",
        status=403,
    )


def prefix(request: Request) -> str:
    return request.scope.get("root_path", "")


def guarded(site: SupplierSite, handler: Handler, *, login_required: bool, cookie: str) -> Handler:
    """`handler` behind the bot check, the injected faults and (optionally) the login."""

    async def endpoint(request: Request) -> Response:
        if site.record(request.method, request.url.path):
            return bot_check()
        fault = await site.faults.strike()
        if fault == "429":
            return page("Too many requests", "<p>Slow down.</p>", status=429)
        if fault == "5xx":
            return page("Server error", "<p>Something went wrong.</p>", status=503)
        if fault == "timeout":
            return page("Gateway timeout", "<p>Timed out.</p>", status=504)
        if login_required and not site.session_valid(request.cookies.get(cookie)):
            target = quote(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
            return RedirectResponse(f"{prefix(request)}/login?next={target}", status_code=302)
        return await handler(request)

    return endpoint


def login_routes(site: SupplierSite, cookie: str, home: str) -> list[Route]:
    """GET shows the form; POST checks the credentials and sets the session cookie."""

    async def form(request: Request, error: str = "") -> Response:
        message = f"<div class='login-error'>{html.escape(error)}</div>" if error else ""
        return page(
            f"{site.supplier} sign in",
            f"{message}<form class='login-form' method='post' action='{prefix(request)}/login'>"
            "<input name='username'><input name='password' type='password'>"
            "<button type='submit'>Sign in</button></form>",
            status=401 if error else 200,
        )

    async def show(request: Request) -> Response:
        return await form(request)

    async def submit(request: Request) -> Response:
        data = await request.form()
        token = site.login(str(data.get("username", "")), str(data.get("password", "")))
        if token is None:
            return await form(request, "Sign in failed: the user name or password is not valid.")
        response = RedirectResponse(f"{prefix(request)}{home}", status_code=302)
        response.set_cookie(cookie, token, httponly=True, samesite="lax", path="/")
        return response

    return [
        Route("/login", guarded(site, show, login_required=False, cookie=cookie), methods=["GET"]),
        Route(
            "/login", guarded(site, submit, login_required=False, cookie=cookie), methods=["POST"]
        ),
    ]


def robots_route() -> Route:
    async def robots(request: Request) -> Response:
        return PlainTextResponse(ROBOTS)

    return Route("/robots.txt", robots)


def admin_routes(site: SupplierSite) -> list[Route]:
    """Expire sessions, lift a bot block, read the traffic: for tests and the demo."""

    async def expire(request: Request) -> Response:
        site.expire_sessions()
        return PlainTextResponse("expired")

    async def unblock(request: Request) -> Response:
        site.unblock()
        return PlainTextResponse("unblocked")

    return [
        Route("/_admin/expire-sessions", expire, methods=["POST"]),
        Route("/_admin/unblock", unblock, methods=["POST"]),
    ]


def money(value: float) -> str:
    return f"${value:,.2f}"


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)
