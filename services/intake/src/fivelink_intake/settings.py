"""Intake settings (env vars prefixed ``FIVELINK_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from fivelink_shared.settings import CommonSettings

# Development-only defaults: scripts and tests use them; production sets real secrets.
DEV_PII_KEY = "ZGV2LW9ubHktZml2ZWxpbmstcGlpLWtleS0zMmJ5dGU="
DEV_TOKEN_SECRET = "dev-only-fivelink-token-secret-change-me"


class IntakeSettings(CommonSettings):
    pii_key: SecretStr = Field(
        default=SecretStr(DEV_PII_KEY),
        description="Fernet key (urlsafe base64, 32 bytes) encrypting personal fields at rest",
    )
    person_ref_key: SecretStr = Field(
        default=SecretStr("dev-only-person-ref-key"),
        description="HMAC key that turns identifiers into pseudonymous person refs",
    )
    token_secret: SecretStr = Field(default=SecretStr(DEV_TOKEN_SECRET))
    outbox_sweep_seconds: float = Field(default=2.0, gt=0)
