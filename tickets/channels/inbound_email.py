"""Inbound email: from raw RFC 822 bytes (an MTA pipe, the email webhook) to a ticket message.

One code path for ``manage.py ingest_email`` and ``/webhooks/email/``. Real mail is messy, so
parsing never raises: any charset, RFC 2047 headers, broken encodings (decoded with
replacement characters), HTML-only bodies (sanitised with nh3 and flattened for the text body),
attachments (stored, served only as downloads). A reply is threaded into its ticket by
In-Reply-To/References against the Message-IDs the desk stored, else by a ``[#123]`` reference
in the subject. Mail that must not open a ticket is recognised first: spam flagged by the
upstream filter, auto-replies and bounces (which are noted on their ticket when they thread,
else quarantined, so no auto-responder can start a loop).
"""

import email
import hashlib
import logging
import re
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import Header, decode_header
from email.message import Message as MimeMessage
from email.parser import BytesHeaderParser
from email.utils import getaddresses, parseaddr, parsedate_to_datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from customers.models import Channel, ContactPoint
from supportdesk.compiled import compiled_query

from ..attachments import attachment_store
from ..models import Message, QuarantinedEmail, Ticket
from ..services import message_receive
from .html import html_sanitise, html_to_text

logger = logging.getLogger(__name__)

TICKET_REFERENCE = re.compile(r"\[#(\d{1,12})\]")
_MESSAGE_ID = re.compile(r"<[^<>\s]+>")
_AUTO_PRECEDENCE = {"bulk", "junk", "auto_reply", "auto-reply"}
_BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster)@", re.IGNORECASE)


class EmailTooLarge(ValueError):
    """The raw message is over ``DESK_EMAIL_MAX_BYTES``; the MTA should bounce it."""


@dataclass(frozen=True)
class ParsedAttachment:
    filename: str
    content_type: str
    data: bytes


@dataclass
class ParsedEmail:
    """What the desk needs from one email, decoded and sanitised."""

    message_id: str
    sender: str = ""
    sender_name: str = ""
    to: list[str] = field(default_factory=list)
    subject: str = ""
    text: str = ""
    html: str = ""
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    date: datetime | None = None
    attachments: list[ParsedAttachment] = field(default_factory=list)
    spam: bool = False
    auto_reply: bool = False
    bounce: bool = False
    bounced_ids: list[str] = field(default_factory=list)
    unreadable: str = ""  # why the message could not be read, if it could not


@dataclass(frozen=True)
class EmailIngestResult:
    """``status`` is stored (a ticket message), noted (an auto-reply or bounce on its ticket),
    quarantined, or duplicate (this Message-ID was seen before)."""

    status: str
    message_id: str
    ticket_id: int | None = None
    message_pk: int | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        return {
            "status": self.status,
            "message_id": self.message_id,
            "ticket": self.ticket_id,
            "message": self.message_pk,
            "reason": self.reason,
        }


# ---------------------------------------------------------------------------------------------
# Parsing


def _header(msg: MimeMessage, name: str) -> str:
    """A header as text (RFC 2047 encoded words decoded, unfolded), whatever state it is in;
    never raises."""
    value = msg.get(name)
    if value is None:
        return ""
    if isinstance(value, Header):  # raw 8-bit bytes in the header (compat32 wraps them)
        text = "".join(_header_chunk_text(chunk, charset) for chunk, charset in decode_header(value))
    else:
        text = _decode_words(str(value))
    return _clean(re.sub(r"\s+", " ", text).strip())


def raw_headers(msg: MimeMessage) -> dict[str, str]:
    """The first value of each header, unfolded, as sent (no RFC 2047 decoding), keyed in lower
    case: flags and Message-IDs are plain ASCII, so they are read from here."""
    found: dict[str, str] = {}
    for name, value in msg.raw_items():
        key = str(name).strip().lower()
        if key not in found:
            found[key] = re.sub(r"\s+", " ", str(value)).strip()
    return found


def _decode_words(raw: str) -> str:
    if "=?" not in raw:
        return raw
    try:
        parts = decode_header(raw)
    except Exception:
        return raw
    return "".join(_header_chunk_text(chunk, charset) for chunk, charset in parts)


