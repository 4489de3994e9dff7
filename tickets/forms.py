from django import forms
from django.contrib.auth import get_user_model

from customers.models import Channel

from .models import Priority, Ticket


class ReplyForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 5}))
    channel = forms.ChoiceField(label="Send on", choices=Channel.choices)
    internal = forms.BooleanField(label="Internal note (customer never sees it)", required=False)

    def __init__(self, *args, channels: list[str], default_channel: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Channel.choices)
        # Notes may be filed on any channel; replies only where the customer can be reached.
        self.fields["channel"].choices = [(c, labels[c]) for c in channels] or [
            (c, labels[c]) for c, _ in Channel.choices
        ]
        if default_channel in channels:
            self.fields["channel"].initial = default_channel


class TicketUpdateForm(forms.Form):
    status = forms.ChoiceField(choices=Ticket.Status.choices)
    priority = forms.ChoiceField(choices=Priority.choices)
    assignee = forms.ModelChoiceField(
        queryset=get_user_model().objects.filter(is_active=True).order_by("username"),
        required=False,
        empty_label="Unassigned",
    )
