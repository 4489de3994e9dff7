"""Agents' feedback on suggestions: the services, acceptance per rule and variant, the panel
and its views (htmx and plain forms)."""

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from customers.models import Channel, Order, SuggestionFeedback
from customers.services import consent_record
from customers.suggestions.engine import SuggestionPanel
from customers.suggestions.feedback import (
    acceptance_by_rule,
    suggestion_accept,
    suggestion_dismiss,
    suggestion_feedback_record,
    suggestion_snooze,
)
from customers.suggestions.forms import DISMISS_REASONS, SNOOZE_HOURS
from customers.suggestions.registry import Suggestion, SuggestionRef
from customers.suggestions.selectors import suggestion_panel, suggestions_for_customer
from tests.factories import ContactPointFactory, CustomerFactory, OrderFactory, TicketFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _cold_cache():
    cache.clear()


@pytest.fixture
def late():
    """A customer with a late order (order_delayed) writing for the first time (first_contact)."""
    customer = CustomerFactory(first_name="Maria", preferred_name="")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    order = OrderFactory(
        customer=customer,
        number="1042",
        status=Order.Status.SHIPPED,
        promised_delivery=timezone.localdate() - timedelta(days=4),
        carrier="DHL",
        tracking_number="JD0142",
    )
    ticket = TicketFactory(customer=customer, channel=Channel.EMAIL, subject="Where are my boots?")
    return customer, order, ticket


def ref_of(customer, ticket, rule):
    suggestion = next(s for s in suggestions_for_customer(customer=customer, ticket=ticket, limit=20) if s.rule == rule)
    return suggestion.ref


class TestServices:
    def test_accept_renders_the_reply_for_the_customer_and_hides_it_for_a_day(self, late, agent):
        customer, order, ticket = late
        ref = ref_of(customer, ticket, "order_delayed")

        accepted = suggestion_accept(ref=ref, agent=agent, ticket_id=ticket.pk)

        assert accepted.text.startswith("Hi Maria,\n\nI'm sorry: order #1042 was due on")
        assert accepted.text.endswith("Best regards,\nAgent") and accepted.problems == []
        feedback = accepted.feedback
        assert (feedback.rule, feedback.subject, feedback.verdict, feedback.agent) == (
            "order_delayed",
            f"order:{order.pk}",
            "accepted",
            agent,
        )
        assert timedelta(hours=23) < feedback.until - timezone.now() <= timedelta(hours=24)
        assert "order_delayed" not in {s.rule for s in suggestions_for_customer(customer=customer, ticket=ticket)}

    def test_accepting_what_no_longer_applies_is_refused(self, late, agent):
        customer, order, ticket = late
        ref = ref_of(customer, ticket, "order_delayed")
        Order.objects.filter(pk=order.pk).update(status=Order.Status.DELIVERED)

        with pytest.raises(ValidationError, match="no longer applies"):
            suggestion_accept(ref=ref, agent=agent, ticket_id=ticket.pk)
        assert not SuggestionFeedback.objects.exists()

    def test_accepting_what_consent_now_forbids_is_refused_with_why(self, late, agent):
        customer, _, ticket = late
        customer.churn_risk, customer.churn_factors = 0.9, {"Recency": "No order for 200 days"}
        customer.save()
        ref = ref_of(customer, ticket, "churn_risk")
        consent_record(customer=customer, purpose="personalization", granted=False, source="customer")

        with pytest.raises(ValidationError, match="Personalised service not granted"):
            suggestion_accept(ref=ref, agent=agent, ticket_id=ticket.pk)

    def test_dismiss_needs_a_reason_and_hides_for_the_rule_s_cap(self, late, agent):
        customer, _, ticket = late
        ref = ref_of(customer, ticket, "order_delayed")

        with pytest.raises(ValidationError, match="Say why"):
            suggestion_dismiss(ref=ref, agent=agent, reason="  ")
        feedback = suggestion_dismiss(ref=ref, agent=agent, reason="Already done")

        assert feedback.reason == "Already done" and (feedback.until - feedback.created_at).days == 7
        in_six_days = suggestion_panel(customer=customer, ticket=ticket, now=timezone.now() + timedelta(days=6))
        in_eight_days = suggestion_panel(customer=customer, ticket=ticket, now=timezone.now() + timedelta(days=8))
        assert "order_delayed" not in {s.rule for s in in_six_days.suggestions}
        assert "order_delayed" in {s.rule for s in in_eight_days.suggestions}

    def test_cross_sell_dismissals_last_thirty_days(self, late, agent):
        customer = late[0]
        ref = SuggestionRef(customer.pk, "cross_sell", "product:3")

        feedback = suggestion_dismiss(ref=ref, agent=agent, reason="Not relevant now")

        assert (feedback.until - feedback.created_at).days == 30

    def test_snooze_must_end_in_the_next_thirty_days(self, late, agent):
        ref = SuggestionRef(late[0].pk, "vip")
        now = timezone.now()

        for until in (now - timedelta(minutes=1), now + timedelta(days=31)):
            with pytest.raises(ValidationError):
                suggestion_snooze(ref=ref, agent=agent, until=until)
        assert suggestion_snooze(ref=ref, agent=agent, until=now + timedelta(hours=4)).until > now

    def test_unknown_rules_and_verdicts_are_refused(self, late, agent):
        with pytest.raises(ValidationError, match="Unknown suggestion rule"):
            suggestion_feedback_record(ref=SuggestionRef(late[0].pk, "nope"), verdict="accepted", agent=agent)
        with pytest.raises(ValidationError, match="Use one of"):
            suggestion_feedback_record(ref=SuggestionRef(late[0].pk, "vip"), verdict="loved", agent=agent)

    def test_an_erased_customer_takes_no_feedback(self, agent):
        customer = CustomerFactory(erased=True)

        with pytest.raises(ValidationError, match="erased"):
            suggestion_dismiss(ref=SuggestionRef(customer.pk, "vip"), agent=agent, reason="x")


