"""What every delivery channel shares: the message, the target address, the result."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from fivelink_shared.events import Language, Urgency


class Role(StrEnum):
    """The party a message is written for; each role has its own templates."""

    SOCIAL_WORKER = "social_worker"
    CHARITY = "charity"
    BENEFICIARY = "beneficiary"
    SUPERVISOR = "supervisor"


class ChannelKind(StrEnum):
    WEBHOOK = "webhook"
    EMAIL = "email"
    SMS = "sms"
    INBOX = "inbox"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Message(_Frozen):
    """A rendered notification for one recipient; carries pseudonymous ids only."""

    recipient: str = Field(min_length=1, max_length=64, description="party_id of the recipient")
    role: Role
    channel: ChannelKind
    language: Language
    subject: str
    body: str
    event_id: str = Field(description="Event this message is about (idempotency key)")
    urgency: Urgency = Urgency.NORMAL
    links: dict[str, str] = Field(default_factory=dict, description="action -> signed URL")


# --- targets: the channel-specific address of a recipient ---------------------------------
# Addresses, phone numbers and secrets are kept out of repr() so they never reach a log line.


class WebhookTarget(_Frozen):
    kind: Literal["webhook"] = "webhook"
    url: str = Field(min_length=1)
    secret: str = Field(min_length=16, repr=False, description="HMAC key shared with receiver")
    previous_secrets: tuple[str, ...] = Field(
        default=(), repr=False, description="Older keys still signed with during a rotation"
    )


class EmailTarget(_Frozen):
    kind: Literal["email"] = "email"
    address: str = Field(min_length=3, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$", repr=False)


class SmsTarget(_Frozen):
    kind: Literal["sms"] = "sms"
    phone: str = Field(min_length=3, max_length=32, pattern=r"^\+?[0-9 -]+$", repr=False)


class InboxTarget(_Frozen):
    kind: Literal["inbox"] = "inbox"
    user_id: str = Field(min_length=1, max_length=64)


Target = Annotated[
    WebhookTarget | EmailTarget | SmsTarget | InboxTarget, Field(discriminator="kind")
]


class DeliveryResult(_Frozen):
    """Outcome of one delivery attempt. ``retryable`` tells the caller whether to try again."""

    ok: bool
    status: str = Field(description="Short machine-readable status, e.g. http_503, smtp_550")
    detail: str = Field(default="", description="Human-readable detail, never personal data")
    retryable: bool = False

    @classmethod
    def delivered(cls, status: str = "delivered", detail: str = "") -> DeliveryResult:
        return cls(ok=True, status=status, detail=detail)

    @classmethod
    def failed(cls, status: str, detail: str = "", *, retryable: bool) -> DeliveryResult:
        return cls(ok=False, status=status, detail=detail, retryable=retryable)


class Channel(Protocol):
    """One way of reaching a party. Implementations must not raise for delivery failures."""

    kind: ChannelKind

    async def send(self, target: Target, message: Message) -> DeliveryResult: ...


def wrong_target(channel: ChannelKind, target: Target) -> DeliveryResult:
    """The permanent failure a channel returns when handed another channel's target."""
    return DeliveryResult.failed(
        "wrong_target", f"{channel} channel got a {target.kind} target", retryable=False
    )
