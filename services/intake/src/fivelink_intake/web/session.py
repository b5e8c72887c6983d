"""Sign-in sessions and CSRF tokens of the pages.

The session cookie holds the same JWT the API takes as a bearer token (HttpOnly,
SameSite=Strict, path ``/ui``). Every POST form carries a CSRF token: an HMAC of a random
per-browser cookie, so a page of another site can neither read nor forge it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta

from fastapi import Request, Response

from fivelink_intake.auth import InvalidToken, TokenVerifier, issue_token
from fivelink_intake.domain.access import Principal, Role
from fivelink_intake.web.settings import DemoUser

SESSION_COOKIE = "fl_session"
CSRF_COOKIE = "fl_csrf"
LANG_COOKIE = "fl_lang"
COOKIE_PATH = "/ui"


class NeedSignIn(Exception):
    """No valid session: the page sends the browser to the sign-in page."""


class WrongRole(Exception):
    """Signed in, but this page is for another role."""


class CsrfFailed(Exception):
    """A POST without the right CSRF token: nothing is done."""


def _csrf_of(secret: str, seed: str) -> str:
    return hmac.new(secret.encode(), b"fivelink-csrf." + seed.encode(), hashlib.sha256).hexdigest()


def csrf_seed(request: Request) -> str:
    """The browser's CSRF seed; a new one (set on the response by ``remember_seed``) if none."""
    seed = request.cookies.get(CSRF_COOKIE) or getattr(request.state, "csrf_seed", None)
    if not seed:
        seed = secrets.token_urlsafe(24)
        request.state.csrf_seed = seed
    return str(seed)


def csrf_token(request: Request, secret: str) -> str:
    return _csrf_of(secret, csrf_seed(request))


def check_csrf(request: Request, secret: str, submitted: str | None) -> None:
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not submitted or not hmac.compare_digest(_csrf_of(secret, seed), submitted):
        raise CsrfFailed()


def remember_seed(request: Request, response: Response, secure: bool) -> None:
    """Set the CSRF seed cookie if this request made a new one."""
    seed = getattr(request.state, "csrf_seed", None)
    if seed and not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE, seed, httponly=True, samesite="strict", secure=secure, path=COOKIE_PATH
        )


def sign_in(response: Response, user: DemoUser, secret: str, hours: float, secure: bool) -> None:
    """Issue the user's JWT (the API's own) and keep it in the session cookie."""
    token = issue_token(
        secret,
        role=user.role.value,
        sub=user.sub,
        county=user.county,
        township=user.township,
        community=user.community,
        org_id=user.org_id,
        ttl=timedelta(hours=hours),
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(hours * 3600),
        httponly=True,
        samesite="strict",
        secure=secure,
        path=COOKIE_PATH,
    )


def sign_out(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)


def principal(request: Request, verifier: TokenVerifier) -> Principal | None:
    """The signed-in user, or None (no cookie, expired or forged token)."""
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        return None
    try:
        return verifier.verify(token)
    except InvalidToken:
        return None


def require(request: Request, verifier: TokenVerifier, *roles: Role) -> Principal:
    """The signed-in user if they have one of ``roles`` (pages are per role, admin included)."""
    user = principal(request, verifier)
    if user is None:
        raise NeedSignIn()
    if user.role not in roles:
        raise WrongRole()
    return user


HOME = {
    Role.SOCIAL_WORKER: "/ui/worker",
    Role.CHARITY: "/ui/charity",
    Role.SUPERVISOR: "/ui/supervisor",
    Role.OPS: "/ui/ops",
    Role.ADMIN: "/ui/ops",
}
