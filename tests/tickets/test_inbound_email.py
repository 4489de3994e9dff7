"""Inbound email from real-shaped messages (tests/tickets/emails/): charsets, HTML-only mail,
attachments, threading, quoted history, auto-replies, bounces, spam and broken encodings."""

import io
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from customers.models import AuditEvent, Channel, ContactPoint
from tests.factories import ContactPointFactory, CustomerFactory, TicketFactory
from tickets.channels.inbound_email import EmailTooLarge, email_ingest, email_parse, mbox_split, quoted_history_trim
from tickets.models import Attachment, Message, QuarantinedEmail, Ticket

pytestmark = pytest.mark.django_db

EMAILS = Path(__file__).parent / "emails"


def _raw(name: str, **replace: str) -> bytes:
    data = (EMAILS / name).read_bytes()
    for key, value in replace.items():
        data = data.replace(key.encode(), value.encode())
    return data


def _ingest(name: str, **replace: str):
    return email_ingest(raw=_raw(name, **replace))


@pytest.fixture
def maria_conversation():
    """Maria wrote; an agent replied by email with Message-ID <desk-reply-1@desk.example.com>."""
    first = _ingest("multipart_alternative.eml")
    ticket = Ticket.objects.get(pk=first.ticket_id)
    Message.objects.create(
        ticket=ticket,
        channel=Channel.EMAIL,
        direction=Message.Direction.OUTBOUND,
        body="Hi Maria, please return them with the enclosed label.",
        external_id="<desk-reply-1@desk.example.com>",
        delivery=Message.Delivery.SENT,
    )
    Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.PENDING)
    return ticket


class TestCharsets:
    @pytest.mark.parametrize(
        ("name", "sender", "subject", "snippet", "first_name"),
        [
            ("plain_utf8.eml", "jose.nunez@example.org", "¿Dónde está mi pedido? 📦", "todavía no ha llegado", "José"),
            (
                "latin1_quoted_printable.eml",
                "juergen@beispiel.de",
                "Rücksendung für Bestellung 2201",
                "die Größe der Schuhe",
                "Jürgen",
            ),
            ("shift_jis.eml", "taro.yamada@example.jp", "注文の配送について", "注文番号3305の商品", "山田太郎"),
        ],
    )
    def test_a_message_in_any_charset_opens_a_ticket_with_decoded_text(
        self, name, sender, subject, snippet, first_name
    ):
        result = _ingest(name)

        assert result.status == "stored"
        message = Message.objects.select_related("ticket__customer").get(pk=result.message_pk)
        assert message.sender == sender and message.ticket.subject == subject
        assert snippet in message.body
        assert message.ticket.customer.first_name == first_name
        assert ContactPoint.objects.get(channel="email", value=sender).customer == message.ticket.customer

    @pytest.mark.parametrize(
        ("raw", "name", "subject"),
        [
            # Raw 8-bit UTF-8 in the headers, as many clients send them against RFC 5322.
            ("From: José Núñez <jose@example.com>\nSubject: ¿Dónde?\n".encode(), ("José", "Núñez"), "¿Dónde?"),
            # Raw Latin-1 in the headers: read as Windows-1252, not as replacement characters.
            ("From: Jürgen Müller <j@example.de>\nSubject: Rücksendung\n".encode("latin-1"), ("Jürgen", "Müller"),
             "Rücksendung"),
            # An encoded name that holds a comma: the address is found before the name is decoded.
            (b"From: =?utf-8?q?L=C3=B3pez=2C_Mar=C3=ADa?= <m@example.com>\n"
             b"Subject: =?iso-8859-1?q?Caf=E9?= =?utf-8?b?w7w=?=\n",
             ("María", "López"), "Caféü"),
        ],
    )  # fmt: skip
    def test_headers_in_8_bit_or_encoded_words_are_decoded(self, raw, name, subject):
        raw += b"Message-ID: <hdr@example.com>\nContent-Type: text/plain; charset=utf-8\n\nHello\n"

        message = Message.objects.select_related("ticket__customer").get(pk=email_ingest(raw=raw).message_pk)

        customer = message.ticket.customer
        assert (customer.first_name, customer.last_name) == name
        assert message.ticket.subject == subject
        assert message.sender in {"jose@example.com", "j@example.de", "m@example.com"}

    def test_the_message_id_is_stored_on_the_message(self):
        result = _ingest("plain_utf8.eml")

        assert Message.objects.get(pk=result.message_pk).external_id == "<CAF7x1+plain-utf8@mail.example.org>"

    def test_broken_encodings_never_crash_and_keep_what_can_be_read(self):
        result = _ingest("broken_encoding.eml")

        message = Message.objects.select_related("ticket__customer").get(pk=result.message_pk)
        assert result.status == "stored"
        assert message.ticket.customer.first_name == "Björn"
        assert "Jag best" in message.body and "jacka" in message.body
        assert "åäö" in message.body  # the part in an unknown charset, read as Latin-1
        assert message.attachments.count() == 1

    def test_windows_1252_punctuation_is_decoded(self, maria_conversation):
        result = _ingest("outlook_reply.eml")

        assert "Got it \u2013 thanks for the quick \u201cyes\u201d." in Message.objects.get(pk=result.message_pk).body

    def test_a_message_without_message_id_gets_a_stable_one(self):
        first = _ingest("no_message_id.eml")
        again = _ingest("no_message_id.eml")

        assert first.message_id.endswith("@desk.invalid>")
        assert (again.status, again.message_pk) == ("duplicate", first.message_pk)


