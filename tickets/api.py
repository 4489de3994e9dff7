"""REST API for tickets, their messages and CSAT answers.

POST /api/v1/tickets/ takes an inbound message on any channel: it opens a ticket or continues
the customer's open one (``tickets.services.message_receive``), idempotent by the channel's
message id. POST /api/v1/tickets/{id}/messages/ is an agent's reply or internal note. Mounted
under ``/api/v1/`` by ``supportdesk.api.urls``.
"""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, QuerySet
from django.http import Http404
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from customers.models import Channel
from supportdesk.api.authentication import ApiKeyUser
from supportdesk.api.base import DeskGenericView, DeskViewSet
from supportdesk.api.filters import QueryFilter

from . import services
from .channels.html import html_sanitise, html_to_text
from .models import Attachment, CSATSurvey, Message, Priority, Tag, Ticket


class TicketSerializer(serializers.ModelSerializer):
    customer = serializers.UUIDField(source="customer.public_id", read_only=True)
    assignee = serializers.CharField(source="assignee.username", allow_null=True, default=None, read_only=True)
    team = serializers.CharField(source="team.name", allow_null=True, default=None, read_only=True)
    tags = serializers.SlugRelatedField(slug_field="name", many=True, read_only=True)

    class Meta:
        model = Ticket
        fields = [
            "id",
            "subject",
            "status",
            "priority",
            "channel",
            "customer",
            "assignee",
            "team",
            "tags",
            "created_at",
            "updated_at",
            "last_message_at",
            "first_response_at",
            "solved_at",
            "first_response_due_at",
            "resolution_due_at",
        ]
        read_only_fields = fields


class AttachmentSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = Attachment
        fields = ["id", "filename", "content_type", "size", "download_url"]
        read_only_fields = fields

    def get_download_url(self, attachment: Attachment) -> str:
        return reverse("attachment_download", kwargs={"attachment_id": attachment.pk})


class MessageSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author.username", allow_null=True, default=None, read_only=True)
    body_display = serializers.SerializerMethodField()
    attachments = AttachmentSerializer(many=True, read_only=True)
    delivery = serializers.ChoiceField(
        choices=Message.Delivery.choices, allow_blank=True, read_only=True, help_text="Empty unless outbound."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "ticket",
            "channel",
            "direction",
            "author",
            "sender",
            "body",
            "body_display",
            "body_html",
            "external_id",
            "delivery",
            "delivery_error",
            "sent_at",
            "created_at",
            "attachments",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_body_display(self, message: Message) -> str:
        return getattr(message, "body_display", "") or message.body


class InboundMessageSerializer(serializers.Serializer):
    channel = serializers.ChoiceField(choices=Channel.choices)
    sender = serializers.CharField(
        max_length=254,
        help_text="The customer's address on that channel: email, phone, chat visitor id, network:handle.",
    )
    subject = serializers.CharField(max_length=255, required=False, allow_blank=True, default="")
    body = serializers.CharField(required=False, allow_blank=True, default="", max_length=200_000)
    body_html = serializers.CharField(required=False, allow_blank=True, default="", max_length=1_000_000)
    external_id = serializers.CharField(
        max_length=255,
        required=False,
        allow_blank=True,
        default="",
        help_text="The channel's message id: replays are no-ops.",
    )
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True, default="")
    ticket = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        min_value=1,
        help_text="Continue this ticket if it is the sender's.",
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs["body_html"] = html_sanitise(attrs["body_html"])
        if not attrs["body"].strip():
            attrs["body"] = html_to_text(attrs["body_html"])
        if not attrs["body"].strip():
            raise serializers.ValidationError({"body": "A message needs a body (text or HTML)."})
        return attrs


class InboundResultSerializer(serializers.Serializer):
    ticket = TicketSerializer()
    message = MessageSerializer()


class ReplySerializer(serializers.Serializer):
    body = serializers.CharField(max_length=100_000)
    internal = serializers.BooleanField(default=False, help_text="An internal note the customer never sees.")
    channel = serializers.ChoiceField(
        choices=Channel.choices, required=False, allow_null=True, default=None, help_text="Default: the ticket's."
    )
    purpose = serializers.SlugField(
        max_length=50, required=False, allow_blank=True, default="", help_text="Consent purpose the reply serves."
    )
    author = serializers.CharField(
        max_length=150,
        required=False,
        allow_blank=True,
        default="",
        help_text="Username of the desk user the reply is from. Required with an API key; ignored for a session.",
    )


