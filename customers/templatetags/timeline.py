"""The customer timeline's items, rendered in Python (one ``format_html`` an item).

A customer view shows 25 items; through the template engine each cost hundreds of lookups.
The markup is what ``customers/partials/timeline.html`` had in its loop.
"""

from django import template
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from supportdesk.templatetags.desk import day_at, iso

register = template.Library()

_ITEM = (
    '<li class="tl-item tl-{kind}{private_class}">\n'
    '    <time datetime="{at}">{at_text}</time>\n'
    '    <span class="tl-kind">{kind_label}</span>\n'
    "    {channel}{private}{badge}\n"
    '    <div class="tl-title">{title}</div>\n'
    "    {detail}\n"
    "  </li>\n"
)
_INTERNAL = mark_safe('<span class="badge note-badge">Internal</span>')


@register.simple_tag
def timeline_items(items) -> SafeString:
    """The ``<li>`` of each timeline item (``customers.timeline.TimelineItem``)."""
    return format_html_join(
        "",
        "{}",
        (
            (
                format_html(
                    _ITEM,
                    kind=item.kind,
                    private_class=" tl-private" if item.private else "",
                    at=iso(item.at),
                    at_text=day_at(item.at),
                    kind_label=item.kind_label,
                    channel=format_html('<span class="channel channel-{}">{}</span>', item.channel, item.channel_label)
                    if item.channel
                    else "",
                    private=_INTERNAL if item.private else "",
                    badge=format_html('<span class="badge">{}</span>', item.badge) if item.badge else "",
                    title=format_html('<a href="{}">{}</a>', item.url, item.title) if item.url else item.title,
                    detail=format_html('<div class="tl-detail">{}</div>', item.detail) if item.detail else "",
                ),
            )
            for item in items
        ),
    )
