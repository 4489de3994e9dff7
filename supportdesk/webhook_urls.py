"""``/webhooks/``: signed inbound webhooks, one per source (see supportdesk.webhook_receiver)."""

from django.urls import path

from customers.webhooks import orders_webhook
from tickets.webhooks import chat_webhook, email_webhook

app_name = "webhooks"
urlpatterns = [
    path("orders/", orders_webhook, name="orders"),
    path("email/", email_webhook, name="email"),
    path("chat/", chat_webhook, name="chat"),
]
