from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers import consent
from customers.merge import customer_merge, customer_merge_undo, merge_candidates
from customers.models import AuditEvent, Channel, ConsentRecord, ContactPoint, Customer, CustomerMerge, Event, Order
from customers.services import customer_figures_refresh
from tests.factories import (
    ConsentRecordFactory,
    ContactPointFactory,
    CustomerFactory,
    EventFactory,
    MessageFactory,
    OrderFactory,
    TicketFactory,
)
from tickets.models import ChatSession, Ticket

pytestmark = pytest.mark.django_db


def _email(customer, value, primary=True):
    return ContactPointFactory(customer=customer, channel=Channel.EMAIL, value=value, is_primary=primary)


class TestCandidates:
    def test_the_same_mailbox_with_a_plus_tag_is_a_likely_duplicate(self):
        maria = CustomerFactory(first_name="Maria", last_name="López")
        _email(maria, "maria.lopez@example.com")
        other = CustomerFactory(first_name="M.", last_name="L.")
        _email(other, "maria.lopez+shop@example.com")

        candidates = merge_candidates(customer=maria)

        assert [c.customer for c in candidates] == [other]
        assert candidates[0].strong
        assert "maria.lopez+shop@example.com" in candidates[0].evidence[0]

    def test_gmail_ignores_dots_and_the_googlemail_domain(self):
        ana = CustomerFactory()
        _email(ana, "ana.maria@gmail.com")
        other = CustomerFactory()
        _email(other, "anamaria@googlemail.com")

        assert [c.customer for c in merge_candidates(customer=ana)] == [other]

    def test_a_phone_with_the_same_last_nine_digits_is_a_likely_duplicate(self):
        lucas = CustomerFactory()
        ContactPointFactory(customer=lucas, channel=Channel.PHONE, value="+34612345678")
        other = CustomerFactory()
        ContactPointFactory(customer=other, channel=Channel.PHONE, value="+1612345678")

        candidates = merge_candidates(customer=lucas)

        assert [c.customer for c in candidates] == [other]
        assert "nine digits" in candidates[0].evidence[0]

    def test_a_namesake_alone_is_not_a_candidate(self):
        CustomerFactory(first_name="John", last_name="Smith", country="US")
        john = CustomerFactory(first_name="John", last_name="Smith", country="GB")

        assert merge_candidates(customer=john) == []

    def test_a_namesake_in_the_same_country_is_a_candidate_with_the_evidence(self):
        john = CustomerFactory(first_name="John", last_name="Smith", country="GB")
        other = CustomerFactory(first_name="JOHN", last_name="smith", country="GB")

        candidates = merge_candidates(customer=john)

        assert [c.customer for c in candidates] == [other]
        assert not candidates[0].strong
        assert "same country (GB)" in candidates[0].evidence[0]

    def test_a_namesake_who_wrote_about_the_customers_order_is_a_candidate(self):
        john = CustomerFactory(first_name="John", last_name="Smith", country="GB")
        OrderFactory(customer=john, number="100777")
        other = CustomerFactory(first_name="John", last_name="Smith", country="US")
        MessageFactory(ticket=TicketFactory(customer=other), body="Where is my order 100777 please?")

        candidates = merge_candidates(customer=john)

        assert [c.customer for c in candidates] == [other]
        assert "#100777" in candidates[0].evidence[0]

    def test_merged_and_erased_customers_are_never_proposed(self):
        maria = CustomerFactory(first_name="Maria", last_name="López", country="ES")
        survivor = CustomerFactory()
        CustomerFactory(first_name="Maria", last_name="López", country="ES", merged_into=survivor)
        CustomerFactory(first_name="Maria", last_name="López", country="ES", erased=True)

        assert merge_candidates(customer=maria) == []

    def test_finding_candidates_takes_a_bounded_number_of_queries(self, django_assert_max_num_queries):
        john = CustomerFactory(first_name="John", last_name="Smith", country="GB")
        _email(john, "john.smith@example.com")
        OrderFactory.create_batch(5, customer=john)
        for n in range(10):
            namesake = CustomerFactory(first_name="John", last_name="Smith", country="GB")
            _email(namesake, f"john.smith+{n}@example.com")
            OrderFactory.create_batch(3, customer=namesake)

        with django_assert_max_num_queries(8):
            candidates = merge_candidates(customer=john, limit=20)

        assert len(candidates) == 10


