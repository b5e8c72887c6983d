"""What every page needs, built once per app on first use: settings, clients, the service."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from fastapi import Request

from fivelink_intake.auth import TokenVerifier
from fivelink_intake.service import IntakeService
from fivelink_intake.web.clients import MatcherClient, NotifierClient
from fivelink_intake.web.settings import WebSettings
from fivelink_shared.security import bearer


@dataclass
class WebContext:
    settings: WebSettings
    token_secret: str
    verifier: TokenVerifier
    service: IntakeService
    matcher: MatcherClient
    notifier: NotifierClient

    @property
    def csrf_secret(self) -> str:
        return self.token_secret


def web_context(request: Request) -> WebContext:
    """The app's ``WebContext`` (``app.state.web``), made on the first page request."""
    state = request.app.state
    found: WebContext | None = getattr(state, "web", None)
    if found is None:
        settings = WebSettings()
        # the matcher's and the notifier's internal APIs both want the service token
        http = httpx.AsyncClient(
            timeout=settings.web_http_timeout_s,
            headers=bearer(settings.service_token.get_secret_value()),
        )
        found = WebContext(
            settings=settings,
            token_secret=state.runtime.settings.token_secret.get_secret_value(),
            verifier=state.verifier,
            service=state.service,
            matcher=MatcherClient(http, settings.matcher_url),
            notifier=NotifierClient(
                http, settings.notifier_url, settings.service_token.get_secret_value()
            ),
        )
        state.web = found
    return found
