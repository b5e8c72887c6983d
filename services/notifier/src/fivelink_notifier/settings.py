"""Notifier settings (env vars prefixed ``FIVELINK_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from fivelink_shared.settings import CommonSettings


class NotifierSettings(CommonSettings):
    link_secret: SecretStr = Field(
        default=SecretStr("dev-only-fivelink-link-secret-0001"),
        description="HMAC key of signed response links",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8002",
        description="Base URL parties reach the notifier at (links)",
    )
    link_ttl_hours: float = Field(default=72.0, gt=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
