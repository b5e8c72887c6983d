"""Rendering pages: Jinja2 templates, the page language, and error pages for refusals.

``PageRoute`` turns the refusals a page can meet (not signed in, wrong role, outside the
region, not found, a bad CSRF token, another service down) into a proper page.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from fastapi.templating import Jinja2Templates

from fivelink_intake.domain.access import Forbidden
from fivelink_intake.service import Conflict, NotFound, Unprocessable
from fivelink_intake.web import i18n, why
from fivelink_intake.web.clients import Refused, Unavailable
from fivelink_intake.web.context import web_context
from fivelink_intake.web.forms import Submitted
from fivelink_intake.web.session import (
    HOME,
    LANG_COOKIE,
    CsrfFailed,
    NeedSignIn,
    WrongRole,
    csrf_token,
    principal,
    remember_seed,
)
from fivelink_intake.web.settings import WebSettings

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def translator(request: Request) -> i18n.Translator:
    lang = i18n.pick(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language", ""))
    return i18n.Translator(lang)


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """A page in the user's language, with their CSRF token and the role's navigation."""
    web = web_context(request)
    t = translator(request)
    user = principal(request, web.verifier)
    demo = web.settings.demo_user(user.sub) if user else None
    values = {
        "request": request,
        "t": t,
        "lang": t.lang,
        "html_lang": i18n.HTML_LANG[t.lang],
        "languages": [(code, i18n.NAMES[code]) for code in i18n.LANGUAGES],
        "user": user,
        "user_name": demo.name if demo else (user.sub if user else ""),
        "home": HOME[user.role] if user else "/ui/signin",
        "csrf": csrf_token(request, web.csrf_secret),
        "path": request.url.path,
        "errors": {},
        "values": Submitted(),
        "new_key": uuid.uuid4().hex,
        # why an assignment was proposed, in the page language (see why.py)
        "why": lambda terms: why.joined(why.reasons(terms, t)),
        "bound": lambda binding: why.joined(why.bindings(binding, t)),
        **(context or {}),
    }
    response = TEMPLATES.TemplateResponse(request, template, values, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    remember_seed(request, response, web.settings.web_cookie_secure)
    return response


def problem(request: Request, status_code: int, message_key: str, detail: str = "") -> Response:
    return render(
        request,
        "problem.html",
        {"message_key": message_key, "detail": detail},
        status_code=status_code,
    )


class PageRoute(APIRoute):
    """An ``APIRoute`` whose refusals become pages instead of JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                return await handler(request)
            except NeedSignIn:
                return RedirectResponse("/ui/signin", status_code=303)
            except WrongRole:
                return problem(request, 403, "err.wrong_role")
            except Forbidden:
                return problem(request, 403, "err.forbidden")
            except CsrfFailed:
                return problem(request, 403, "err.csrf")
            except NotFound:
                return problem(request, 404, "err.not_found")
            except (Conflict, Unprocessable) as exc:
                return problem(request, 409, "err.conflict", str(exc)[:200])
            except Refused as exc:
                return problem(request, 409, "err.refused", exc.args[0][:200] if exc.args else "")
            except Unavailable:
                return problem(request, 503, "err.unavailable")

        return page


def settings_of(request: Request) -> WebSettings:
    return web_context(request).settings
