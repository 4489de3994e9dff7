"""The database keeps each message's and CSAT survey's customer equal to its ticket's."""

from django.contrib.auth import get_user_model

from customers.merge import customer_merge, customer_merge_undo
from tests.factories import CSATSurveyFactory, CustomerFactory, MessageFactory, TicketFactory
from tickets.models import CSATSurvey, Message


def _customer_of(model, pk: int) -> int | None:
    return model.objects.filter(pk=pk).values_list("customer_id", flat=True).get()


def test_a_new_message_and_survey_carry_the_tickets_customer(db):
    # given a ticket
    ticket = TicketFactory()
    # when a message and a survey are written through the ORM, one by one and in bulk
    one = MessageFactory(ticket=ticket)
    [bulk] = Message.objects.bulk_create([Message(ticket=ticket, channel="email", direction="inbound", body="hi")])
    survey = CSATSurveyFactory(ticket=ticket)
    # then the database filled in the customer on each
    assert _customer_of(Message, one.pk) == ticket.customer_id
    assert Message.objects.get(body="hi").customer_id == ticket.customer_id
    assert _customer_of(CSATSurvey, survey.pk) == ticket.customer_id
    assert bulk.ticket_id == ticket.pk


def test_messages_and_surveys_follow_a_ticket_to_another_customer(db):
    # given a ticket with messages and a survey
    ticket = TicketFactory()
    messages = [MessageFactory(ticket=ticket).pk for _ in range(3)]
    survey = CSATSurveyFactory(ticket=ticket)
    other = CustomerFactory()
    # when the ticket moves to another customer with a queryset update
    type(ticket).objects.filter(pk=ticket.pk).update(customer=other)
    # then every message and the survey moved with it
    assert set(Message.objects.filter(pk__in=messages).values_list("customer_id", flat=True)) == {other.pk}
    assert _customer_of(CSATSurvey, survey.pk) == other.pk


def test_a_message_moved_to_another_ticket_takes_its_customer(db):
    # given a message on one customer's ticket and another customer's ticket
    message = MessageFactory()
    elsewhere = TicketFactory()
    # when the message is moved
    Message.objects.filter(pk=message.pk).update(ticket=elsewhere)
    # then it belongs to the other customer
    assert _customer_of(Message, message.pk) == elsewhere.customer_id


def test_a_merge_and_its_undo_carry_the_messages_along(db):
    # given two customers, the second with a conversation
    survivor, merged = CustomerFactory(), CustomerFactory()
    message = MessageFactory(ticket=TicketFactory(customer=merged))
    agent = get_user_model().objects.create_user(username="merger")
    # when they are merged
    merge = customer_merge(survivor=survivor, merged=merged, actor=agent, reason="same person")
    # then the message is the survivor's; and after the undo, the merged customer's again
    assert _customer_of(Message, message.pk) == survivor.pk
    customer_merge_undo(merge=merge, actor=agent)
    assert _customer_of(Message, message.pk) == merged.pk