class TestBodies:
    def test_multipart_alternative_keeps_text_and_sanitised_html(self):
        message = Message.objects.get(pk=_ingest("multipart_alternative.eml").message_pk)

        assert message.body.startswith("Hi, I ordered boots in size 39")
        assert "<b>size 39</b>" in message.body_html and "<style>" not in message.body_html

    def test_html_only_mail_is_sanitised_and_flattened(self):
        message = Message.objects.get(pk=_ingest("html_only.eml").message_pk)

        for forbidden in ("<script", "onload", "onclick", "javascript:", "<iframe", "pixel.example.net", "style="):
            assert forbidden not in message.body_html
        assert 'href="https://track.example.net/123"' in message.body_html
        assert 'The tracking link here says "delivered" but nothing arrived.' in message.body
        assert "Order: 5521" in message.body and "<" not in message.body


class TestAttachments:
    def test_attachments_are_stored_with_safe_names(self):
        message = Message.objects.get(pk=_ingest("attachments.eml").message_pk)

        stored = {a.filename: a for a in message.attachments.all()}
        assert set(stored) == {"facture_été.pdf", "colis.png", "passwd.html"}
        assert stored["facture_été.pdf"].file.read().startswith(b"%PDF")
        assert stored["colis.png"].content_type == "image/png" and stored["colis.png"].size == 70

    def test_downloads_are_attachments_never_rendered(self, agent_client):
        message = Message.objects.get(pk=_ingest("attachments.eml").message_pk)
        html_file = message.attachments.get(filename="passwd.html")

        response = agent_client.get(reverse("attachment_download", args=[html_file.pk]))

        assert response.status_code == 200
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["Content-Type"] == "application/octet-stream"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]

    def test_a_pdf_keeps_its_type_but_still_downloads(self, agent_client):
        message = Message.objects.get(pk=_ingest("attachments.eml").message_pk)
        pdf = message.attachments.get(content_type="application/pdf")

        response = agent_client.get(reverse("attachment_download", args=[pdf.pk]))

        assert response["Content-Type"] == "application/pdf"
        assert "attachment" in response["Content-Disposition"] and "facture" in response["Content-Disposition"]

    def test_only_desk_users_who_read_tickets_may_download(self, client, nobody):
        attachment = (
            Attachment.objects.first()
            or Message.objects.get(pk=_ingest("attachments.eml").message_pk).attachments.first()
        )
        url = reverse("attachment_download", args=[attachment.pk])

        anonymous = client.get(url)
        client.force_login(nobody)
        forbidden = client.get(url)

        assert anonymous.status_code == 302 and "login" in anonymous["Location"]
        assert forbidden.status_code == 403

    def test_an_oversized_attachment_is_skipped_not_fatal(self, settings):
        settings.DESK_ATTACHMENT_MAX_BYTES = 50

        message = Message.objects.get(pk=_ingest("attachments.eml").message_pk)

        assert set(message.attachments.values_list("filename", flat=True)) == {"facture_été.pdf"}


