"""Typed settings, read from environment variables prefixed ``FIVELINK_``."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class CommonSettings(BaseSettings):
    """Settings every service reads; each service subclasses it with its own."""

    model_config = SettingsConfigDict(env_prefix="FIVELINK_", extra="ignore")

    kafka_bootstrap: str = Field(default="127.0.0.1:9092", description="Kafka bootstrap servers")
    mongo_url: str = Field(default="mongodb://127.0.0.1:27017/", description="MongoDB URL")
    mongo_db_suffix: str = Field(default="", description="Appended to database names (tests)")
    log_level: str = "INFO"
    kafka_partitions: int = Field(default=3, ge=1)
    max_delivery_attempts: int = Field(default=5, ge=1, description="Retry cap before DLQ")
    service_token: SecretStr = Field(
        default=SecretStr("dev-only-fivelink-service-token-0001"),
        description="Bearer token services, pages and the CLI use for internal APIs",
    )
    intake_url: str = "http://127.0.0.1:8000"
    matcher_url: str = "http://127.0.0.1:8001"
    notifier_url: str = "http://127.0.0.1:8002"

    def database(self, service: str) -> str:
        """Name of the database a service owns (no service reads another's)."""
        return f"fivelink_{service}{self.mongo_db_suffix}"