def test_acceptance_by_rule_and_variant():
    customer = CustomerFactory()
    start = timezone.now() - timedelta(days=10)
    rows = [("churn_risk", "gesture", "accepted")] * 3 + [("churn_risk", "gesture", "dismissed")]
    rows += [("churn_risk", "check_in", "dismissed"), ("churn_risk", "check_in", "snoozed"), ("vip", "", "snoozed")]
    SuggestionFeedback.objects.bulk_create(
        SuggestionFeedback(customer=customer, rule=r, variant=v, verdict=x, created_at=start + timedelta(days=1))
        for r, v, x in rows
    )
    SuggestionFeedback.objects.create(
        customer=customer, rule="churn_risk", variant="gesture", verdict="dismissed", created_at=start - timedelta(1)
    )

    result = acceptance_by_rule(since=start, until=timezone.now())

    assert result == [
        {"rule": "churn_risk", "variant": "check_in", "accepted": 0, "dismissed": 1, "snoozed": 1, "total": 2,
         "acceptance": 0.0},
        {"rule": "churn_risk", "variant": "gesture", "accepted": 3, "dismissed": 1, "snoozed": 0, "total": 4,
         "acceptance": 75.0},
        {"rule": "vip", "variant": "", "accepted": 0, "dismissed": 0, "snoozed": 1, "total": 1, "acceptance": None},
    ]  # fmt: skip


# The panel and its views ----------------------------------------------------------------------


class TestPanel:
    def test_the_partial_shows_title_reason_channel_score_and_every_control_with_a_label(self, late, rf, agent):
        customer, _, ticket = late
        request = rf.get(f"/tickets/{ticket.pk}/")
        request.user = agent
        panel = suggestion_panel(customer=customer, ticket=ticket)

        html = render_to_string("customers/partials/suggestions.html", {"suggestions": panel}, request=request)

        assert 'id="suggestions"' in html and "Suggested next actions" in html
        assert "Apologise for late order #1042 and share tracking" in html
        assert "Order #1042 was promised for" in html and "Email" in html and "score 8" in html
        for control in re.findall(r'<(?:select|input|textarea)[^>]*\bid="([^"]+)"', html):
            assert f'for="{control}"' in html, control
        assert ' style="' not in html and "<script" not in html
        assert f'name="ticket" value="{ticket.pk}"' in html and f'name="next" value="/tickets/{ticket.pk}/"' in html
        assert html.count('hx-post="/suggestions/') == 3 * len(panel.suggestions)

    def test_the_option_lists_match_the_form(self, rf, agent):
        request = rf.get("/")
        request.user = agent
        panel = SuggestionPanel(customer_id=1, suggestions=[Suggestion("vip", "T", "R", customer_id=1)])

        html = render_to_string("customers/partials/suggestions.html", {"suggestions": panel}, request=request)

        for value, _ in DISMISS_REASONS:
            assert f'<option value="{value}">' in html
        for hours, _ in SNOOZE_HOURS:
            assert f'<option value="{hours}"' in html

    def test_blocked_suggestions_are_listed_collapsed_with_why(self, late, rf, agent):
        customer, _, ticket = late
        customer.churn_risk = 0.9
        customer.save()
        consent_record(customer=customer, purpose="personalization", granted=False, source="customer")
        request = rf.get("/")
        request.user = agent

        html = render_to_string(
            "customers/partials/suggestions.html",
            {"suggestions": suggestion_panel(customer=customer, ticket=ticket)},
            request=request,
        )

        assert '<details class="suggestions-blocked">' in html and "held back for consent" in html
        assert "Personalised service not granted (withdrawn" in html


