"""A team lead reads the dashboard, widens the period, and follows a low rating to its ticket."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Channel, SuggestionFeedback
from tests.factories import ContactPointFactory, CSATSurveyFactory, CustomerFactory, TicketFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def low_rating(db):
    """A rating of 1 answered 45 days ago: outside the default 30 days, inside the last 90."""
    answered = timezone.now() - timedelta(days=45)
    agent = UserFactory(username="sam", first_name="Sam")
    customer = CustomerFactory(first_name="Maria", last_name="García")
    ContactPointFactory(customer=customer, channel=Channel.EMAIL, value="maria@example.com")
    ticket = TicketFactory(
        customer=customer,
        subject="Boots arrived damaged",
        channel=Channel.EMAIL,
        assignee=agent,
        status="solved",
        created_at=answered - timedelta(days=3),
        solved_at=answered - timedelta(days=2),
    )
    CSATSurveyFactory(
        ticket=ticket,
        agent=agent,
        channel=Channel.EMAIL,
        sent_at=answered - timedelta(days=1),
        answered_at=answered,
        rating=1,
        comment="Nobody told me about the return label.",
    )
    return ticket


def test_a_lead_changes_the_period_and_drills_into_a_low_rating(page, login, lead, low_rating):
    login("lead", "pw-lead")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboards").click()

    expect(page.get_by_role("heading", name="Dashboards", exact=True)).to_be_visible()
    low_ratings = page.get_by_role("region", name="Latest low ratings")
    expect(low_ratings.get_by_text("No low ratings in this period.")).to_be_visible()

    page.get_by_label("Period", exact=True).select_option("90d")
    page.get_by_role("button", name="Show").click()

    expect(low_ratings.get_by_text("Nobody told me about the return label.")).to_be_visible()
    expect(page.get_by_role("img", name="CSAT % (answers rated 4-5)").first).to_be_visible()
    summary = page.get_by_role("table").first
    summary.get_by_role("link", name="Low ratings, this period: 1. Show the tickets").click()

    expect(page.get_by_role("heading", name="Low CSAT ratings")).to_be_visible()
    expect(page.get_by_text("1/5")).to_be_visible()
    page.get_by_role("link", name="Boots arrived damaged").click()

    expect(page.get_by_role("heading", name="Boots arrived damaged")).to_be_visible()
    assert page.url.endswith(f"/tickets/{low_rating.pk}/")


@pytest.fixture
def accepted_then_rated(db):
    """An agent accepted the churn_risk suggestion (variant gesture) for Maria 10 days ago;
    she rated the help 4 three days later. Another customer's suggestion was dismissed."""
    now = timezone.now()
    agent = UserFactory(username="sam", first_name="Sam")
    maria = CustomerFactory(first_name="Maria", last_name="García")
    SuggestionFeedback.objects.create(
        customer=maria,
        rule="churn_risk",
        variant="gesture",
        verdict="accepted",
        agent=agent,
        created_at=now - timedelta(days=10),
    )
    SuggestionFeedback.objects.create(
        customer=CustomerFactory(),
        rule="churn_risk",
        variant="check_in",
        verdict="dismissed",
        reason="Already offered a discount",
        agent=agent,
        created_at=now - timedelta(days=9),
    )
    ticket = TicketFactory(customer=maria, assignee=agent, created_at=now - timedelta(days=9))
    CSATSurveyFactory(ticket=ticket, agent=agent, sent_at=now - timedelta(days=8), answered_at=now - timedelta(days=7),
                      rating=4)  # fmt: skip
    return maria


def test_a_lead_compares_suggestion_variants_and_opens_the_ratings_behind_one(page, login, lead, accepted_then_rated):
    login("lead", "pw-lead")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Dashboards").click()
    page.get_by_role("link", name="Suggestions: outcomes per rule and variant, with the CSAT that followed").click()

    expect(page.get_by_role("heading", name="Suggestions", exact=True)).to_be_visible()
    outcomes = page.get_by_role("region", name="Outcomes by rule and variant")
    gesture = outcomes.get_by_role("row").filter(has_text="gesture")
    expect(gesture.get_by_role("cell").nth(5)).to_have_text("100.0 % (—)")  # acceptance, no previous verdicts
    expect(gesture.get_by_role("cell").nth(8)).to_have_text("4.00 / 5")  # the rating that followed
    expect(outcomes.get_by_role("row").filter(has_text="check_in").get_by_role("cell").nth(5)).to_have_text("0.0 % (—)")

    gesture.get_by_role("link", name="churn_risk gesture, CSAT answers after an acceptance: 1. Show them").click()

    expect(page.get_by_role("heading", name="accepted, then rated within 14 days")).to_be_visible()
    row = page.get_by_role("row").filter(has_text="Maria")
    expect(row.get_by_role("cell").last).to_have_text("4/5")
    page.get_by_role("link", name="← Back to the dashboard").click()
    expect(page.get_by_role("heading", name="Suggestions", exact=True)).to_be_visible()
