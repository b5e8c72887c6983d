"""Notifier settings (env vars prefixed ``FIVELINK_``).

Dict-valued settings are read from JSON, e.g.
``FIVELINK_NOTIFIER_REMIND_AFTER_S='{"crisis": 1800, "high": 14400, "normal": 86400}'``.
"""

from __future__ import annotations

from datetime import time, timedelta

from pydantic import Field, SecretStr

from fivelink_notifier.channels.email import SmtpSettings
from fivelink_notifier.channels.sms import SmsGatewaySettings
from fivelink_notifier.policy import PolicySettings, QuietHours, RateLimit, RetryPolicy
from fivelink_shared.events import Urgency
from fivelink_shared.settings import CommonSettings


def _hours(text: str) -> QuietHours | None:
    """``"22:00-07:00"`` -> QuietHours; an empty string turns quiet hours off."""
    if not text.strip():
        return None
    start, _, end = text.partition("-")
    return QuietHours(time.fromisoformat(start.strip()), time.fromisoformat(end.strip()))


class NotifierSettings(CommonSettings):
    link_secret: SecretStr = Field(
        default=SecretStr("dev-only-fivelink-link-secret-0001"),
        description="HMAC key of signed response links",
    )
    public_url: str = Field(
        default="",
        description="Base URL parties reach the notifier at (links); default: notifier_url",
    )
    link_ttl_hours: float = Field(default=72.0, gt=0)
    webhook_timeout_s: float = Field(default=10.0, gt=0)
    # --- e-mail and SMS gateway
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_sender: str = "fivelink <noreply@fivelink.local>"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    sms_url: str = "http://127.0.0.1:9/sms"
    sms_auth_value: SecretStr = SecretStr("")
    sms_phone_field: str = "phone"
    sms_text_field: str = "text"
    # --- delivery policy
    notifier_retry_max_attempts: int = Field(default=6, ge=1)
    notifier_retry_initial_s: float = Field(default=30.0, gt=0)
    notifier_retry_max_wait_s: float = Field(default=3600.0, gt=0)
    notifier_retry_jitter_s: float = Field(default=15.0, ge=0)
    notifier_rate_limit: int = Field(default=6, ge=1, description="Messages per window")
    notifier_rate_window_s: float = Field(default=3600.0, gt=0)
    notifier_quiet_hours: str = Field(default="22:00-07:00", description="Empty: off")
    notifier_policy_channels: tuple[str, ...] = Field(
        default=("email", "sms"),
        description="Channels that wake people, so quiet hours and rate limits apply",
    )
    notifier_workers: int = Field(default=32, ge=1, description="Concurrent sends")
    notifier_consume_batch: int = Field(
        default=32, ge=1, le=500, description="Assignment events handled together"
    )
    # --- follow-ups (SLA), seconds per urgency
    notifier_remind_after_s: dict[Urgency, float] = Field(
        default={Urgency.CRISIS: 1800, Urgency.HIGH: 4 * 3600, Urgency.NORMAL: 24 * 3600}
    )
    notifier_release_after_s: dict[Urgency, float] = Field(
        default={Urgency.CRISIS: 3600, Urgency.HIGH: 12 * 3600, Urgency.NORMAL: 72 * 3600}
    )
    notifier_delivery_remind_after_s: dict[Urgency, float] = Field(
        default={Urgency.CRISIS: 4 * 3600, Urgency.HIGH: 48 * 3600, Urgency.NORMAL: 7 * 86400}
    )
    notifier_followup_check_s: float = Field(default=30.0, gt=0)
    dashboard_url: str = Field(default="", description="Supervisors' page linked from escalations")

    def link_base(self) -> str:
        return (self.public_url or self.notifier_url).rstrip("/")

    def smtp(self) -> SmtpSettings:
        return SmtpSettings(
            host=self.smtp_host,
            port=self.smtp_port,
            sender=self.smtp_sender,
            username=self.smtp_username,
            password=self.smtp_password.get_secret_value() if self.smtp_password else None,
            starttls=self.smtp_starttls,
            timeout_s=self.smtp_timeout_s,
        )

    def sms(self) -> SmsGatewaySettings:
        return SmsGatewaySettings(
            url=self.sms_url,
            auth_value=self.sms_auth_value.get_secret_value(),
            phone_field=self.sms_phone_field,
            text_field=self.sms_text_field,
        )

    def policy(self) -> PolicySettings:
        return PolicySettings(
            rate_limit=RateLimit(
                self.notifier_rate_limit, timedelta(seconds=self.notifier_rate_window_s)
            ),
            quiet_hours=_hours(self.notifier_quiet_hours),
            retry=RetryPolicy(
                max_attempts=self.notifier_retry_max_attempts,
                initial_s=self.notifier_retry_initial_s,
                max_wait_s=self.notifier_retry_max_wait_s,
                jitter_s=self.notifier_retry_jitter_s,
            ),
        )