def _header_chunk_text(chunk: bytes | str, charset: str | None) -> str:
    """A decoded piece of a header: its declared charset, else UTF-8, else Windows-1252 (the
    usual truth behind a mislabelled header, e.g. Latin-1 bytes declared as UTF-8)."""
    if isinstance(chunk, str):
        return chunk
    for candidate in (charset, "utf-8"):
        if candidate and _known_codec(candidate):
            try:
                return chunk.decode(candidate)
            except UnicodeDecodeError:
                continue
    return chunk.decode("cp1252", errors="replace")


def _bytes_to_text(data: bytes, charset: str | None) -> str:
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode(charset if _known_codec(charset) else "latin-1", errors="replace")


def _known_codec(charset: str | None) -> bool:
    import codecs

    if not charset:
        return False
    try:
        codecs.lookup(charset)
    except LookupError:
        return False
    return True


def _clean(text: str) -> str:
    """Text safe to store: undecodable bytes the parser smuggled in as surrogates are re-read
    (UTF-8, else Windows-1252), NUL characters dropped."""
    if not text:
        return ""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        data = text.encode("utf-8", "surrogateescape")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data.decode("cp1252", errors="replace")
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text.replace("\x00", "")


def _message_ids(value: str) -> list[str]:
    return _MESSAGE_ID.findall(value or "")


def _part_text(part: MimeMessage) -> str:
    """A text part's content: in its declared charset (bytes invalid in it become U+FFFD), else
    UTF-8, else Latin-1 when the charset is unknown or missing. Bad base64 or quoted-printable
    is decoded as far as it goes (the stdlib never raises here)."""
    payload = part.get_payload(decode=True) or b""
    if isinstance(payload, str):
        return payload
    try:
        charset = part.get_content_charset()
    except Exception:  # a malformed Content-Type parameter
        charset = None
    return _bytes_to_text(payload, charset)


def _sender(msg: MimeMessage) -> tuple[str, str]:
    # The address is parsed before the display name is decoded: a decoded name may hold the
    # commas and angle brackets that encoding protected.
    raw = msg.get("From")
    raw = re.sub(r"\s+", " ", str(raw)) if raw is not None and not isinstance(raw, Header) else _header(msg, "From")
    name, addr = parseaddr(raw)
    return _clean(addr.strip().lower()), _clean(_decode_words(name)).strip()


def _recipients(msg: MimeMessage) -> list[str]:
    found = []
    for name in ("To", "Cc", "Delivered-To"):
        value = _header(msg, name)
        found += [addr.lower() for _, addr in getaddresses([value]) if addr]
    return found


def _date(msg: MimeMessage) -> datetime | None:
    try:
        moment = parsedate_to_datetime(raw_headers(msg).get("date", ""))
    except (TypeError, ValueError, IndexError):
        return None
    if moment is None:
        return None
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, timezone.get_fixed_timezone(0))
    return moment


def is_auto_reply(headers: dict[str, str]) -> bool:
    """Auto-Submitted (RFC 3834), the common X-Autoreply family, Precedence: bulk/junk/auto_reply,
    and Exchange's X-Auto-Response-Suppress. ``headers`` are keyed in lower case."""
    auto_submitted = headers.get("auto-submitted", "").lower()
    if auto_submitted and auto_submitted != "no":
        return True
    if headers.get("x-autoreply") or headers.get("x-autorespond") or headers.get("x-auto-reply"):
        return True
    if headers.get("precedence", "").lower() in _AUTO_PRECEDENCE:
        return True
    suppress = headers.get("x-auto-response-suppress", "").lower()
    return bool(suppress) and any(word in suppress for word in ("all", "oof", "autoreply"))


def is_spam(headers: dict[str, str]) -> bool:
    """The verdict of the upstream filter (SpamAssassin, rspamd and friends)."""
    if headers.get("x-spam-flag", "").upper().startswith("YES"):
        return True
    if headers.get("x-spam-status", "").lower().startswith("yes"):
        return True
    return headers.get("x-spam", "").lower() in {"yes", "true", "spam"}


