"""REST API for suggestions (mounted under ``/api/v1/`` through ``api_urls``).

- ``GET /api/v1/customers/{public_id}/suggestions/`` (``?ticket=<id>``, ``?limit=1..10``): the
  top suggestions, ``{"results": [...], "next": null, "blocked": [...]}``; each reads
  ``{"id", "rule", "title", "reason", "channel", "action", "score", "purposes", "variant"}``
  plus ``url`` and ``rule_version``. ``blocked`` lists what consent holds back, with why.
- ``POST /api/v1/suggestions/{id}/feedback/`` ``{"verdict": "accepted"|"dismissed"|"snoozed",
  "reason": "...", "until": "<datetime>", "ticket": <id>}``: records the verdict (a dismissal
  needs a reason, a snooze an ``until``); accepting answers the reply text rendered for the
  customer. Errors use the API's one shape.
"""

from django.http import Http404
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from customers.models import Customer, SuggestionFeedback
from supportdesk.api.authentication import request_actor
from supportdesk.api.base import DeskApiView

from .feedback import suggestion_accept, suggestion_dismiss, suggestion_snooze
from .registry import SuggestionRef
from .selectors import suggestion_panel

Verdict = SuggestionFeedback.Verdict
MAX_ID = 2**63 - 1


class SuggestionSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Opaque, signed; post feedback to /api/v1/suggestions/{id}/feedback/.")
    rule = serializers.CharField()
    rule_version = serializers.IntegerField()
    variant = serializers.CharField(help_text="A/B variant of the rule this customer is in; empty without variants.")
    title = serializers.CharField()
    reason = serializers.CharField(help_text="Why, in plain words, with the data behind it.")
    channel = serializers.CharField()
    action = serializers.CharField(help_text="Reply text (macro placeholders unfilled); empty when none.")
    url = serializers.CharField(help_text="A desk page the suggestion is about; empty when none.")
    score = serializers.FloatField()
    purposes = serializers.ListField(child=serializers.CharField(), help_text="Consent purposes it needs.")


class BlockedSerializer(serializers.Serializer):
    rule = serializers.CharField(source="suggestion.rule")
    title = serializers.CharField(source="suggestion.title")
    missing = serializers.ListField(child=serializers.CharField())
    why = serializers.CharField()


class SuggestionListSerializer(serializers.Serializer):
    results = SuggestionSerializer(many=True)
    next = serializers.CharField(allow_null=True, help_text="Always null: the list is the top few.")
    blocked = BlockedSerializer(many=True)


class SuggestionQuerySerializer(serializers.Serializer):
    ticket = serializers.IntegerField(required=False, min_value=1, max_value=MAX_ID)
    limit = serializers.IntegerField(required=False, min_value=1, max_value=10)


class FeedbackSerializer(serializers.Serializer):
    verdict = serializers.ChoiceField(choices=Verdict.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=255, default="")
    until = serializers.DateTimeField(required=False, help_text="Snooze until then (at most 30 days ahead).")
    ticket = serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_ID, help_text="The conversation it is used in."
    )

    def validate(self, attrs):
        if attrs["verdict"] == Verdict.SNOOZED and not attrs.get("until"):
            raise serializers.ValidationError({"until": ["A snooze needs an end."]})
        if attrs["verdict"] == Verdict.DISMISSED and not attrs.get("reason", "").strip():
            raise serializers.ValidationError({"reason": ["Say why it is dismissed."]})
        return attrs


class FeedbackResultSerializer(serializers.Serializer):
    verdict = serializers.CharField()
    rule = serializers.CharField()
    variant = serializers.CharField()
    until = serializers.DateTimeField(allow_null=True, help_text="Hidden for this customer until then.")
    action = serializers.CharField(allow_null=True, help_text="Accepted: the reply text, placeholders filled.")
    problems = serializers.ListField(child=serializers.CharField(), help_text="What to fix before sending it.")


def _valid(serializer_class, data):
    serializer = serializer_class(data=data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class CustomerSuggestionsView(DeskApiView):
    """A customer's suggested next actions, best first."""

    read_permissions = ("customers.view_customer",)

    @extend_schema(
        summary="A customer's suggested next actions",
        tags=["suggestions"],
        parameters=[SuggestionQuerySerializer],
        responses={200: SuggestionListSerializer},
    )
    def get(self, request, public_id):
        customer = Customer.objects.filter(public_id=public_id).first()
        if customer is None:
            raise Http404
        unknown = set(request.query_params) - set(SuggestionQuerySerializer().fields)
        if unknown:
            raise serializers.ValidationError({name: ["Unknown query parameter."] for name in sorted(unknown)})
        query = _valid(SuggestionQuerySerializer, request.query_params)
        agent, _label = request_actor(request)
        panel = suggestion_panel(
            customer=customer, agent=agent, ticket_id=query.get("ticket"), limit=query.get("limit")
        )
        body = {"results": panel.suggestions, "next": None, "blocked": panel.blocked}
        return Response(SuggestionListSerializer(body).data)


class SuggestionFeedbackView(DeskApiView):
    """Accept, dismiss or snooze a suggestion (by the id the list gave)."""

    write_permissions = ("customers.add_suggestionfeedback",)

    @extend_schema(
        summary="Give feedback on a suggestion",
        tags=["suggestions"],
        request=FeedbackSerializer,
        responses={201: FeedbackResultSerializer},
    )
    def post(self, request, suggestion_id):
        ref = SuggestionRef.from_token(suggestion_id)
        data = _valid(FeedbackSerializer, request.data)
        agent, _label = request_actor(request)
        action, problems = None, []
        if data["verdict"] == Verdict.ACCEPTED:
            accepted = suggestion_accept(ref=ref, agent=agent, ticket_id=data.get("ticket"))
            feedback, action, problems = accepted.feedback, accepted.text, accepted.problems
        elif data["verdict"] == Verdict.DISMISSED:
            feedback = suggestion_dismiss(ref=ref, agent=agent, reason=data["reason"])
        else:
            feedback = suggestion_snooze(ref=ref, agent=agent, until=data["until"], reason=data.get("reason", ""))
        body = {
            "verdict": feedback.verdict,
            "rule": feedback.rule,
            "variant": feedback.variant,
            "until": feedback.until,
            "action": action,
            "problems": problems,
        }
        return Response(FeedbackResultSerializer(body).data, status=status.HTTP_201_CREATED)


# Splice into ``v1`` of supportdesk/api/urls.py: ``*suggestions_api.api_urls,``
api_urls = [
    path(
        "customers/<uuid:public_id>/suggestions/",
        CustomerSuggestionsView.as_view(),
        name="customer-suggestions",
    ),
    path("suggestions/<str:suggestion_id>/feedback/", SuggestionFeedbackView.as_view(), name="suggestion-feedback"),
]