@pytest.fixture
def pair(agent):
    survivor = CustomerFactory(first_name="Maria", last_name="Lopez", preferred_name="", locale="en", country="ES")
    merged = CustomerFactory(first_name="María", last_name="López", preferred_name="Mari", locale="es", country="ES")
    _email(survivor, "maria@example.com")
    _email(merged, "maria.lopez@example.org")
    ContactPointFactory(customer=merged, channel=Channel.PHONE, value="+34612345678")
    OrderFactory(customer=survivor, total=Decimal("10.00"))
    OrderFactory(customer=merged, total=Decimal("30.00"))
    EventFactory(customer=merged)
    ConsentRecordFactory(customer=merged)
    TicketFactory(customer=merged)
    ChatSession.objects.create(visitor_id="v-1", customer=merged)
    for customer in (survivor, merged):
        customer_figures_refresh(customer=customer)
    return survivor, merged


def _state(customer: Customer) -> dict:
    customer.refresh_from_db()
    return {
        "fields": (customer.first_name, customer.last_name, customer.preferred_name, customer.locale, customer.country),
        "merged_into": customer.merged_into_id,
        "contacts": sorted(customer.contact_points.values_list("channel", "value", "is_primary")),
        "orders": sorted(Order.objects.filter(customer=customer).values_list("pk", flat=True)),
        "events": Event.objects.filter(customer=customer).count(),
        "consents": ConsentRecord.objects.filter(customer=customer).count(),
        "tickets": Ticket.objects.filter(customer=customer).count(),
        "chats": ChatSession.objects.filter(customer=customer).count(),
        "figures": (customer.order_count, customer.lifetime_value),
    }


class TestMerge:
    def test_everything_moves_to_the_survivor_with_the_chosen_values(self, pair, agent):
        survivor, merged = pair

        merge = customer_merge(
            survivor=survivor,
            merged=merged,
            actor=agent,
            field_choices={"first_name": "merged", "last_name": "merged", "preferred_name": "merged"},
            reason="Same person, two emails",
        )

        after = _state(survivor)
        assert after["fields"] == ("María", "López", "Mari", "en", "ES")
        assert [c[1] for c in after["contacts"]] == ["maria.lopez@example.org", "maria@example.com", "+34612345678"]
        assert (after["events"], after["consents"], after["tickets"], after["chats"]) == (1, 1, 1, 1)
        assert after["figures"] == (2, Decimal("40.00"))
        gone = _state(merged)
        assert gone["merged_into"] == survivor.pk
        assert (gone["contacts"], gone["orders"], gone["tickets"], gone["figures"]) == ([], [], 0, (0, Decimal("0")))
        assert merge.reason == "Same person, two emails"
        assert consent.allows(survivor, consent.MARKETING)
        audits = AuditEvent.objects.filter(action=AuditEvent.Action.CUSTOMER_MERGED)
        assert sorted(audits.values_list("customer_id", flat=True)) == sorted([survivor.pk, merged.pk])
        assert {a.actor for a in audits} == {agent}

    def test_a_moved_primary_contact_stops_being_primary_where_the_survivor_has_one(self, pair, agent):
        survivor, merged = pair

        customer_merge(survivor=survivor, merged=merged, actor=agent)

        primaries = ContactPoint.objects.filter(customer=survivor, channel=Channel.EMAIL, is_primary=True)
        assert list(primaries.values_list("value", flat=True)) == ["maria@example.com"]

    def test_undo_puts_everything_back_exactly(self, pair, agent):
        survivor, merged = pair
        before = (_state(survivor), _state(merged))
        merge = customer_merge(survivor=survivor, merged=merged, actor=agent, field_choices={"first_name": "merged"})

        customer_merge_undo(merge=merge, actor=agent)

        assert (_state(survivor), _state(merged)) == before
        merge.refresh_from_db()
        assert merge.undone_at is not None and merge.undone_by == agent
        undone = AuditEvent.objects.filter(action=AuditEvent.Action.MERGE_UNDONE)
        assert sorted(undone.values_list("customer_id", flat=True)) == sorted([survivor.pk, merged.pk])

    def test_rows_that_arrived_after_the_merge_stay_with_the_survivor(self, pair, agent):
        survivor, merged = pair
        merge = customer_merge(survivor=survivor, merged=merged, actor=agent)
        later = TicketFactory(customer=survivor)

        customer_merge_undo(merge=merge, actor=agent)

        assert Ticket.objects.get(pk=later.pk).customer == survivor

    def test_a_merge_is_undone_once(self, pair, agent):
        merge = customer_merge(survivor=pair[0], merged=pair[1], actor=agent)
        customer_merge_undo(merge=merge, actor=agent)

        with pytest.raises(ValidationError, match="already undone"):
            customer_merge_undo(merge=merge, actor=agent)

    def test_undo_waits_for_a_later_merge_of_the_survivor(self, pair, agent):
        survivor, merged = pair
        first = customer_merge(survivor=survivor, merged=merged, actor=agent)
        customer_merge(survivor=CustomerFactory(), merged=survivor, actor=agent)

        with pytest.raises(ValidationError, match="undo that merge first"):
            customer_merge_undo(merge=first, actor=agent)

    @pytest.mark.parametrize("problem", ["self", "already_merged", "erased"])
    def test_impossible_merges_are_refused_and_change_nothing(self, pair, agent, problem):
        survivor, merged = pair
        if problem == "self":
            merged = survivor
        elif problem == "already_merged":
            Customer.objects.filter(pk=merged.pk).update(merged_into=CustomerFactory())
            merged.refresh_from_db()
        else:
            Customer.objects.filter(pk=merged.pk).update(erased=True)
            merged.refresh_from_db()

        with pytest.raises(ValidationError):
            customer_merge(survivor=survivor, merged=merged, actor=agent)

        assert not CustomerMerge.objects.exists()
        assert Ticket.objects.filter(customer=survivor).count() == 0

    def test_an_unknown_field_choice_is_refused(self, pair, agent):
        with pytest.raises(ValidationError, match="Unknown fields"):
            customer_merge(survivor=pair[0], merged=pair[1], actor=agent, field_choices={"email": "merged"})