def _bounced_ids(msg: MimeMessage) -> list[str]:
    """The Message-IDs of our own mails that a delivery report is about."""
    ids: list[str] = []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/rfc822":
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if inner is not None:
                ids += _message_ids(raw_headers(inner).get("message-id", ""))
        elif ctype == "text/rfc822-headers":
            headers = BytesHeaderParser(policy=policy.compat32).parsebytes(part.get_payload(decode=True) or b"")
            ids += _message_ids(str(headers.get("Message-ID", "")))
    return ids


def _leaves(part: MimeMessage, in_alternative: bool = False):
    """(part, content type, inside multipart/alternative) for every leaf, depth first. An
    attached message (message/rfc822) is a leaf: its own body is not ours."""
    ctype = part.get_content_type()
    if ctype.startswith("multipart/") and part.is_multipart():
        for child in part.get_payload():
            yield from _leaves(child, ctype == "multipart/alternative")
    else:
        yield part, ctype, in_alternative


def _bodies_and_attachments(msg: MimeMessage) -> tuple[str, str, list[ParsedAttachment]]:
    """The text and HTML bodies (the first inline part of each type) and the attachments.

    Inline text parts beyond the first (outside an alternative) are appended to the text body.
    """
    text_part = html_part = None
    extra_text: list[str] = []
    attachments: list[ParsedAttachment] = []
    for part, ctype, in_alternative in _leaves(msg):
        try:
            filename = part.get_filename() or ""
        except Exception:
            filename = ""
        disposition = part.get_content_disposition()
        if ctype in ("text/plain", "text/html") and not filename and disposition != "attachment":
            if ctype == "text/plain" and text_part is None:
                text_part = part
            elif ctype == "text/html" and html_part is None:
                html_part = part
            elif ctype == "text/plain" and not in_alternative:
                extra_text.append(_part_text(part))
            continue
        if ctype in ("message/delivery-status", "text/rfc822-headers"):
            continue
        try:
            if ctype == "message/rfc822":
                inner = part.get_payload()
                data = inner[0].as_bytes() if isinstance(inner, list) and inner else b""
            else:
                data = part.get_payload(decode=True) or b""
        except Exception:
            data = b""
        if not data:
            continue
        name = _clean(_decode_words(filename)) or _default_name(ctype)
        attachments.append(ParsedAttachment(filename=name, content_type=ctype, data=data))
    text = _part_text(text_part) if text_part is not None else ""
    if extra_text:
        text = "\n\n".join(chunk.strip() for chunk in [text, *extra_text] if chunk.strip())
    html = _part_text(html_part) if html_part is not None else ""
    return _clean(text), _clean(html), attachments


def _default_name(content_type: str) -> str:
    extension = {"image/png": "png", "image/jpeg": "jpg", "application/pdf": "pdf", "message/rfc822": "eml"}
    return f"attachment.{extension.get(content_type, 'bin')}"


def _fallback_id(raw: bytes) -> str:
    return f"<sha256-{hashlib.sha256(raw).hexdigest()[:40]}@desk.invalid>"


def email_parse(raw: bytes) -> ParsedEmail:
    """Read one raw RFC 822 message. Never raises; an unreadable one says why in ``unreadable``."""
    try:
        # compat32: headers stay strings, read when asked for. policy.default parses every
        # structured header again on each access, a third of the cost of a mail here.
        msg = email.message_from_bytes(raw, policy=policy.compat32)
    except Exception as exc:  # pragma: no cover — the stdlib parser is itself lenient
        return ParsedEmail(message_id=_fallback_id(raw), unreadable=f"unparseable: {type(exc).__name__}")
    headers = raw_headers(msg)
    message_ids = _message_ids(headers.get("message-id", ""))
    parsed = ParsedEmail(message_id=(message_ids[0] if message_ids else _fallback_id(raw))[:255])
    parsed.sender, parsed.sender_name = _sender(msg)
    parsed.to = _recipients(msg)
    parsed.subject = _header(msg, "Subject")[:255]
    parsed.in_reply_to = _message_ids(headers.get("in-reply-to", ""))
    parsed.references = _message_ids(headers.get("references", ""))
    parsed.date = _date(msg)
    parsed.spam = is_spam(headers)
    parsed.auto_reply = is_auto_reply(headers)
    is_report = msg.get_content_type() == "multipart/report"
    return_path = headers.get("return-path", "")
    parsed.bounce = is_report or bool(_BOUNCE_SENDERS.match(parsed.sender)) or return_path == "<>"
    if parsed.bounce:
        parsed.bounced_ids = _bounced_ids(msg)
    try:
        parsed.text, html, parsed.attachments = _bodies_and_attachments(msg)
    except Exception as exc:  # belt and braces: keep the message, say why it is unreadable
        logger.warning("Could not read the body of %s", parsed.message_id, exc_info=True)
        parsed.unreadable = f"body: {type(exc).__name__}"
        html = ""
    parsed.html = html_sanitise(html)
    if not parsed.text.strip() and parsed.html:
        parsed.text = html_to_text(parsed.html)
    parsed.text = parsed.text.replace("\r\n", "\n").replace("\x00", "")
    if not parsed.sender and not parsed.unreadable:
        parsed.unreadable = "no sender address"
    return parsed