def _tickets_queryset() -> QuerySet[Ticket]:
    return Ticket.objects.select_related("customer", "assignee", "team").prefetch_related(
        Prefetch("tags", queryset=Tag.objects.only("id", "name"))
    )


def _messages_queryset() -> QuerySet[Message]:
    return Message.objects.select_related("author").prefetch_related("attachments")


@extend_schema_view(
    list=extend_schema(summary="List tickets", tags=["tickets"]),
    retrieve=extend_schema(summary="Read a ticket", tags=["tickets"]),
    create=extend_schema(
        summary="Receive an inbound message (opens or continues a ticket)",
        tags=["tickets"],
        request=InboundMessageSerializer,
        responses={201: InboundResultSerializer, 200: InboundResultSerializer},
    ),
)
class TicketViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, DeskViewSet):
    serializer_class = TicketSerializer
    lookup_url_kwarg = "ticket_id"
    lookup_value_converter = "int"
    read_permissions = ("tickets.view_ticket",)
    write_permissions = ("tickets.add_ticket", "tickets.add_message")
    ordering_fields = ("created_at", "updated_at", "last_message_at")
    ordering = ("-last_message_at",)
    query_filters = {
        "status": QueryFilter(apply=lambda qs, value: qs.filter(status=value), choices=tuple(Ticket.Status.values)),
        "unsolved": QueryFilter(
            apply=lambda qs, value: (
                qs.filter(status__in=Ticket.UNSOLVED) if value else qs.exclude(status__in=Ticket.UNSOLVED)
            ),
            kind="boolean",
        ),
        "channel": QueryFilter(apply=lambda qs, value: qs.filter(channel=value), choices=tuple(Channel.values)),
        "priority": QueryFilter(apply=lambda qs, value: qs.filter(priority=value), choices=tuple(Priority.values)),
        "assignee": QueryFilter(
            apply=lambda qs, value: qs.filter(assignee__username=value), max_length=150, description="Username."
        ),
        "unassigned": QueryFilter(apply=lambda qs, value: qs.filter(assignee__isnull=value), kind="boolean"),
        "team": QueryFilter(apply=lambda qs, value: qs.filter(team__name=value), max_length=100),
        "tag": QueryFilter(apply=lambda qs, value: qs.filter(tags__name=value), max_length=50),
        "customer": QueryFilter(apply=lambda qs, value: qs.filter(customer__public_id=value), kind="uuid"),
        "created_after": QueryFilter(apply=lambda qs, value: qs.filter(created_at__gte=value), kind="datetime"),
        "updated_after": QueryFilter(apply=lambda qs, value: qs.filter(updated_at__gte=value), kind="datetime"),
    }

    def get_queryset(self) -> QuerySet[Ticket]:
        return _tickets_queryset()

    def create(self, request, *args, **kwargs):
        serializer = InboundMessageSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        ticket = None
        if data["ticket"] is not None:
            ticket = Ticket.objects.filter(pk=data["ticket"]).first()
            if ticket is None:
                raise serializers.ValidationError({"ticket": ["No such ticket."]})
        replay = (
            bool(data["external_id"])
            and Message.objects.filter(channel=data["channel"], external_id=data["external_id"]).exists()
        )
        try:
            message = services.message_receive(
                channel=data["channel"],
                sender=data["sender"],
                body=data["body"],
                subject=data["subject"],
                body_html=data["body_html"],
                external_id=data["external_id"],
                received_at=data["received_at"],
                ticket=ticket,
                first_name=data["first_name"],
                last_name=data["last_name"],
            )
        except DjangoValidationError as exc:
            # The sender's address is the one input the service checks without naming a field.
            if hasattr(exc, "error_dict"):
                raise
            raise serializers.ValidationError({"sender": exc.messages}) from None
        body = {
            "ticket": TicketSerializer(_tickets_queryset().get(pk=message.ticket_id)).data,
            "message": MessageSerializer(_messages_queryset().get(pk=message.pk)).data,
        }
        return Response(body, status=status.HTTP_200_OK if replay else status.HTTP_201_CREATED)


