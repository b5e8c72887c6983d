"""Bearer tokens: our HS256 JWTs now, any OIDC provider later.

The API depends only on ``TokenVerifier.verify(token) -> Principal``. ``JwtVerifier`` checks
tokens this service issued (``issue_token``); an OIDC verifier (RS256 against the provider's
JWKS, same claims) can replace it in ``app.build_app`` without touching the endpoints.

Claims: ``sub``, ``role`` (social_worker, charity, supervisor, ops, admin), ``region``
(``{"county", "township", "community"}``, required for social_worker and supervisor),
``org_id`` (required for charity), ``iss``, ``aud``, ``iat``, ``exp``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import jwt

from fivelink_intake.domain.access import REGIONAL, Principal, Role

ISSUER = "fivelink-intake"
AUDIENCE = "fivelink"
ALGORITHM = "HS256"


class InvalidToken(Exception):
    """The token is missing, malformed, expired or carries bad claims."""


class TokenVerifier(Protocol):
    def verify(self, token: str) -> Principal: ...


def principal_from_claims(claims: dict[str, Any]) -> Principal:
    """Turn verified claims into a ``Principal``; ``InvalidToken`` if they do not fit a role."""
    try:
        role = Role(claims.get("role"))
    except ValueError as exc:
        raise InvalidToken("unknown role") from exc
    region = claims.get("region") or {}
    if not isinstance(region, dict):
        raise InvalidToken("region must be an object")
    sub = claims.get("sub")
    if not isinstance(sub, str) or not sub:
        raise InvalidToken("sub is missing")
    principal = Principal(
        sub=sub,
        role=role,
        county=str(region.get("county") or ""),
        township=str(region.get("township") or ""),
        community=str(region.get("community") or ""),
        org_id=str(claims.get("org_id") or ""),
    )
    if role in REGIONAL and not principal.county:
        raise InvalidToken(f"a {role.value} token needs region.county")
    if role is Role.CHARITY and not principal.org_id:
        raise InvalidToken("a charity token needs org_id")
    return principal


class JwtVerifier:
    """Verifies HS256 tokens signed with the intake token secret."""

    def __init__(self, secret: str) -> None:
        self._secret = secret

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise InvalidToken("token expired") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("token is not valid") from exc
        return principal_from_claims(claims)


def issue_token(
    secret: str,
    *,
    role: str,
    sub: str,
    county: str = "",
    township: str = "",
    community: str = "",
    org_id: str = "",
    ttl: timedelta = timedelta(hours=12),
) -> str:
    """Sign a token; the claims are checked the same way the verifier checks them."""
    now = datetime.now(UTC)
    region = {k: v for k, v in (("county", county), ("township", township)) if v}
    if community:
        region["community"] = community
    claims: dict[str, Any] = {
        "sub": sub,
        "role": role,
        "iss": ISSUER,
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + ttl,
    }
    if region:
        claims["region"] = region
    if org_id:
        claims["org_id"] = org_id
    principal_from_claims(claims)  # refuse to sign a token the verifier would refuse
    return jwt.encode(claims, secret, algorithm=ALGORITHM)