# ---------------------------------------------------------------------------------------------
# Quoted history

_QUOTE_HEADERS = [
    re.compile(r"^On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^Le\b.{0,300}\ba écrit\s?:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^El\b.{0,300}\bescribió:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^Am\b.{0,300}\bschrieb\b.{0,200}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^-{2,}\s*(Original Message|Mensaje original|Message d'origine|Ursprüngliche Nachricht)\s*-{2,}", re.I),
    re.compile(r"^_{10,}\s*$"),
]
_FROM_LINE = re.compile(r"^(From|De|Von):\s.+", re.IGNORECASE)


def quoted_history_trim(text: str) -> str:
    """The reply without the quoted history under it (as mail clients add it), for display.

    Cuts at the first attribution line (``On ... wrote:`` in several languages, Outlook's
    ``-----Original Message-----`` or ``From:`` block) or at a trailing block of ``>`` lines.
    Quotes interleaved with the reply are kept. Returns the text unchanged if nothing is cut,
    or if cutting would leave nothing.
    """
    lines = text.split("\n")
    cut = len(lines)
    for index, line in enumerate(lines):
        stripped = line.strip()
        joined = f"{stripped} {lines[index + 1].strip()}" if index + 1 < len(lines) else stripped
        if any(p.match(stripped) or p.match(joined) for p in _QUOTE_HEADERS):
            cut = index
            break
        if (
            _FROM_LINE.match(stripped)
            and index + 1 < len(lines)
            and re.match(r"^(Sent|Date|Enviado|Envoyé|Gesendet|To|Para|À|An):", lines[index + 1].strip(), re.I)
        ):
            cut = index
            break
    head = lines[:cut]
    # A trailing block of quoted lines (bottom quoting without an attribution line).
    end = len(head)
    while end and (not head[end - 1].strip() or head[end - 1].lstrip().startswith(">")):
        end -= 1
    if any(line.lstrip().startswith(">") for line in head[end:]):
        head = head[:end]
    trimmed = "\n".join(head).strip()
    return trimmed if trimmed else text.strip()


# ---------------------------------------------------------------------------------------------
# Ingesting


@compiled_query(Message, shaped=True)
def _latest_message_of(count: int, *, sender: str, **ids: str) -> QuerySet:
    # With whether the sender's address belongs to that ticket's customer, which spares a
    # threaded reply from its own sender the lookup of its customer.
    sender_owns = ContactPoint.objects.filter(
        customer_id=OuterRef("ticket__customer_id"),
        customer__merged_into__isnull=True,
        channel=Channel.EMAIL,
        value=sender,
    )
    return (
        Message.objects.filter(channel__in=(Channel.EMAIL, Channel.WEB), external_id__in=list(ids.values()))
        .select_related("ticket")
        .annotate(sender_is_customer=Exists(sender_owns))
        .order_by("-created_at")[:1]
    )


