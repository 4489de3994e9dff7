"""Timeline items rendered in Python: the markup, the optional parts and the escaping."""

from datetime import UTC, datetime

from django.utils import translation

from customers.models import Channel
from customers.templatetags.timeline import timeline_items
from customers.timeline import TimelineItem
from supportdesk.labels import choice_label

AT = datetime(2026, 5, 12, 9, 30, tzinfo=UTC)


def test_an_item_with_every_part():
    item = TimelineItem(
        at=AT,
        kind="message",
        kind_label="Message",
        channel="email",
        title="Re: <b>boots</b>",
        detail='Size 42 "please"',
        url="/tickets/7/#message-9",
        badge="Failed",
    )
    html = timeline_items([item])
    assert html.startswith('<li class="tl-item tl-message">')
    assert '<time datetime="2026-05-12T09:30:00+00:00">12 May 2026, 09:30</time>' in html
    assert '<span class="channel channel-email">Email</span>' in html
    assert '<span class="badge">Failed</span>' in html
    assert '<div class="tl-title"><a href="/tickets/7/#message-9">Re: &lt;b&gt;boots&lt;/b&gt;</a></div>' in html
    assert '<div class="tl-detail">Size 42 &quot;please&quot;</div>' in html
    assert "Internal" not in html


def test_a_private_note_without_channel_url_or_detail():
    html = timeline_items([TimelineItem(at=AT, kind="note", kind_label="Note", channel="", title="x", private=True)])
    assert 'class="tl-item tl-note tl-private"' in html
    assert '<span class="badge note-badge">Internal</span>' in html
    assert "channel-" not in html and "tl-detail" not in html and "<a " not in html
    assert timeline_items([]) == ""


def test_channel_labels_come_from_the_choices_in_the_active_language():
    with translation.override("en"):
        assert choice_label(Channel, "email") == str(dict(Channel.choices)["email"])
        assert choice_label(Channel, "pigeon") == "pigeon"