class TestThreading:
    def test_a_reply_threads_by_in_reply_to_and_reopens_the_ticket(self, maria_conversation):
        result = _ingest("reply_thread.eml")

        assert result.ticket_id == maria_conversation.pk
        assert Ticket.objects.get(pk=maria_conversation.pk).status == Ticket.Status.OPEN

    def test_the_quoted_history_is_trimmed_for_display_but_kept_in_full(self, maria_conversation):
        message = Message.objects.get(pk=_ingest("reply_thread.eml").message_pk)

        assert message.body_display == "Thanks! I have sent them back today."
        assert "please return them" in message.body

    def test_the_ticket_page_shows_the_reply_without_its_quoted_history(self, maria_conversation, agent_client):
        _ingest("reply_thread.eml")

        page = agent_client.get(reverse("tickets:detail", args=[maria_conversation.pk])).content.decode()

        assert "Thanks! I have sent them back today." in page
        assert "Kind regards," not in page  # the quoted block under the reply
        assert "Support &lt;support@desk.example.com&gt; wrote:" not in page

    def test_a_reply_with_nothing_quoted_stores_no_separate_display_text(self, maria_conversation):
        message = Message.objects.get(pk=_ingest("plain_utf8.eml").message_pk)

        assert message.body_display == ""

    def test_outlook_original_message_blocks_are_trimmed(self, maria_conversation):
        message = Message.objects.get(pk=_ingest("outlook_reply.eml").message_pk)

        assert message.ticket_id == maria_conversation.pk
        assert message.body_display == "Got it \u2013 thanks for the quick \u201cyes\u201d."

    def test_a_ticket_reference_in_the_subject_threads(self, maria_conversation):
        Ticket.objects.filter(pk=maria_conversation.pk).update(last_message_at="2020-01-01T00:00:00Z")

        result = _ingest("reply_subject_ref.eml", TICKET=str(maria_conversation.pk))

        message = Message.objects.get(pk=result.message_pk)
        assert result.ticket_id == maria_conversation.pk
        assert message.body_display == "One more thing: the label did not print."

    def test_a_ticket_reference_from_a_stranger_does_not_join_their_ticket(self):
        customer = CustomerFactory()
        ContactPointFactory(customer=customer, value="owner@example.com")
        theirs = TicketFactory(customer=customer)

        result = _ingest("reply_subject_ref.eml", TICKET=str(theirs.pk))

        assert result.ticket_id != theirs.pk

    def test_the_same_mail_twice_is_stored_once(self):
        first = _ingest("plain_utf8.eml")
        again = _ingest("plain_utf8.eml")

        assert again.status == "duplicate" and again.message_pk == first.message_pk
        assert Message.objects.count() == 1


class TestNoLoops:
    def test_an_auto_reply_to_our_mail_is_a_note_and_does_not_reopen(self, maria_conversation):
        result = _ingest("auto_reply.eml")

        note = Message.objects.get(pk=result.message_pk)
        assert result.status == "noted" and note.direction == Message.Direction.NOTE
        assert note.ticket_id == maria_conversation.pk
        assert Ticket.objects.get(pk=maria_conversation.pk).status == Ticket.Status.PENDING

    def test_an_unthreaded_auto_reply_opens_nothing(self):
        result = _ingest("auto_reply_unthreaded.eml")

        assert (result.status, result.reason) == ("quarantined", "auto_reply")
        assert not Ticket.objects.exists()

    def test_a_bounce_marks_our_message_failed_and_notes_it(self, maria_conversation):
        result = _ingest("bounce.eml")

        assert (result.status, result.ticket_id) == ("noted", maria_conversation.pk)
        bounced = Message.objects.get(external_id="<desk-reply-1@desk.example.com>")
        assert bounced.delivery == Message.Delivery.FAILED and "Bounced" in bounced.delivery_error
        assert Ticket.objects.get(pk=maria_conversation.pk).status == Ticket.Status.PENDING

    def test_a_bounce_about_nothing_we_know_is_quarantined(self):
        result = _ingest("bounce.eml")

        assert (result.status, result.reason) == ("quarantined", "bounce")
        assert not Ticket.objects.exists()


class TestSpam:
    def test_spam_flagged_upstream_stays_out_of_the_inbox(self):
        result = _ingest("spam.eml")

        assert (result.status, result.reason) == ("quarantined", "spam")
        assert not Ticket.objects.exists() and not ContactPoint.objects.exists()
        held = QuarantinedEmail.objects.get()
        assert held.subject == "You have WON €1,000,000!"
        assert held.raw.read() == _raw("spam.eml")

    def test_replayed_spam_is_not_held_twice(self):
        _ingest("spam.eml")

        assert _ingest("spam.eml").status == "duplicate"
        assert QuarantinedEmail.objects.count() == 1