def _thread_ticket(parsed: ParsedEmail) -> tuple[Ticket | None, bool]:
    """The ticket the mail replies to, and whether its sender is that ticket's customer (known
    only when it threads by its headers; ``False`` means: not checked here)."""
    # Up to 50 Message-IDs, deduplicated; one compiled shape per count (supportdesk.compiled).
    candidates = list(dict.fromkeys([*parsed.in_reply_to, *reversed(parsed.references), *parsed.bounced_ids]))[:50]
    if candidates:
        ids = {f"id{n}": value for n, value in enumerate(candidates)}
        found = _latest_message_of(shape=len(candidates), sender=parsed.sender, **ids)
        if found:
            return found[0].ticket, found[0].sender_is_customer
    match = TICKET_REFERENCE.search(parsed.subject)
    if match:
        return Ticket.objects.filter(pk=int(match.group(1))).first(), False
    return None, False


def _quarantine(parsed: ParsedEmail, raw: bytes, reason: str, detail: str = "") -> EmailIngestResult:
    # Checked here rather than for every mail: only mail that would be held can have been held before.
    if QuarantinedEmail.objects.filter(message_id=parsed.message_id).exists():
        return EmailIngestResult("duplicate", parsed.message_id, reason="quarantined")
    item = QuarantinedEmail(
        reason=reason,
        message_id=parsed.message_id,
        sender=parsed.sender[:254],
        subject=parsed.subject[:255],
        detail=(detail or parsed.unreadable)[:255],
    )
    item.raw.save("message.eml", ContentFile(raw), save=False)
    item.save()
    return EmailIngestResult(status="quarantined", message_id=parsed.message_id, reason=reason)


def _note_on_ticket(parsed: ParsedEmail, ticket: Ticket, kind: str) -> EmailIngestResult:
    """An auto-reply or bounce that threads: a note on its ticket, no status change, no reply."""
    title = "Delivery failure report" if kind == QuarantinedEmail.Reason.BOUNCE else "Automatic reply"
    body = f"{title} from {parsed.sender or 'the mail system'}: {parsed.subject}\n\n{parsed.text}".strip()
    note = Message.objects.create(
        ticket=ticket,
        channel=Channel.EMAIL,
        direction=Message.Direction.NOTE,
        sender=parsed.sender[:254],
        body=body[:100_000],
        external_id=parsed.message_id,
    )
    if kind == QuarantinedEmail.Reason.BOUNCE and parsed.bounced_ids:
        Message.objects.filter(
            ticket=ticket, direction=Message.Direction.OUTBOUND, external_id__in=parsed.bounced_ids
        ).update(delivery=Message.Delivery.FAILED, delivery_error=f"Bounced: {parsed.subject}"[:500])
    return EmailIngestResult(
        status="noted", message_id=parsed.message_id, ticket_id=ticket.pk, message_pk=note.pk, reason=kind
    )


def _name_parts(display_name: str) -> tuple[str, str]:
    display_name = display_name.strip().strip('"')
    if not display_name or "@" in display_name:
        return "", ""
    if "," in display_name:  # "Lopez, Maria"
        last, _, first = display_name.partition(",")
        return first.strip()[:150], last.strip()[:150]
    first, _, last = display_name.partition(" ")
    return first[:150], last.strip()[:150]


def email_ingest_parsed(*, parsed: ParsedEmail, raw: bytes, released: bool = False) -> EmailIngestResult:
    """Store one parsed email, all or nothing. Idempotent by Message-ID.

    ``released`` is an admin's decision that a quarantined mail belongs in the inbox after all.

    One transaction (a savepoint when the caller has one) without savepoints inside it. Mail
    bound for a ticket is not looked up by its Message-ID first: the unique (channel,
    external_id) of messages refuses a replay, as it refuses a concurrent delivery of the same
    mail and the same new sender arriving twice at once. On that refusal the attempt is rolled
    back whole and the mail is stored again from the start, looked up first this time, where it
    reads as a duplicate or finds the sender's customer. Nothing of the first attempt is kept.
    """
    try:
        return _email_store(parsed=parsed, raw=raw, released=released, looked_up=False)
    except IntegrityError:
        return _email_store(parsed=parsed, raw=raw, released=released, looked_up=True)


def _duplicate(parsed: ParsedEmail) -> EmailIngestResult | None:
    existing = (
        Message.objects.filter(channel=Channel.EMAIL, external_id=parsed.message_id).values("pk", "ticket_id").first()
    )
    if existing is None:
        return None
    return EmailIngestResult("duplicate", parsed.message_id, existing["ticket_id"], existing["pk"])


