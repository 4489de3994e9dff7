"""The benchmark: its dataset, its ingestion runs and its verdict (PostgreSQL only: it loads with COPY)."""

import pytest
from django.db import connection
from django.test import Client

from customers.models import Customer, Event
from supportdesk.bench import scenarios
from supportdesk.bench.dataset import SCALES, dataset_build, dataset_handles
from supportdesk.bench.throughput import emails_throughput, events_throughput
from tickets.models import Message, Ticket


@pytest.fixture
def dataset(db):
    if connection.vendor != "postgresql":
        pytest.skip("the benchmark dataset is loaded with COPY, on PostgreSQL")
    return dataset_build(SCALES["s"])


def test_the_small_dataset_has_the_shape_of_the_scale(dataset):
    # given the scale-s dataset
    scale = SCALES["s"]
    # then every table holds what the scale says (the whale's share included)
    assert Customer.objects.count() == scale.customers + 1
    assert Ticket.objects.count() == scale.tickets
    assert Event.objects.count() == scale.events
    handles = dataset_handles()
    whale_tickets = Ticket.objects.filter(customer_id=handles.whale_customer_id).count()
    assert whale_tickets == scale.whale_tickets
    assert dataset.rows_per_second > 0


def test_event_batches_are_stored_through_the_api(dataset, admin_user):
    # given an API session and customers who all granted tracking
    client = Client()
    client.force_login(admin_user)
    before = Event.objects.count()
    # when two batches of 100 are posted
    result = events_throughput(client=client, batches=2, batch_size=100)
    # then every event is accepted and stored, and a rate is reported
    assert result["errors"] == 0
    assert result["accepted"] == 200
    assert Event.objects.count() == before + 200
    assert result["events_per_s"] > 0


def test_emails_open_tickets_and_replies_thread(dataset):
    # given the dataset's tickets
    tickets_before = Ticket.objects.count()
    # when 40 emails arrive, one in four a reply to an earlier one of the run
    result = emails_throughput(count=40)
    # then every email is stored; the replies continue a conversation instead of opening one
    assert result["statuses"] == {"stored": 40}
    assert Message.objects.filter(sender__startswith="new-", sender__endswith="@bench.example.com").count() == 2
    opened = Ticket.objects.count() - tickets_before
    assert 0 < opened <= 30


def test_the_verdict_names_every_miss():
    # given results where one page and one throughput miss and the whale costs more queries
    results = {
        "paths": {
            "inbox": {"meets_target": True, "queries": 9},
            "ticket_typical": {"meets_target": False, "queries": 12},
            "ticket_whale": {"meets_target": True, "queries": 14},
        },
        "throughput": {"events": {"meets_target": True}, "emails": {"meets_target": False}},
    }
    results["whale_parity"] = scenarios.whale_parity(results["paths"])
    # when the verdict is drawn
    verdict = scenarios.verdict(results)
    # then it names each miss and does not claim success
    assert verdict == {"all_targets_met": False, "misses": ["ticket_typical", "emails", "ticket_whale (queries)"]}


def test_the_host_reference_is_a_positive_duration():
    from supportdesk.bench.measure import host_reference_ms

    assert host_reference_ms(rounds=1) > 0
