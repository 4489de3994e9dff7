"""Attachments are only ever downloads: an HTML or SVG file a customer mailed in must not run
in the agent's browser under the desk's origin."""

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import MessageFactory
from tickets.attachments import attachment_store

pytestmark = pytest.mark.django_db

PAYLOAD = b"<html><script>fetch('/api/v1/customers/').then(r => r.text()).then(alert)</script></html>"


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("invoice.html", "text/html"),
        ("logo.svg", "image/svg+xml"),
        ("notes.txt", "text/plain"),  # sniffable: nosniff keeps it text
        ("../../etc/passwd", "application/xhtml+xml"),
        ('evil"; filename=x.html', "text/html; charset=utf-8"),
    ],
)
def test_an_attachment_is_served_as_a_download_never_inline(agent_client, filename, content_type):
    # given a customer mailed a file that would run script if rendered
    attachment = attachment_store(message=MessageFactory(), filename=filename, content_type=content_type, data=PAYLOAD)

    # when an agent opens it
    response = agent_client.get(reverse("attachment_download", args=[attachment.pk]))

    # then the browser is told to save it, not to render or sniff it
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "/" not in disposition and '";' not in disposition.split("filename=", 1)[1].strip('"')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Type"].split(";")[0] in {"application/octet-stream", "text/plain"}
    assert "sandbox" in response["Content-Security-Policy"]
    assert b"".join(response.streaming_content) == PAYLOAD


def test_stored_files_are_not_reachable_by_their_path(agent_client):
    attachment = attachment_store(
        message=MessageFactory(), filename="invoice.html", content_type="text/html", data=PAYLOAD
    )

    response = agent_client.get("/" + settings.MEDIA_URL.strip("/") + "/" + attachment.file.name)

    assert response.status_code == 404


def test_attachments_need_a_signed_in_agent(client):
    attachment = attachment_store(message=MessageFactory(), filename="a.txt", content_type="text/plain", data=b"x")

    response = client.get(reverse("attachment_download", args=[attachment.pk]))

    assert response.status_code == 302 and reverse("login") in response["Location"]