@transaction.atomic
def _email_store(*, parsed: ParsedEmail, raw: bytes, released: bool, looked_up: bool) -> EmailIngestResult:
    held = parsed.unreadable or (not released and (parsed.spam or parsed.bounce or parsed.auto_reply))
    if looked_up or held:
        duplicate = _duplicate(parsed)
        if duplicate is not None:
            return duplicate
    if parsed.unreadable:
        return _quarantine(parsed, raw, QuarantinedEmail.Reason.UNREADABLE)
    if parsed.spam and not released:
        return _quarantine(parsed, raw, QuarantinedEmail.Reason.SPAM)
    ticket, sender_is_customer = _thread_ticket(parsed)
    for flagged, kind in ((parsed.bounce, QuarantinedEmail.Reason.BOUNCE), (parsed.auto_reply, "auto_reply")):
        if flagged and not released:
            return _note_on_ticket(parsed, ticket, kind) if ticket else _quarantine(parsed, raw, kind)
    first_name, last_name = _name_parts(parsed.sender_name)
    body = parsed.text.strip() or ("(attachments only)" if parsed.attachments else "(no text)")
    try:
        message = message_receive(
            channel=Channel.EMAIL,
            sender=parsed.sender,
            body=body,
            subject=parsed.subject,
            body_html=parsed.html,
            body_display=quoted_history_trim(body),
            external_id=parsed.message_id,
            ticket=ticket,
            sender_is_ticket_customer=sender_is_customer,
            first_name=first_name,
            last_name=last_name,
            unseen=True,  # a replay is refused by the unique constraint; see email_ingest_parsed
            savepoint=False,  # a refused insert rolls this whole attempt back
        )
    except ValidationError as exc:
        duplicate = None if looked_up else _duplicate(parsed)
        if duplicate is not None:
            return duplicate
        return _quarantine(parsed, raw, QuarantinedEmail.Reason.UNREADABLE, "; ".join(exc.messages))
    for item in parsed.attachments:
        attachment_store(message=message, filename=item.filename, content_type=item.content_type, data=item.data)
    return EmailIngestResult("stored", parsed.message_id, message.ticket_id, message.pk)


def email_ingest(*, raw: bytes) -> EmailIngestResult:
    """Ingest one raw RFC 822 message (what an MTA pipes, what the email webhook receives)."""
    if len(raw) > settings.DESK_EMAIL_MAX_BYTES:
        raise EmailTooLarge(f"The message is {len(raw)} bytes; the limit is {settings.DESK_EMAIL_MAX_BYTES}.")
    return email_ingest_parsed(parsed=email_parse(raw), raw=raw)


@transaction.atomic
def email_release(*, item: QuarantinedEmail) -> EmailIngestResult | None:
    """Ingest a quarantined mail as ordinary mail (an admin judged it wrongly held). Once only."""
    locked = QuarantinedEmail.objects.select_for_update().get(pk=item.pk)
    if locked.released_at is not None or locked.reason == QuarantinedEmail.Reason.UNREADABLE:
        return None
    with locked.raw.open("rb") as handle:
        raw = handle.read()
    result = email_ingest_parsed(parsed=email_parse(raw), raw=raw, released=True)
    locked.released_at = timezone.now()
    locked.save(update_fields=["released_at"])
    return result


def mbox_split(data: bytes) -> list[bytes]:
    """Split an mbox (or one message an MTA prefixed with a ``From `` line) into raw messages.

    A ``From `` line at the start or after a blank line begins a message; ``>From `` lines
    inside a message are unescaped one level (mboxrd). Data without ``From `` lines is one message.
    """
    data = data.replace(b"\r\n", b"\n")
    if not data.startswith(b"From "):
        return [data] if data.strip() else []
    messages: list[list[bytes]] = []
    previous_blank = True
    for line in data.split(b"\n"):
        if line.startswith(b"From ") and previous_blank:
            messages.append([])
            previous_blank = False
            continue
        if re.match(rb"^>+From ", line):
            line = line[1:]
        messages[-1].append(line)
        previous_blank = not line.strip()
    return [b"\n".join(lines).strip(b"\n") + b"\n" for lines in messages if any(x.strip() for x in lines)]
