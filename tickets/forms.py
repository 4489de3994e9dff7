from django import forms

from customers.models import Channel

from .models import Priority, Team, Ticket
from .selectors import INBOX_SORTS, INBOX_VIEWS, SLA_FILTERS, TEAM_VIEW, InboxQuery, assignable_agents


class ReplyForm(forms.Form):
    body = forms.CharField(label="Message", widget=forms.Textarea(attrs={"rows": 6}))
    channel = forms.ChoiceField(label="Send on", choices=Channel.choices)
    internal = forms.BooleanField(label="Internal note (customer never sees it)", required=False)
    # The macro the text was started from, set when the agent inserts a preview: its consent
    # purpose then applies to the reply.
    macro = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, channels: list[str], default_channel: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        labels = dict(Channel.choices)
        # Notes may be filed on any channel; replies only where the customer can be reached.
        self.fields["channel"].choices = [(c, labels[c]) for c in channels] or [
            (c, labels[c]) for c, _ in Channel.choices
        ]
        if default_channel in channels:
            self.fields["channel"].initial = default_channel


class AgentChoiceField(forms.ModelChoiceField):
    """Agents by the name colleagues know them by, not their login."""

    def label_from_instance(self, obj) -> str:
        return obj.get_full_name() or obj.get_username()


class TicketUpdateForm(forms.Form):
    """Any subset of the ticket's fields; the view changes only those that were posted."""

    status = forms.ChoiceField(choices=Ticket.Status.choices, required=False)
    priority = forms.ChoiceField(choices=Priority.choices, required=False)
    assignee = AgentChoiceField(queryset=None, required=False, empty_label="Unassigned")
    team = forms.ModelChoiceField(queryset=None, required=False, empty_label="No team")
    tags = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Separate tags with commas.",
        widget=forms.TextInput(attrs={"list": "known-tags", "autocomplete": "off"}),
    )

    FIELDS = ("status", "priority", "assignee", "team", "tags")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignable_agents()
        self.fields["team"].queryset = Team.objects.order_by("name")

    def posted(self) -> list[str]:
        """The fields the request carried (a field left out is left alone)."""
        return [name for name in self.FIELDS if name in self.data]

    def tag_names(self) -> list[str]:
        return [part.strip() for part in self.cleaned_data.get("tags", "").split(",") if part.strip()]


def _choice(value: str, allowed) -> str:
    return value if value in allowed else ""


class InboxFilterForm(forms.Form):
    """The inbox's query string. Lenient: an unknown value is dropped, never an error page."""

    view = forms.CharField(required=False)
    team = forms.IntegerField(required=False, min_value=1)
    channel = forms.ChoiceField(label="Channel", choices=[("", "Any channel"), *Channel.choices], required=False)
    status = forms.ChoiceField(label="Status", choices=[("", "Any status"), *Ticket.Status.choices], required=False)
    priority = forms.ChoiceField(label="Priority", choices=[("", "Any priority"), *Priority.choices], required=False)
    tag = forms.CharField(label="Tag", required=False, max_length=50)
    sla = forms.ChoiceField(
        label="SLA", choices=[("", "Any SLA state"), *((k, v) for k, v in SLA_FILTERS.items())], required=False
    )
    sort = forms.ChoiceField(
        label="Sort by", choices=[(key, label) for key, (label, _order) in INBOX_SORTS.items()], required=False
    )

    def inbox_query(self) -> InboxQuery:
        data = self.data
        view = data.get("view", "open")
        team = data.get("team", "")
        # ASCII digits only ("²".isdigit() is true, int() refuses it), and no longer than an id can be.
        if view == TEAM_VIEW and team.isascii() and team.isdigit() and len(team) <= 18:
            team_id = int(team)
        else:
            view, team_id = _choice(view, INBOX_VIEWS) or "open", None
        return InboxQuery(
            view=view,
            team=team_id,
            channel=_choice(data.get("channel", ""), Channel.values),
            status=_choice(data.get("status", ""), Ticket.Status.values),
            priority=_choice(data.get("priority", ""), Priority.values),
            tag=(data.get("tag") or "").strip()[:50],
            sla=_choice(data.get("sla", ""), SLA_FILTERS),
            sort=_choice(data.get("sort", ""), INBOX_SORTS) or "activity",
        )
