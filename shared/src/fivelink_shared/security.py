"""Service-to-service authentication: the internal APIs of the matcher and the notifier
want ``Authorization: Bearer <FIVELINK_SERVICE_TOKEN>``. People never call them directly;
intake's pages and the CLI do, on their behalf.
"""

from __future__ import annotations

import hmac
from typing import Annotated

from fastapi import Depends, Header, HTTPException, Request, status


def require_service_token(
    request: Request, authorization: Annotated[str | None, Header()] = None
) -> None:
    """Reject a request whose bearer token is not the service token (401, constant time)."""
    expected: str = request.app.state.service_token
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            "a service bearer token is required",
            headers={"WWW-Authenticate": "Bearer"},
        )


ServiceAuthorized = Annotated[None, Depends(require_service_token)]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
