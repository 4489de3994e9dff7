"""Forms of the privacy pages: they check the shape of input; services enforce the rules."""

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet

from ..models import AuditEvent, ConsentPurpose, RetentionRule
from .erasure import MIN_REASON_LENGTH
from .purposes import translation_languages

GRANTED_CHOICES = [("1", "Granted"), ("0", "Withdrawn")]
ERASE_CONFIRMATION = "ERASE"


def _granted_field() -> forms.TypedChoiceField:
    return forms.TypedChoiceField(
        label="Decision",
        choices=GRANTED_CHOICES,
        coerce=lambda value: value == "1",
        widget=forms.RadioSelect,
    )


class PurposeForm(forms.Form):
    code = forms.SlugField(
        max_length=50, help_text="Lower case, e.g. newsletters. It cannot change later: macros and rules refer to it."
    )
    name = forms.CharField(max_length=100, help_text="Short, as the customer reads it.")
    description = forms.CharField(
        label="Wording the customer reads",
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Changing it creates a new version; decisions keep pointing at the version the customer saw.",
    )
    lawful_basis = forms.ChoiceField(choices=ConsentPurpose.LawfulBasis.choices)
    default_granted = forms.BooleanField(label="Granted by default (for customers who never decided)", required=False)
    active = forms.BooleanField(label="Active (an inactive purpose allows nothing)", required=False, initial=True)
    position = forms.IntegerField(min_value=0, initial=0, help_text="Order on the preference centre.")

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]
        for code, language in translation_languages():
            self.fields[f"name_{code}"] = forms.CharField(label=f"Name ({language})", max_length=100, required=False)
            self.fields[f"description_{code}"] = forms.CharField(
                label=f"Wording ({language})", widget=forms.Textarea(attrs={"rows": 2}), required=False
            )

    @staticmethod
    def initial_for(purpose: ConsentPurpose) -> dict:
        initial = {
            field: getattr(purpose, field)
            for field in ("name", "description", "lawful_basis", "default_granted", "active", "position")
        }
        for code, entry in (purpose.translations or {}).items():
            initial[f"name_{code}"] = entry.get("name", "")
            initial[f"description_{code}"] = entry.get("description", "")
        return initial

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith(("name_", "description_"))]

    def translation_fields(self) -> list[tuple[forms.BoundField, forms.BoundField]]:
        return [(self[f"name_{code}"], self[f"description_{code}"]) for code, _ in translation_languages()]

    def service_kwargs(self) -> dict:
        data = self.cleaned_data
        kwargs = {
            field: data[field]
            for field in ("name", "description", "lawful_basis", "default_granted", "active", "position")
        }
        kwargs["translations"] = {
            code: {"name": data.get(f"name_{code}", ""), "description": data.get(f"description_{code}", "")}
            for code, _ in translation_languages()
        }
        return kwargs


def _purpose_choices(purposes) -> list[tuple[str, str]]:
    return [(purpose.code, purpose.name) for purpose in purposes]