class TestMergePages:
    def test_the_page_shows_both_records_and_merges_on_confirmation(self, agent_client, pair):
        survivor, merged = pair
        url = reverse("customers:merge", args=[survivor.pk])

        page = agent_client.get(url, {"with": merged.pk})
        response = agent_client.post(
            url,
            {
                "with": merged.pk,
                "survivor": "other",
                **{f"field_{name}": "this" for name in ("first_name", "last_name", "preferred_name")},
                **{f"field_{name}": "other" for name in ("locale", "timezone", "country")},
            },
        )

        assert page.status_code == 200 and "Mari" in page.content.decode()
        assert response.status_code == 302 and response["Location"] == reverse("customers:detail", args=[merged.pk])
        merged.refresh_from_db()
        survivor.refresh_from_db()
        assert survivor.merged_into == merged
        assert (merged.first_name, merged.locale) == ("Maria", "es")

    def test_undo_from_the_customer_page(self, agent_client, pair, agent):
        survivor, merged = pair
        merge = customer_merge(survivor=survivor, merged=merged, actor=agent)
        page = agent_client.get(reverse("customers:detail", args=[survivor.pk])).content.decode()

        response = agent_client.post(reverse("customers:merge_undo", args=[survivor.pk]), {"merge": merge.pk})

        assert "Undo merge" in page
        assert response.status_code == 302
        merged.refresh_from_db()
        assert merged.merged_into is None

    def test_the_page_shows_the_evidence_proposes_the_richer_record_and_skips_fields_that_agree(self, agent_client):
        # given a new record without orders and an older one with an order, same name and country
        newer = CustomerFactory(first_name="Maura", last_name="Plaza", country="ES", locale="es", preferred_name="")
        older = CustomerFactory(first_name="Maura", last_name="Plaza", country="ES", locale="es", preferred_name="Mau")
        Customer.objects.filter(pk=older.pk).update(created_at=newer.created_at - timedelta(days=300))
        OrderFactory(customer=older)
        customer_figures_refresh(customer=older)

        # when the agent reviews the merge from the newer record's page
        response = agent_client.get(reverse("customers:merge", args=[newer.pk]), {"with": older.pk})
        html = response.content.decode()

        # then the evidence is shown, the older record with the order is proposed as survivor,
        # fields both hold the same are stated rather than asked, and the differing one is asked
        form = response.context["form"]
        assert "Same name (Maura Plaza) and same country (ES)" in html
        assert form["survivor"].value() == "other"
        rows = {name: same for name, _label, _field, same in form.field_rows()}
        assert rows == {
            "first_name": True,
            "last_name": True,
            "preferred_name": False,
            "locale": True,
            "timezone": True,
            "country": True,
        }
        assert 'Español (es) <span class="meta">— the same on both records</span>' in html
        assert form["field_preferred_name"].value() == "other"  # the survivor's own value
        assert f"from #{older.pk}" in html

    def test_fields_that_agree_still_post_and_merge(self, agent_client):
        # given two records that differ only in their preferred name
        keep = CustomerFactory(first_name="Ana", last_name="Ruiz", country="ES", preferred_name="")
        dupe = CustomerFactory(first_name="Ana", last_name="Ruiz", country="ES", preferred_name="Anita")
        url = reverse("customers:merge", args=[keep.pk])
        page = agent_client.get(url, {"with": dupe.pk}).content.decode()

        # when the agent confirms with the fields the page posts (hidden ones included)
        hidden = dict.fromkeys(("first_name", "last_name", "locale", "timezone", "country"), "this")
        for name in hidden:
            assert f'<input type="hidden" name="field_{name}" value="this">' in page
        response = agent_client.post(
            url,
            {
                "with": dupe.pk,
                "survivor": "this",
                "field_preferred_name": "other",
                **{f"field_{k}": v for k, v in hidden.items()},
            },
        )

        # then the merge happened with the chosen value
        assert response.status_code == 302
        keep.refresh_from_db()
        assert keep.preferred_name == "Anita"

    def test_a_merged_away_record_points_at_the_survivor_and_offers_only_the_undo(self, agent_client, pair, agent):
        # given a merge
        survivor, merged = pair
        customer_merge(survivor=survivor, merged=merged, actor=agent)

        # when the agent opens the merged-away record
        html = agent_client.get(reverse("customers:detail", args=[merged.pk])).content.decode()

        # then it points at the survivor and offers the undo, and neither greets nor suggests nor hunts duplicates
        assert f'This customer was merged into <a href="{reverse("customers:detail", args=[survivor.pk])}">' in html
        assert "Undo merge" in html
        assert 'class="greeting' not in html
        assert 'id="suggestions"' not in html and 'id="duplicates"' not in html

    def test_any_record_can_be_reviewed_for_a_merge_by_its_number_even_without_evidence(self, agent_client):
        # given two customers the desk sees no link between
        one = CustomerFactory(first_name="Ana", last_name="Ruiz")
        other = CustomerFactory(first_name="Anne", last_name="Roux")

        # when the agent enters the other's number on the customer view
        page = agent_client.get(reverse("customers:detail", args=[one.pk])).content.decode()
        review = agent_client.get(reverse("customers:merge", args=[one.pk]), {"with": other.pk}).content.decode()

        # then the page offers it, and the review warns that nothing links them
        assert f'action="{reverse("customers:merge", args=[one.pk])}" class="merge-other"' in page
        assert "The desk found no sign that these two are the same person" in review

    def test_a_number_that_is_no_customer_says_so(self, agent_client, pair):
        response = agent_client.get(reverse("customers:merge", args=[pair[0].pk]), {"with": 999999})

        assert response.status_code == 404 and "There is no customer #999999." in response.content.decode()

    def test_the_merge_page_needs_the_other_customer(self, agent_client, pair):
        response = agent_client.get(reverse("customers:merge", args=[pair[0].pk]))

        assert response.status_code == 400

    def test_duplicates_are_listed_with_their_evidence(self, agent_client):
        maria = CustomerFactory(first_name="Maria", last_name="López", country="ES")
        other = CustomerFactory(first_name="Maria", last_name="López", country="ES")

        html = agent_client.get(reverse("customers:duplicates", args=[maria.pk])).content.decode()

        assert f"?with={other.pk}" in html
        assert "same country (ES)" in html
