"""Delivery channels behind one small Protocol (see ``base.Channel``)."""

from fivelink_notifier.channels.base import (
    Channel,
    ChannelKind,
    DeliveryResult,
    EmailTarget,
    InboxTarget,
    Message,
    Role,
    SmsTarget,
    Target,
    WebhookTarget,
)
from fivelink_notifier.channels.webhook import WebhookChannel

__all__ = [
    "Channel",
    "ChannelKind",
    "DeliveryResult",
    "EmailTarget",
    "InboxTarget",
    "Message",
    "Role",
    "SmsTarget",
    "Target",
    "WebhookChannel",
    "WebhookTarget",
]