class TestViews:
    def test_the_panel_view_renders_for_agents(self, late, agent_client):
        customer, _, ticket = late

        response = agent_client.get(reverse("suggestions:panel", args=[customer.pk]), {"ticket": ticket.pk})

        assert response.status_code == 200
        assert b"Apologise for late order #1042" in response.content
        assert agent_client.get(reverse("suggestions:panel", args=[customer.pk]), {"ticket": 2**70}).status_code == 200

    def test_accept_with_htmx_returns_the_panel_with_the_reply_text(self, late, agent_client):
        customer, _, ticket = late
        ref = ref_of(customer, ticket, "order_delayed")
        url = reverse("suggestions:feedback", args=[ref.token()])

        response = agent_client.post(
            url,
            {"verdict": "accepted", "ticket": ticket.pk, "next": f"/tickets/{ticket.pk}/"},
            headers={"HX-Request": "true"},
        )

        html = response.content.decode()
        assert response.status_code == 200 and "data-suggestion-accepted" in html
        assert "Hi Maria,\n\nI&#x27;m sorry: order #1042" in html
        assert 'data-rule="order_delayed"' not in html  # accepted: out of the list for a day
        assert SuggestionFeedback.objects.get().verdict == "accepted"

    def test_dismiss_without_javascript_redirects_back_with_a_message(self, late, agent_client):
        customer, _, ticket = late
        ref = ref_of(customer, ticket, "order_delayed")

        response = agent_client.post(
            reverse("suggestions:feedback", args=[ref.token()]),
            {"verdict": "dismissed", "reason": "Other", "note": "Customer picked it up", "next": "/tickets/1/"},
            follow=False,
        )

        assert response.status_code == 302 and response["Location"] == "/tickets/1/"
        assert SuggestionFeedback.objects.get().reason == "Customer picked it up"

    def test_a_foreign_next_is_ignored_and_a_snooze_needs_its_length(self, late, agent_client):
        customer, _, ticket = late
        url = reverse("suggestions:feedback", args=[ref_of(customer, ticket, "order_delayed").token()])

        response = agent_client.post(url, {"verdict": "snoozed", "next": "https://evil.example/"})

        assert response["Location"] == reverse("customers:detail", args=[customer.pk])
        assert not SuggestionFeedback.objects.exists()
        response = agent_client.post(url, {"verdict": "snoozed", "hours": "4"}, headers={"HX-Request": "true"})
        assert "Snoozed until" in response.content.decode()
        assert SuggestionFeedback.objects.get().verdict == "snoozed"

    def test_a_forged_id_is_a_bad_request(self, agent_client):
        response = agent_client.post(reverse("suggestions:feedback", args=["forged"]), {"verdict": "accepted"})

        assert response.status_code == 400

    def test_people_without_the_agent_role_are_refused(self, late, client):
        customer = late[0]
        client.force_login(UserFactory())

        assert client.get(reverse("suggestions:panel", args=[customer.pk])).status_code == 403

    def test_giving_feedback_needs_its_own_permission(self, late, client, agent):
        # given someone who may look at customers but not judge suggestions
        customer, _order, ticket = late
        viewer = UserFactory()
        viewer.user_permissions.add(
            Permission.objects.get(codename="view_customer", content_type__app_label="customers")
        )
        client.force_login(viewer)
        ref = ref_of(customer, ticket, "order_delayed")

        # when they open the panel and then try to dismiss
        panel = client.get(reverse("suggestions:panel", args=[customer.pk]))
        dismissed = client.post(
            reverse("suggestions:feedback", args=[ref.token()]), {"verdict": "dismissed", "reason": "Other"}
        )

        # then the panel shows, the verdict is refused and nothing is stored; agents hold it
        assert panel.status_code == 200 and dismissed.status_code == 403
        assert not SuggestionFeedback.objects.exists()
        assert agent.has_perm("customers.add_suggestionfeedback")