class TestQuotedHistory:
    @pytest.mark.parametrize(
        ("text", "expected"),
        [
            ("Yes please.\n\nOn Mon, 1 Jan 2026, Desk <d@x> wrote:\n> old", "Yes please."),
            ("Oui.\n\nLe lun. 1 janv. 2026 à 10:00, Desk <d@x> a écrit :\n> vieux", "Oui."),
            ("Sí.\n\nEl lun, 1 ene 2026 a las 10:00, Desk <d@x> escribió:\n> viejo", "Sí."),
            ("Ja.\n\nAm Mo., 1. Jan. 2026 um 10:00 Uhr schrieb Desk <d@x>:\n> alt", "Ja."),
            ("Thanks\n\nOn Mon, 1 Jan 2026 at 10:00, Desk Support\n<d@x> wrote:\n> old", "Thanks"),
            ("> you said\nI answer inline\n> and more\nagain", "> you said\nI answer inline\n> and more\nagain"),
            ("> only a quote", "> only a quote"),
        ],
    )
    def test_trims_attribution_and_trailing_quotes(self, text, expected):
        assert quoted_history_trim(text) == expected


class TestCommand:
    def test_ingest_email_reads_files_and_mbox_with_several_messages(self, capsys):
        call_command("ingest_email", str(EMAILS / "two_messages.mbox"), str(EMAILS / "plain_utf8.eml"))

        out = capsys.readouterr().out
        assert out.count("stored") == 3
        first = Message.objects.get(external_id="<mbox-1@example.com>")
        assert "From the archive: this line was escaped." in first.body

    def test_ingest_email_reads_stdin(self, monkeypatch, capsys):
        monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"From x@y Mon Nov 16\n" + _raw("spam.eml"))))

        call_command("ingest_email")

        assert "quarantined" in capsys.readouterr().out

    def test_an_oversized_message_exits_with_dataerr(self, settings, tmp_path):
        settings.DESK_EMAIL_MAX_BYTES = 100
        path = tmp_path / "big.eml"
        path.write_bytes(_raw("plain_utf8.eml"))

        with pytest.raises(SystemExit) as exit_info:
            call_command("ingest_email", str(path))

        assert exit_info.value.code == 65
        with pytest.raises(EmailTooLarge):
            email_ingest(raw=_raw("plain_utf8.eml"))

    def test_mbox_split_leaves_a_plain_message_whole(self):
        assert mbox_split(b"Subject: x\n\nFrom here on, text.\n") == [b"Subject: x\n\nFrom here on, text.\n"]


@pytest.mark.parametrize("name", sorted(p.name for p in EMAILS.glob("*.eml")))
def test_every_fixture_parses_without_error(name):
    parsed = email_parse(_raw(name, TICKET="1"))

    assert parsed.message_id.startswith("<") and not parsed.unreadable


class TestRelease:
    def test_an_admin_releases_wrongly_held_spam_into_the_inbox(self):
        from tickets.channels.inbound_email import email_release

        _ingest("spam.eml")
        held = QuarantinedEmail.objects.get()

        result = email_release(item=held)

        assert result.status == "stored"
        assert Ticket.objects.get().subject == "You have WON €1,000,000!"
        held.refresh_from_db()
        assert held.released_at is not None
        assert email_release(item=held) is None

    def test_the_admin_release_action(self, admin_user, client):
        _ingest("auto_reply_unthreaded.eml")
        client.force_login(admin_user)
        held = QuarantinedEmail.objects.get()

        client.post(
            reverse("admin:tickets_quarantinedemail_changelist"),
            {"action": "release", "_selected_action": [held.pk]},
        )

        assert Ticket.objects.count() == 1


class TestAdminKeys:
    def test_an_admin_creates_a_key_and_sees_it_once(self, admin_user, client):
        from supportdesk.models import ApiKey

        admin_user.is_superuser = True
        admin_user.save()
        client.force_login(admin_user)

        response = client.post(reverse("admin:supportdesk_apikey_add"), {"name": "Shop", "scope": "write"}, follow=True)

        key = ApiKey.objects.get()
        shown = [str(m) for m in response.context["messages"]]
        raw = shown[0].split("The new key is ")[1].split(" ")[0]
        assert ApiKey.hash(raw) == key.hashed and key.created_by == admin_user


