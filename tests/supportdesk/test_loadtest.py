"""The load test's parts that need no server: the webhook burst, the run's limits and options.
The run itself is tests/integration/test_load.py."""

import json

import pytest

from supportdesk.loadtest.run import LoadOptions
from supportdesk.loadtest.server import rate_limits
from supportdesk.loadtest.webhooks import burst_build
from supportdesk.rate_limits import Rate
from tests.factories import ContactPointFactory

pytestmark = pytest.mark.django_db


def test_a_burst_holds_exact_duplicates_close_behind_their_originals():
    # Given customers with email addresses
    ContactPointFactory.create_batch(5)

    # When a burst of 100 with 10 % duplicates is built for 5 senders
    burst = burst_build(run="abc123", total=100, duplicate_share=0.1, concurrency=5, seed=1)

    # Then it holds 90 distinct deliveries and 10 exact copies, each behind its original with
    # at most twice the number of senders of other originals between them
    assert (len(burst.deliveries), burst.distinct, burst.duplicates) == (100, 90, 10)
    ids = [delivery_id for delivery_id, _ in burst.deliveries]
    assert len(set(ids)) == 90
    seen: dict[str, tuple[int, str]] = {}  # delivery id -> (originals sent before it, body)
    for delivery_id, body in burst.deliveries:
        if delivery_id in seen:
            originals_before, original = seen[delivery_id]
            assert body == original
            assert len(seen) - originals_before <= 2 * 5 + 1
        else:
            seen[delivery_id] = (len(seen), body)
    # and every order is the run's, one in ten from a new customer
    orders = [json.loads(body) for _, body in burst.deliveries]
    assert {order["id"].split("-")[0] for order in orders} == {"abc123"}
    assert len(burst.new_customer_emails) == 9
    assert all(order["line_items"] and order["customer"]["email"] for order in orders)


def test_a_burst_refuses_more_duplicates_than_originals():
    ContactPointFactory()
    with pytest.raises(ValueError, match="duplicates"):
        burst_build(run="r", total=10, duplicate_share=0.9, concurrency=2, seed=1)


def test_the_run_gives_each_agent_the_login_allowance_of_production():
    # 50 agents share 127.0.0.1 in the run; in production each has an address of their own.
    limits = rate_limits(agents=50, webhooks=1000)
    assert Rate.parse(limits["DESK_LOGIN_RATE_LIMIT"]) == Rate(1500, 60)
    # The webhook limit stays production's unless the burst is bigger than it.
    assert Rate.parse(limits["DESK_WEBHOOK_RATE_LIMIT"]) == Rate(3000, 60)
    assert Rate.parse(rate_limits(agents=1, webhooks=5000)["DESK_WEBHOOK_RATE_LIMIT"]) == Rate(5000, 60)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"agents": 0}, "--agents"),
        ({"duration": 1}, "--duration"),
        ({"duplicates": 0.5}, "--duplicates"),
        ({"think": (5.0, 1.0)}, "--think"),
    ],
)
def test_bad_options_are_refused_with_the_option_named(options, message):
    with pytest.raises(ValueError, match=message):
        LoadOptions(**options).validate()
