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
    auth_required: bool = Field(
        default=True,
        description="Refuse requests without a bearer token; false = anonymous admin (dev only)",
    )
    outbox_sweep_seconds: float = Field(
        default=5.0, gt=0, description="How often the relay republishes what a crash left"
    )
    outbox_grace_seconds: float = Field(
        default=1.0, ge=0, description="The sweep leaves entries younger than this to the writer"
    )
    max_body_bytes: int = Field(default=256 * 1024, ge=1024, description="JSON request bodies")
    max_batch_bytes: int = Field(default=16 * 1024 * 1024, ge=1024, description="Signal batches")
    max_batch_records: int = Field(default=20_000, ge=1)
    rules_file: str = Field(default="", description="Discovery rules file; empty = packaged v1")
    intake_crash_after_store: bool = Field(
        default=False,
        description="TEST ONLY: exit the process right after a case is stored, before publish",
    )