class DecisionForm(forms.Form):
    """An admin records a decision the customer made outside the desk (a letter, a call)."""

    purpose = forms.ChoiceField()
    granted = _granted_field()
    note = forms.CharField(
        label="Reason", widget=forms.Textarea(attrs={"rows": 2}), help_text="Why you record it, and on what basis."
    )
    evidence = forms.CharField(
        max_length=255, required=False, help_text="Where the decision is documented, e.g. letter of 3 May."
    )

    def __init__(self, *args, purposes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = _purpose_choices(purposes)


class AgentDecisionForm(forms.Form):
    """An agent records what the customer said in a conversation."""

    purpose = forms.ChoiceField()
    granted = _granted_field()
    message = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    evidence = forms.CharField(
        label="Where the customer said it", max_length=200, required=False, help_text="e.g. phone call of 3 May."
    )
    note = forms.CharField(label="Note (optional)", max_length=500, required=False)

    def __init__(self, *args, purposes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["purpose"].choices = _purpose_choices(purposes)

    def clean(self):
        data = super().clean()
        if not data.get("message") and not (data.get("evidence") or "").strip():
            raise forms.ValidationError("Point at the message where the customer said it, or say where they did.")
        return data


class ExportForm(forms.Form):
    reason = forms.CharField(
        max_length=500, required=False, help_text="e.g. access request received by email on 3 May."
    )


def erasure_approvers(*, exclude_pk: int | None) -> QuerySet:
    """Active users who may erase customers: admins through their group, or superusers."""
    holders = Q(is_superuser=True) | Q(
        groups__permissions__codename="erase_customer", groups__permissions__content_type__app_label="customers"
    )
    holders |= Q(user_permissions__codename="erase_customer", user_permissions__content_type__app_label="customers")
    return (
        get_user_model().objects.filter(holders, is_active=True).exclude(pk=exclude_pk).distinct().order_by("username")
    )


class ErasureForm(forms.Form):
    reason = forms.CharField(
        label="Why",
        min_length=MIN_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="e.g. erasure request received by email on 3 May. Kept in the audit log.",
    )
    approved_by = forms.ModelChoiceField(
        queryset=get_user_model().objects.none(),
        required=False,
        label="Approved by",
        empty_label="Me (my reason above is the justification)",
    )
    confirm = forms.CharField(label=f"Type {ERASE_CONFIRMATION} to confirm", max_length=10)

    def __init__(self, *args, requester_pk: int | None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["approved_by"].queryset = erasure_approvers(exclude_pk=requester_pk)

    def clean_confirm(self) -> str:
        value = self.cleaned_data["confirm"].strip()
        if value.upper() != ERASE_CONFIRMATION:
            raise forms.ValidationError(f"Type {ERASE_CONFIRMATION} to confirm.")
        return value


class LegalHoldForm(forms.Form):
    hold = forms.TypedChoiceField(
        choices=[("1", "Place"), ("0", "Lift")], coerce=lambda v: v == "1", widget=forms.HiddenInput
    )
    reason = forms.CharField(max_length=500)


class ConsentImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="Columns: email or customer (public id), purpose, granted; optional recorded_at, note, evidence.",
    )


DAYS_PER_MONTH = 30


class RetentionRuleForm(forms.Form):
    after_days = forms.IntegerField(label="After (days)", min_value=1, max_value=36500)
    active = forms.BooleanField(label="Active", required=False)

    @classmethod
    def initial_for(cls, rule: RetentionRule | None) -> dict:
        return {"after_days": rule.after_days if rule else "", "active": rule.active if rule else False}


class TicketRetentionRuleForm(forms.Form):
    """Closed tickets are kept for months; the rule stores days (a month counts as 30)."""

    after_months = forms.IntegerField(
        label="After (months)", min_value=1, max_value=1200, help_text="A month counts as 30 days."
    )
    active = forms.BooleanField(label="Active", required=False)

    @classmethod
    def initial_for(cls, rule: RetentionRule | None) -> dict:
        months = max(1, round(rule.after_days / DAYS_PER_MONTH)) if rule else ""
        return {"after_months": months, "active": rule.active if rule else False}

    def clean(self):
        data = super().clean()
        if data.get("after_months"):
            data["after_days"] = data.pop("after_months") * DAYS_PER_MONTH
        return data


RETENTION_RULE_FORMS: dict[str, type[forms.Form]] = {
    RetentionRule.Kind.PURGE_EVENTS: RetentionRuleForm,
    RetentionRule.Kind.ANONYMISE_TICKETS: TicketRetentionRuleForm,
}


class RetentionPreviewForm(forms.Form):
    """A dry run over ``after_days``, or ``after_months`` (30 days each) for closed tickets."""

    kind = forms.ChoiceField(choices=RetentionRule.Kind.choices)
    after_days = forms.IntegerField(min_value=1, max_value=36500, required=False)
    after_months = forms.IntegerField(min_value=1, max_value=1200, required=False)

    def clean(self):
        data = super().clean()
        if data.get("after_months"):
            data["after_days"] = data["after_months"] * DAYS_PER_MONTH
        if not data.get("after_days") and not self.errors:
            raise forms.ValidationError("Give the number of days (or months) to preview.")
        return data


class AuditFilterForm(forms.Form):
    actor = forms.CharField(required=False, max_length=150, help_text="User name, or a label such as system.")
    customer = forms.CharField(required=False, max_length=254, help_text="Id, public id or email.")
    action = forms.ChoiceField(required=False, choices=[("", "Any action"), *AuditEvent.Action.choices])
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To (inclusive)", widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The start date comes after the end date.")
        return data


class PreferenceForm(forms.Form):
    purpose = forms.SlugField(max_length=50)
    granted = forms.TypedChoiceField(choices=[("1", "1"), ("0", "0")], coerce=lambda v: v == "1")
    wording = forms.IntegerField(required=False, min_value=1)


class CustomerSearchForm(forms.Form):
    q = forms.CharField(label="Customer", required=False, max_length=254, help_text="Name, email, id or public id.")
