"""Outbound webhooks refuse loopback, private, link-local and other internal addresses (SSRF:
a subscription must not make the desk call its own admin, a database or the cloud metadata
service) unless ``DESK_WEBHOOKS_OUT_ALLOW_PRIVATE`` allows it."""

import pytest
from django.core.exceptions import ValidationError

from tickets.webhooks_out import webhook_target_resolve

INTERNAL = [
    "http://127.0.0.1/hook",
    "http://localhost:8000/admin/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://10.1.2.3/hook",
    "http://172.16.0.1/hook",
    "http://192.168.1.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/hook",
    "http://[fd00::1]/hook",
    "http://0.0.0.0/hook",
    "http://100.64.0.1/hook",
    "http://224.0.0.1/hook",
]


@pytest.mark.parametrize("url", INTERNAL)
def test_internal_addresses_are_refused(settings, url):
    settings.DESK_WEBHOOKS_OUT_ALLOW_PRIVATE = False

    with pytest.raises(ValidationError) as error:
        webhook_target_resolve(url)

    assert "url" in error.value.message_dict


@pytest.mark.parametrize("url", ["ftp://192.0.2.1/x", "file:///etc/passwd", "gopher://127.0.0.1/", "http:///x"])
def test_other_schemes_are_refused(settings, url):
    settings.DESK_WEBHOOKS_OUT_ALLOW_PRIVATE = True

    with pytest.raises(ValidationError):
        webhook_target_resolve(url)


def test_internal_addresses_are_allowed_when_the_setting_says_so(settings):
    settings.DESK_WEBHOOKS_OUT_ALLOW_PRIVATE = True

    assert webhook_target_resolve("http://127.0.0.1:9/hook") == ("http", "127.0.0.1", 9, "127.0.0.1")


def test_refusal_is_the_default():
    from supportdesk.settings import base

    assert base.DESK_WEBHOOKS_OUT_ALLOW_PRIVATE is False
