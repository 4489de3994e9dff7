from django.urls import path

from . import views

app_name = "tickets"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="detail"),
    path("tickets/<int:ticket_id>/reply/", views.ticket_reply, name="reply"),
    path("tickets/<int:ticket_id>/update/", views.ticket_update, name="update"),
    path("messages/<int:message_id>/retry/", views.message_retry, name="message_retry"),
]
