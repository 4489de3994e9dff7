"""A team lead reads the dashboard, widens the period, and follows a low rating to its ticket."""

from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from customers.models import Channel
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
