"""CSAT surveys end to end: scheduling after a solve, sending once with consent on the ticket's
channel, the public page behind a signed link, crediting, and the lead's low-rating notice."""

import re
from datetime import timedelta

import pytest
from django.core import mail, signing
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from customers.models import Channel, ConsentPurpose, ConsentRecord
from customers.timeline import timeline_for_customer
from tests.factories import ContactPointFactory, CustomerFactory, TeamFactory, TicketFactory, UserFactory
from tickets import csat, services
from tickets.csat_tasks import csat_survey_send, csat_sweep
from tickets.models import CSATSurvey, Message, Notification, Ticket

pytestmark = pytest.mark.django_db

DAY = timedelta(hours=24)


def _consent(customer, granted: bool) -> None:
    ConsentRecord.objects.create(
        customer=customer,
        purpose=ConsentPurpose.objects.get(code="surveys"),
        granted=granted,
        source=ConsentRecord.Source.CUSTOMER,
    )


def _solved(*, channel=Channel.EMAIL, ago=DAY + timedelta(minutes=1), locale="en", email=True, consent=True, **extra):
    customer = CustomerFactory(locale=locale, first_name="Ana")
    if email:
        ContactPointFactory(customer=customer, channel=Channel.EMAIL, value=f"ana{customer.pk}@example.com")
    if consent is not None:
        _consent(customer, consent)
    solver = extra.pop("solved_by", None) or UserFactory()
    return TicketFactory(
        customer=customer,
        channel=channel,
        status=Ticket.Status.SOLVED,
        solved_at=timezone.now() - ago,
        solved_by=solver,
        assignee=solver,
        subject="Boots too small",
        **extra,
    )


def _linked_survey(text: str) -> CSATSurvey | None:
    """The survey the signed link in ``text`` opens."""
    match = re.search(r"http://127\.0\.0\.1:8000/survey/([^/\s]+)/", text)
    return csat.csat_survey_by_token(token=match.group(1)) if match else None


