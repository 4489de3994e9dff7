from django import forms

from .merge import MERGE_FIELDS, MERGED, SURVIVOR
from .models import Channel, Customer

FIELD_LABELS = {
    "first_name": "First name",
    "last_name": "Last name",
    "preferred_name": "Preferred name",
    "locale": "Language",
    "timezone": "Timezone",
    "country": "Country",
}


class TimelineFilterForm(forms.Form):
    kind = forms.ChoiceField(label="Show", required=False)
    channel = forms.ChoiceField(label="Channel", choices=[("", "Every channel"), *Channel.choices], required=False)
    before = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, kinds: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", "Everything"), *((code, str(label)) for code, label in kinds.items())]

    def values(self) -> tuple[list[str] | None, str | None, str | None]:
        """(kinds, channel, cursor); unknown values are ignored rather than refused."""
        kind = self.data.get("kind", "")
        channel = self.data.get("channel", "")
        kinds = [kind] if kind in dict(self.fields["kind"].choices) and kind else None
        channel = channel if channel in Channel.values else None
        return kinds, channel, self.data.get("before") or None


class MergeForm(forms.Form):
    """Which of the two customers survives, and whose value wins for each profile field.

    Field choices name a customer ("this" is the page's customer, "other" the candidate), so
    the agent's choice stays right whichever of the two they make the survivor.
    """

    survivor = forms.ChoiceField(
        label="Which record survives?",
        choices=[("this", "this"), ("other", "other")],
        widget=forms.RadioSelect,
        initial="this",
    )
    reason = forms.CharField(label="Why are they the same person?", max_length=255, required=False)

    def __init__(
        self,
        *args,
        this: Customer,
        other: Customer,
        defaults: dict[str, str] | None = None,
        survivor: str = "this",
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.this, self.other = this, other
        self.fields["survivor"].initial = survivor
        self.fields["survivor"].choices = [
            ("this", f"{this.display_name} (#{this.pk})"),
            ("other", f"{other.display_name} (#{other.pk})"),
        ]
        for name in MERGE_FIELDS:
            self.fields[f"field_{name}"] = forms.ChoiceField(
                label=FIELD_LABELS[name],
                choices=[("this", self._shown(this, name)), ("other", self._shown(other, name))],
                widget=forms.RadioSelect,
                initial=(defaults or {}).get(name, "this"),
            )

    @staticmethod
    def _shown(customer: Customer, name: str) -> str:
        value = getattr(customer, name)
        if name == "locale" and value:
            return f"{customer.get_locale_display()} ({value})"
        return str(value) if value else "(empty)"

    def field_rows(self) -> list[tuple[str, str, forms.BoundField, bool]]:
        """(name, label, bound field, whether both records hold the same value): a field the
        two agree on needs no choice, the page just says so."""
        return [
            (name, FIELD_LABELS[name], self[f"field_{name}"], getattr(self.this, name) == getattr(self.other, name))
            for name in MERGE_FIELDS
        ]

    def merge_arguments(self) -> dict:
        """survivor, merged and field_choices for ``customer_merge``."""
        keep_this = self.cleaned_data["survivor"] == "this"
        survivor, merged = (self.this, self.other) if keep_this else (self.other, self.this)
        choices = {}
        for name in MERGE_FIELDS:
            picked = self.cleaned_data[f"field_{name}"]
            choices[name] = SURVIVOR if (picked == "this") == keep_this else MERGED
        return {"survivor": survivor, "merged": merged, "field_choices": choices, "reason": self.cleaned_data["reason"]}
