import pytest
from django.core.exceptions import ValidationError

from customers.identity import contact_normalise
from customers.models import Channel


@pytest.mark.parametrize(
    ("channel", "raw", "region", "expected"),
    [
        (Channel.EMAIL, "  Maria.Garcia@Example.COM ", None, "maria.garcia@example.com"),
        (Channel.PHONE, "+1 (415) 555-0132", None, "+14155550132"),
        (Channel.PHONE, "(415) 555-0132", "US", "+14155550132"),
        (Channel.PHONE, "612 345 678", "ES", "+34612345678"),
        (Channel.PHONE, "0034 612 34 56 78", "DE", "+34612345678"),
        (Channel.SOCIAL, "Twitter:@Maria_G", None, "twitter:maria_g"),
        (Channel.CHAT, "v-123abc", None, "v-123abc"),
    ],
)
def test_contact_normalise_gives_one_canonical_form(channel, raw, region, expected):
    assert contact_normalise(channel=channel, value=raw, region=region) == expected


@pytest.mark.parametrize(
    ("channel", "raw"),
    [
        (Channel.EMAIL, "not-an-email"),
        (Channel.EMAIL, ""),
        (Channel.PHONE, "12"),
        (Channel.PHONE, "call me maybe"),
        (Channel.SOCIAL, "maria"),
        ("fax", "123"),
    ],
)
def test_contact_normalise_rejects_what_is_not_a_contact(channel, raw):
    with pytest.raises(ValidationError):
        contact_normalise(channel=channel, value=raw)