def _send(ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return csat.csat_survey_send(ticket_id=ticket.pk)


class TestScheduling:
    def test_a_solved_ticket_is_planned_for_after_the_delay(self):
        ticket = _solved(ago=timedelta(0))

        send_at = csat.csat_schedule_for_ticket(ticket=ticket)

        assert send_at == ticket.solved_at + DAY
        assert not CSATSurvey.objects.exists()

    def test_an_unsolved_or_already_surveyed_ticket_is_not(self, django_capture_on_commit_callbacks):
        open_ticket = TicketFactory(status=Ticket.Status.OPEN)
        surveyed = _solved()
        _send(surveyed, django_capture_on_commit_callbacks)

        assert csat.csat_schedule_for_ticket(ticket=open_ticket) is None
        assert csat.csat_schedule_for_ticket(ticket=surveyed) is None

    def test_a_short_delay_queues_the_send_itself(self, settings, django_capture_on_commit_callbacks):
        settings.DESK_CSAT_DELAY_HOURS = 0
        ticket = _solved(ago=timedelta(0))

        with django_capture_on_commit_callbacks(execute=True):
            csat.csat_schedule_for_ticket(ticket=ticket)

        assert CSATSurvey.objects.get(ticket=ticket).sent_at is not None

    def test_the_sweep_finds_tickets_solved_more_than_the_delay_ago_without_a_survey(
        self, django_capture_on_commit_callbacks
    ):
        due = _solved()
        _solved(ago=DAY - timedelta(minutes=5))  # not yet
        _solved(ago=timedelta(days=30))  # too old to survey now
        TicketFactory(status=Ticket.Status.OPEN)

        with django_capture_on_commit_callbacks(execute=True):
            queued = csat_sweep.delay().get()

        assert queued == 1
        assert list(CSATSurvey.objects.values_list("ticket_id", flat=True)) == [due.pk]
        assert csat.csat_tickets_due() == []


class TestSending:
    def test_an_email_ticket_gets_a_signed_link_by_email_once(self, django_capture_on_commit_callbacks):
        ticket = _solved()

        survey = _send(ticket, django_capture_on_commit_callbacks)
        again = csat_survey_send.delay(ticket.pk).get()

        assert again == "sent"
        assert CSATSurvey.objects.count() == 1 and len(mail.outbox) == 1
        assert survey.sent_at is not None and survey.expires_at == survey.sent_at + timedelta(days=28)
        assert _linked_survey(mail.outbox[0].body) == survey
        assert mail.outbox[0].to == [f"ana{ticket.customer_id}@example.com"]
        message = Message.objects.get(ticket=ticket)
        assert (message.direction, message.channel, message.delivery) == ("outbound", "email", "sent")

    def test_the_survey_is_credited_to_who_solved_the_ticket_and_their_team(self, django_capture_on_commit_callbacks):
        solver, team = UserFactory(), TeamFactory(name="Returns")
        ticket = _solved(solved_by=solver, team=team)
        Ticket.objects.filter(pk=ticket.pk).update(assignee=UserFactory())  # reassigned after solving

        survey = _send(ticket, django_capture_on_commit_callbacks)

        assert (survey.agent_id, survey.team_id, survey.channel) == (solver.pk, team.pk, Channel.EMAIL)

    def test_a_chat_ticket_gets_the_link_inline_in_the_chat(self, django_capture_on_commit_callbacks):
        ticket = _solved(channel=Channel.CHAT, email=False)

        survey = _send(ticket, django_capture_on_commit_callbacks)

        message = Message.objects.get(ticket=ticket)
        assert message.channel == Channel.CHAT and _linked_survey(message.body) == survey
        assert mail.outbox == []

    def test_the_message_speaks_the_customers_language(self, django_capture_on_commit_callbacks):
        ticket = _solved(locale="es")

        _send(ticket, django_capture_on_commit_callbacks)

        body = Message.objects.get(ticket=ticket).body
        assert "¿Qué tal le atendimos con su solicitud «Boots too small»?" in body
        assert "Este enlace es válido durante 28 días." in body

    @pytest.mark.parametrize(
        ("kwargs", "why"),
        [({"consent": False}, "consent withdrawn"), ({"email": False, "channel": Channel.PHONE}, "no address")],
    )
    def test_without_consent_or_an_address_nothing_is_sent_and_it_is_decided_once(
        self, django_capture_on_commit_callbacks, kwargs, why
    ):
        ticket = _solved(**kwargs)

        survey = _send(ticket, django_capture_on_commit_callbacks)

        assert survey.sent_at is None, why
        assert not Message.objects.filter(ticket=ticket).exists() and mail.outbox == []
        assert csat.csat_tickets_due() == []

    def test_a_phone_ticket_is_surveyed_by_email(self, django_capture_on_commit_callbacks):
        ticket = _solved(channel=Channel.PHONE)

        survey = _send(ticket, django_capture_on_commit_callbacks)

        assert survey.channel == Channel.PHONE and len(mail.outbox) == 1

    def test_a_ticket_reopened_before_the_delay_is_not_surveyed(self, django_capture_on_commit_callbacks):
        ticket = _solved()
        Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.OPEN, solved_at=None)

        assert _send(ticket, django_capture_on_commit_callbacks) is None
        assert csat_survey_send.delay(ticket.pk).get() == "not_due"
        assert not CSATSurvey.objects.exists()

    def test_a_ticket_solved_within_the_delay_waits(self, django_capture_on_commit_callbacks):
        ticket = _solved(ago=timedelta(hours=23))

        assert _send(ticket, django_capture_on_commit_callbacks) is None


@pytest.fixture
def sent_survey(django_capture_on_commit_callbacks):
    lead = UserFactory(username="returns-lead")
    ticket = _solved(locale="es", team=TeamFactory(name="Returns", lead=lead))
    return _send(ticket, django_capture_on_commit_callbacks)


class TestAnswering:
    def test_an_answer_is_stored_once(self, sent_survey):
        csat.csat_survey_answer(survey=sent_survey, rating=5, comment="  Great help  ")

        sent_survey.refresh_from_db()
        assert (sent_survey.rating, sent_survey.comment) == (5, "Great help")
        assert sent_survey.answered_at is not None
        with pytest.raises(ValidationError):
            csat.csat_survey_answer(survey=sent_survey, rating=1)

    @pytest.mark.parametrize("rating", [0, 6, "5", True, None])
    def test_a_rating_outside_one_to_five_is_refused(self, sent_survey, rating):
        with pytest.raises(ValidationError) as caught:
            csat.csat_survey_answer(survey=sent_survey, rating=rating)

        assert "rating" in caught.value.message_dict

    def test_an_expired_survey_takes_no_answer(self, sent_survey):
        later = sent_survey.expires_at + timedelta(seconds=1)

        with pytest.raises(ValidationError):
            csat.csat_survey_answer(survey=sent_survey, rating=4, now=later)

    def test_a_low_rating_notifies_the_team_lead(self, sent_survey):
        csat.csat_survey_answer(survey=sent_survey, rating=2, comment="Nobody answered")

        notice = Notification.objects.get()
        assert notice.recipient.username == "returns-lead"
        assert (notice.kind, notice.ticket_id) == ("csat_low", sent_survey.ticket_id)
        assert "2/5" in notice.text

    def test_without_a_team_lead_everyone_who_watches_the_dashboards_hears_of_it(
        self, django_capture_on_commit_callbacks, lead, agent
    ):
        survey = _send(_solved(), django_capture_on_commit_callbacks)

        csat.csat_survey_answer(survey=survey, rating=1)

        assert [n.recipient for n in Notification.objects.all()] == [lead]

    def test_the_lead_reads_the_low_rating_in_the_desk(self, client, lead, django_capture_on_commit_callbacks):
        survey = _send(_solved(team=TeamFactory(name="Care", lead=lead)), django_capture_on_commit_callbacks)
        csat.csat_survey_answer(survey=survey, rating=1, comment="Never again")
        client.force_login(lead)

        page = client.get(reverse("notifications")).content.decode()

        assert "Low CSAT rating" in page and "1/5" in page
        assert reverse("tickets:detail", args=[survey.ticket_id]) in page

    def test_a_good_rating_notifies_nobody(self, sent_survey):
        csat.csat_survey_answer(survey=sent_survey, rating=4)

        assert not Notification.objects.exists()

    def test_the_answer_appears_in_the_customers_timeline(self, sent_survey):
        csat.csat_survey_answer(survey=sent_survey, rating=3, comment="OK")

        page = timeline_for_customer(customer=sent_survey.ticket.customer)

        answers = [item for item in page.items if item.kind == "csat"]
        assert [(item.badge, item.detail) for item in answers] == [("3/5", "OK")]
        assert answers[0].url == reverse("tickets:detail", args=[sent_survey.ticket_id])


