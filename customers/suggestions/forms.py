"""The shape of an agent's verdict on a suggestion, as the panel's forms post it."""

from datetime import datetime, timedelta

from django import forms
from django.utils import timezone

from customers.models import SuggestionFeedback

DISMISS_REASONS = [
    ("Not relevant now", "Not relevant now"),
    ("Already done", "Already done"),
    ("The customer declined", "The customer declined"),
    ("The reason is wrong", "The reason is wrong"),
    ("Other", "Other"),
]
SNOOZE_HOURS = [(1, "1 hour"), (4, "4 hours"), (24, "1 day"), (72, "3 days"), (168, "1 week")]


class SuggestionFeedbackForm(forms.Form):
    verdict = forms.ChoiceField(choices=SuggestionFeedback.Verdict.choices)
    reason = forms.ChoiceField(choices=DISMISS_REASONS, required=False)
    note = forms.CharField(max_length=200, required=False)
    hours = forms.TypedChoiceField(choices=SNOOZE_HOURS, coerce=int, required=False, empty_value=None)
    ticket = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    next = forms.CharField(max_length=500, required=False)

    def clean(self):
        data = super().clean()
        verdict = data.get("verdict")
        if verdict == SuggestionFeedback.Verdict.DISMISSED and not (data.get("reason") or data.get("note")):
            self.add_error("reason", "Choose why you dismiss it.")
        if verdict == SuggestionFeedback.Verdict.SNOOZED and not data.get("hours"):
            self.add_error("hours", "Choose how long to snooze it.")
        return data

    def dismiss_reason(self) -> str:
        reason, note = self.cleaned_data.get("reason") or "", (self.cleaned_data.get("note") or "").strip()
        if note and reason and reason != "Other":
            return f"{reason}: {note}"
        return note or reason

    def snooze_until(self) -> datetime:
        return timezone.now() + timedelta(hours=self.cleaned_data["hours"])
