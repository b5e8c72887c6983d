"""Sign in and out, the language switch, the ops page and the static files."""

from __future__ import annotations

import hmac
from pathlib import Path

from fastapi import APIRouter, Request, Response
from fastapi.responses import FileResponse, RedirectResponse

from fivelink_intake.domain.access import Role
from fivelink_intake.web import i18n
from fivelink_intake.web.common import posted, submitted, user_of
from fivelink_intake.web.context import web_context
from fivelink_intake.web.render import PageRoute, render, translator
from fivelink_intake.web.session import (
    COOKIE_PATH,
    HOME,
    LANG_COOKIE,
    principal,
    sign_in,
    sign_out,
)

router = APIRouter(route_class=PageRoute)
STATIC = Path(__file__).parent / "static"
STATIC_FILES = {"app.css": "text/css", "validate.js": "text/javascript"}


@router.get("/")
async def home(request: Request) -> Response:
    user = principal(request, web_context(request).verifier)
    return RedirectResponse(HOME[user.role] if user else "/ui/signin", status_code=303)


@router.get("/signin")
async def signin_page(request: Request) -> Response:
    web = web_context(request)
    return render(request, "signin.html", {"demo_users": web.settings.web_demo_users})


@router.post("/signin")
async def signin(request: Request) -> Response:
    web = web_context(request)
    values = submitted(await posted(request))
    t = translator(request)
    user = web.settings.demo_user(values.get("user"))
    password = web.settings.web_demo_password.get_secret_value().encode()
    errors: dict[str, str] = {}
    if user is None:
        errors["user"] = t("err.choice")
    elif not hmac.compare_digest(values.get("password").encode(), password):
        errors["password"] = t("err.password")
    if user is None or errors:
        context = {"demo_users": web.settings.web_demo_users, "values": values, "errors": errors}
        return render(request, "signin.html", context, status_code=401)
    response = RedirectResponse(HOME[user.role], status_code=303)
    settings = web.settings
    sign_in(
        response, user, web.token_secret, settings.web_session_hours, settings.web_cookie_secure
    )
    return response


@router.post("/signout")
async def signout(request: Request) -> Response:
    await posted(request)
    response = RedirectResponse("/ui/signin", status_code=303)
    sign_out(response)
    return response


@router.get("/lang/{code}")
async def language(code: str, request: Request, next: str = "/ui/") -> Response:
    """Switch the page language (a cookie); ``next`` must be a page of ours."""
    target = next if next.startswith("/ui") and "//" not in next else "/ui/"
    response = RedirectResponse(target, status_code=303)
    if code in i18n.LANGUAGES:
        response.set_cookie(
            LANG_COOKIE, code, max_age=365 * 86400, samesite="strict", path=COOKIE_PATH
        )
    return response


@router.get("/ops")
async def ops(request: Request) -> Response:
    user_of(request, Role.OPS, Role.ADMIN)
    return render(request, "ops.html")


@router.get("/static/{name}")
async def static(name: str) -> Response:
    media = STATIC_FILES.get(name)
    if media is None:
        return Response(status_code=404)
    return FileResponse(
        STATIC / name, media_type=media, headers={"Cache-Control": "public, max-age=3600"}
    )