class TestSurveyPage:
    def test_the_link_opens_the_form_in_the_customers_language(self, client, sent_survey):
        response = client.get(reverse("csat_survey", args=[sent_survey.token]))

        assert response.status_code == 200
        html = response.content.decode()
        assert '<html lang="es">' in html and "¿Qué tal lo hicimos?" in html
        assert 'name="rating"' in html and 'name="comment"' in html
        assert " style=" not in html and "<script" not in html

    def test_answering_thanks_the_customer_in_their_language(self, client, sent_survey):
        url = reverse("csat_survey", args=[sent_survey.token])

        response = client.post(url, {"rating": "5", "comment": "Muy bien"}, follow=True)

        assert response.redirect_chain == [(url, 302)]
        assert response.templates[0].name == "tickets/csat/thanks.html"
        html = response.content.decode()
        assert '<html lang="es">' in html and "¡Gracias por su opinión!" in html
        sent_survey.refresh_from_db()
        assert (sent_survey.rating, sent_survey.comment) == (5, "Muy bien")

    def test_a_missing_rating_is_asked_for_again(self, client, sent_survey):
        response = client.post(reverse("csat_survey", args=[sent_survey.token]), {"comment": "hm"})

        assert response.status_code == 400
        assert 'role="alert"' in response.content.decode()
        sent_survey.refresh_from_db()
        assert sent_survey.answered_at is None

    def test_after_28_days_the_page_says_it_has_closed(self, client, sent_survey):
        CSATSurvey.objects.filter(pk=sent_survey.pk).update(expires_at=timezone.now() - timedelta(seconds=1))

        response = client.post(reverse("csat_survey", args=[sent_survey.token]), {"rating": "5"})

        assert response.status_code == 410
        sent_survey.refresh_from_db()
        assert sent_survey.answered_at is None

    @pytest.mark.parametrize(
        "token",
        ["nonsense", signing.dumps(999999, salt="tickets.csat.survey"), signing.dumps(1, salt="another.salt")],
    )
    def test_a_forged_or_unknown_link_is_not_found(self, client, sent_survey, token):
        assert client.get(reverse("csat_survey", args=[token])).status_code == 404

    def test_an_unsent_survey_has_no_page(self, client, django_capture_on_commit_callbacks):
        survey = _send(_solved(consent=False), django_capture_on_commit_callbacks)

        assert client.get(reverse("csat_survey", args=[survey.token])).status_code == 404


class TestSolvingEndToEnd:
    def test_solving_a_ticket_sends_its_survey_after_the_delay_credited_to_the_solver(
        self, settings, django_capture_on_commit_callbacks
    ):
        settings.DESK_CSAT_DELAY_HOURS = 0
        ticket = _solved(ago=timedelta(0))
        Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.OPEN, solved_at=None, solved_by=None)
        ticket.refresh_from_db()
        solver = UserFactory(username="solver")

        with django_capture_on_commit_callbacks(execute=True):
            services.ticket_update(ticket=ticket, actor=solver, status=Ticket.Status.SOLVED)

        survey = CSATSurvey.objects.get(ticket=ticket)
        assert survey.agent == solver and survey.sent_at is not None
        assert len(mail.outbox) == 1 and _linked_survey(mail.outbox[0].body) == survey
