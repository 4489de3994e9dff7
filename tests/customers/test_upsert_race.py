"""Two deliveries for the same new person at once: the second one joins the first's customer."""

from unittest import mock

import pytest

from customers import ingest
from customers.ingest import customer_upsert
from customers.models import ContactPoint, Customer

pytestmark = pytest.mark.django_db


def test_a_lost_race_to_create_the_customer_carries_on_with_the_winner():
    # given the first delivery created the customer after the second one looked and found no one
    winner = customer_upsert(email="ana@example.com", first_name="Ana").customer
    real = ingest._owner_of
    looks = iter([None])

    def first_look_misses(keys):
        return next(looks, None) or real(keys)

    # when the second delivery goes on to create the same person
    with mock.patch.object(ingest, "_owner_of", side_effect=first_look_misses):
        second = customer_upsert(email="Ana@Example.com", first_name="Ana", last_name="Diaz")
    # then it is the winner's customer, updated, and no second customer or contact exists
    assert second.customer.pk == winner.pk and second.created is False
    assert Customer.objects.count() == 1
    assert ContactPoint.objects.filter(value="ana@example.com").count() == 1
    assert Customer.objects.get().last_name == "Diaz"