def _reply_author(request, username: str) -> AbstractBaseUser:
    """The desk user a reply is attributed to: the session's user, or the one an API key names."""
    if not isinstance(request.user, ApiKeyUser):
        return request.user
    if not username:
        raise serializers.ValidationError({"author": ["An API key must name the desk user the reply is from."]})
    user = get_user_model().objects.filter(username=username, is_active=True).first()
    if user is None or not user.has_perm("tickets.add_message"):
        raise serializers.ValidationError({"author": ["No active desk user with that username may reply."]})
    return user


class TicketMessagesView(mixins.ListModelMixin, DeskGenericView):
    """A ticket's messages, oldest first; POST an agent's reply (queued for delivery) or an internal note."""

    serializer_class = MessageSerializer
    read_permissions = ("tickets.view_ticket", "tickets.view_message")
    write_permissions = ("tickets.view_ticket", "tickets.add_message")
    ordering = ("created_at",)
    ordering_fields = ("created_at",)
    query_filters = {
        "direction": QueryFilter(
            apply=lambda qs, value: qs.filter(direction=value), choices=tuple(Message.Direction.values)
        ),
        "channel": QueryFilter(apply=lambda qs, value: qs.filter(channel=value), choices=tuple(Channel.values)),
    }

    def _ticket(self) -> Ticket:
        ticket = _tickets_queryset().filter(pk=self.kwargs["ticket_id"]).first()
        if ticket is None:
            raise Http404
        return ticket

    def get_queryset(self) -> QuerySet[Message]:
        return _messages_queryset().filter(ticket=self._ticket())

    @extend_schema(summary="List a ticket's messages", tags=["tickets"])
    def get(self, request, *args, **kwargs):
        return self.list(request, *args, **kwargs)

    @extend_schema(
        summary="Reply to the customer or add an internal note",
        tags=["tickets"],
        request=ReplySerializer,
        responses={201: MessageSerializer},
    )
    def post(self, request, *args, **kwargs):
        ticket = self._ticket()
        serializer = ReplySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        message = services.ticket_reply(
            ticket=ticket,
            author=_reply_author(request, data["author"]),
            body=data["body"],
            channel=data["channel"],
            internal=data["internal"],
            purpose=data["purpose"],
        )
        return Response(MessageSerializer(_messages_queryset().get(pk=message.pk)).data, status=201)


class CsatAnswerSerializer(serializers.ModelSerializer):
    customer = serializers.UUIDField(source="ticket.customer.public_id", read_only=True)
    agent = serializers.CharField(source="agent.username", allow_null=True, default=None, read_only=True)
    team = serializers.CharField(source="team.name", allow_null=True, default=None, read_only=True)

    class Meta:
        model = CSATSurvey
        fields = ["id", "ticket", "customer", "agent", "team", "channel", "rating", "comment", "sent_at", "answered_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="List CSAT answers", tags=["csat"]),
    retrieve=extend_schema(summary="Read a CSAT answer", tags=["csat"]),
)
class CsatAnswerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, DeskViewSet):
    """Answered satisfaction surveys (rating 1-5 and comment), newest first."""

    serializer_class = CsatAnswerSerializer
    lookup_url_kwarg = "survey_id"
    lookup_value_converter = "int"
    read_permissions = ("tickets.view_csatsurvey",)
    ordering_fields = ("answered_at",)
    ordering = ("-answered_at",)
    query_filters = {
        "agent": QueryFilter(apply=lambda qs, value: qs.filter(agent__username=value), max_length=150),
        "channel": QueryFilter(apply=lambda qs, value: qs.filter(channel=value), choices=tuple(Channel.values)),
        "rating": QueryFilter(apply=lambda qs, value: qs.filter(rating=int(value)), choices=("1", "2", "3", "4", "5")),
        "ticket": QueryFilter(apply=lambda qs, value: qs.filter(ticket_id=value), kind="integer"),
        "answered_after": QueryFilter(apply=lambda qs, value: qs.filter(answered_at__gte=value), kind="datetime"),
        "answered_before": QueryFilter(apply=lambda qs, value: qs.filter(answered_at__lt=value), kind="datetime"),
    }

    def get_queryset(self) -> QuerySet[CSATSurvey]:
        return CSATSurvey.objects.filter(answered_at__isnull=False).select_related("ticket__customer", "agent", "team")
