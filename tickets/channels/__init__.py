"""Outbound delivery, one transport per channel.

A transport takes a stored outbound message and delivers it, raising ``DeliveryError`` for a
failure worth retrying. Phone and social replies are made outside the desk and logged here.
"""

from collections.abc import Callable

from customers.models import Channel

from ..models import Message
from .email import email_send


class DeliveryError(Exception):
    """The transport could not deliver now; the task retries with backoff."""


def _logged(message: Message) -> str:
    # Phone calls and social replies happen in their own tools; the desk records them as made.
    return ""


def _chat_post(message: Message) -> str:
    # The customer's chat session reads the ticket's outbound messages; storing it delivers it.
    return ""


TRANSPORTS: dict[str, Callable[[Message], str]] = {
    Channel.EMAIL: email_send,
    Channel.WEB: email_send,
    Channel.CHAT: _chat_post,
    Channel.PHONE: _logged,
    Channel.SOCIAL: _logged,
}


def transport_for(channel: str) -> Callable[[Message], str]:
    return TRANSPORTS[channel]