class TestRoundTrips:
    """Every inbound email goes through here: its queries are budgeted and stay flat."""

    def _mail(self, sender: str, n: int, in_reply_to: str = "") -> bytes:
        thread = f"In-Reply-To: {in_reply_to}\n" if in_reply_to else ""
        return (
            f"From: {sender}\nTo: support@desk.example.com\nSubject: Order {n}\nMessage-ID: <rt-{n}@example.com>\n"
            f"{thread}Content-Type: text/plain; charset=utf-8\n\nWhere is my parcel? {n}\n"
        ).encode()

    @pytest.mark.parametrize("history", [1, 30])
    def test_a_known_sender_continuing_a_ticket_costs_a_fixed_few_queries(self, history, django_assert_max_num_queries):
        for n in range(history):
            email_ingest(raw=self._mail("ana@example.com", n))

        # sender and open ticket in one, insert, ticket and customer touch, in a savepoint
        # (the transaction itself outside a test); the unique Message-ID stops a replay
        with django_assert_max_num_queries(6):
            result = email_ingest(raw=self._mail("ana@example.com", 1000))

        assert result.status == "stored"
        assert Ticket.objects.count() == 1 and Message.objects.count() == history + 1

    def test_a_threaded_reply_costs_a_fixed_few_queries(self, django_assert_max_num_queries):
        first = email_ingest(raw=self._mail("ana@example.com", 1))

        # as above, the thread found with whether its customer owns the sender's address
        with django_assert_max_num_queries(6):
            reply = email_ingest(raw=self._mail("ana@example.com", 2, in_reply_to="<rt-1@example.com>"))

        assert reply.ticket_id == first.ticket_id

    @pytest.mark.parametrize("unknown", [0, 2, 59])
    def test_a_reply_threads_by_its_references_whatever_their_count(self, unknown):
        # given a solved conversation (so only its headers can thread a reply into it) and a
        # reply whose References hold other ids before the parent (the thread lookup is
        # compiled once per count of ids, at most 50 of them)
        first = email_ingest(raw=self._mail("ana@example.com", 1))
        Ticket.objects.filter(pk=first.ticket_id).update(status=Ticket.Status.SOLVED)
        references = " ".join([*(f"<other-{n}@example.com>" for n in range(unknown)), "<rt-1@example.com>"])
        raw = self._mail("ana@example.com", 2).replace(
            b"Content-Type", f"References: {references}\nContent-Type".encode()
        )

        # when it arrives
        reply = email_ingest(raw=raw)

        # then it continues the conversation and reopens it
        assert reply.status == "stored" and reply.ticket_id == first.ticket_id
        assert Ticket.objects.get(pk=first.ticket_id).status == Ticket.Status.OPEN

    @pytest.mark.parametrize(("sender", "joins"), [("ana.work@example.com", True), ("eve@example.com", False)])
    def test_a_threaded_reply_joins_its_ticket_only_from_that_customer(self, sender, joins):
        # given Ana's conversation, and a second address of hers
        first = email_ingest(raw=self._mail("ana@example.com", 1))
        ana = Ticket.objects.get(pk=first.ticket_id).customer
        ContactPointFactory(customer=ana, channel="email", value="ana.work@example.com")

        # when a reply to it arrives from her other address, or from someone else
        reply = email_ingest(raw=self._mail(sender, 2, in_reply_to="<rt-1@example.com>"))

        # then hers joins the conversation; anyone else's opens a conversation of their own
        ticket = Ticket.objects.get(pk=reply.ticket_id)
        assert (reply.ticket_id == first.ticket_id) is joins
        assert (ticket.customer_id == ana.pk) is joins

    def test_a_known_sender_s_new_conversation_costs_a_fixed_few_queries(self, django_assert_max_num_queries):
        customer = CustomerFactory()
        ContactPointFactory(customer=customer, channel="email", value="ana@example.com")

        # no open ticket by the sender, their customer, the SLA policy and calendar, the
        # ticket, webhook subscriptions, the message, the customer's touch, in a savepoint
        with django_assert_max_num_queries(10):
            result = email_ingest(raw=self._mail("ana@example.com", 1))

        ticket = Ticket.objects.get(pk=result.ticket_id)
        assert result.status == "stored" and ticket.customer_id == customer.pk
        customer.refresh_from_db()
        assert customer.last_contact_at is not None

    def test_a_new_sender_costs_a_fixed_few_queries(self, django_assert_max_num_queries):
        # given nobody who writes from this address
        assert not ContactPoint.objects.exists()

        # when their first mail arrives: no open ticket and no contact point found, then the
        # customer, its contact point and audit row, and the new ticket and message as above
        with django_assert_max_num_queries(12):
            result = email_ingest(raw=self._mail('"Ana Ruiz" <Ana.Ruiz@example.com>', 1))

        # then the customer exists with its contact, audited, contacted when the mail came
        point = ContactPoint.objects.select_related("customer").get(channel="email", value="ana.ruiz@example.com")
        customer = point.customer
        assert (customer.first_name, customer.last_name) == ("Ana", "Ruiz") and point.is_primary
        assert customer.last_contact_at == Message.objects.get(pk=result.message_pk).created_at
        assert AuditEvent.objects.filter(customer=customer, action=AuditEvent.Action.CUSTOMER_CREATED).count() == 1
        assert Ticket.objects.get(pk=result.ticket_id).customer_id == customer.pk

    def test_a_replay_from_another_sender_changes_nothing(self):
        # given a stored mail
        first = email_ingest(raw=self._mail("ana@example.com", 1))
        # when a mail with the same Message-ID comes from an address the desk has not seen
        # (the insert is refused, the attempt rolled back, then found as a duplicate)
        again = email_ingest(raw=self._mail("someone-new@example.com", 1))

        # then it is a duplicate and nothing of it was kept: no customer, ticket or audit row
        assert (again.status, again.message_pk, again.ticket_id) == ("duplicate", first.message_pk, first.ticket_id)
        assert not ContactPoint.objects.filter(value="someone-new@example.com").exists()
        assert Ticket.objects.count() == 1 and Message.objects.count() == 1
        assert AuditEvent.objects.filter(action=AuditEvent.Action.CUSTOMER_CREATED).count() == 1

    def test_mail_to_a_merged_customer_continues_the_survivor_s_ticket(self, agent):
        from customers.merge import customer_merge

        survivor, merged = CustomerFactory(), CustomerFactory()
        ContactPointFactory(customer=merged, channel="email", value="old@example.com")
        open_ticket = TicketFactory(customer=survivor, channel="email", status=Ticket.Status.OPEN)
        customer_merge(survivor=survivor, merged=merged, actor=agent, reason="Same person")

        result = email_ingest(raw=self._mail("old@example.com", 1))

        assert result.ticket_id == open_ticket.pk
        assert Ticket.objects.filter(customer=merged).count() == 0

    def test_losing_a_race_for_the_same_message_id_leaves_nothing_behind(self):
        from tickets.services import message_receive

        first = email_ingest(raw=self._mail("ana@example.com", 1))
        # A second delivery that did not see the first (its duplicate check ran before the
        # first committed): the unique (channel, external_id) stops it.
        again = message_receive(
            channel="email",
            sender="someone-new@example.com",
            body="Where is my parcel? 1",
            external_id="<rt-1@example.com>",
            unseen=True,
        )

        assert again.pk == first.message_pk
        assert Ticket.objects.count() == 1 and Message.objects.count() == 1
        assert not ContactPoint.objects.filter(value="someone-new@example.com").exists()

    def test_a_ticket_solved_after_it_was_read_is_still_reopened(self):
        from tickets.services import message_receive

        first = email_ingest(raw=self._mail("ana@example.com", 1))
        ticket = Ticket.objects.get(pk=first.ticket_id)  # read while open...
        Ticket.objects.filter(pk=ticket.pk).update(status=Ticket.Status.SOLVED)  # ...solved meanwhile

        message_receive(channel="email", sender="ana@example.com", body="Still broken", ticket=ticket)

        ticket.refresh_from_db()
        assert ticket.status == Ticket.Status.OPEN and ticket.solved_at is None

    def test_a_reply_to_a_closed_ticket_leaves_it_closed(self):
        from tickets.services import message_receive

        ticket = TicketFactory(status=Ticket.Status.CLOSED)
        ContactPointFactory(customer=ticket.customer, channel="email", value="ana@example.com")

        message = message_receive(channel="email", sender="ana@example.com", body="Thanks", ticket=ticket)

        ticket.refresh_from_db()
        assert message.ticket_id == ticket.pk and ticket.status == Ticket.Status.CLOSED
        assert ticket.last_message_at == message.created_at
