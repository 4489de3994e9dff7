from django.urls import path

from . import views

app_name = "tickets"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("search/", views.search, name="search"),
    path("tickets/<int:ticket_id>/", views.ticket_detail, name="detail"),
    path("tickets/<int:ticket_id>/thread/", views.ticket_thread, name="thread"),
    path("tickets/<int:ticket_id>/history/", views.ticket_history, name="history"),
    path("tickets/<int:ticket_id>/reply/", views.ticket_reply, name="reply"),
    path("tickets/<int:ticket_id>/macro-preview/", views.macro_preview_partial, name="macro_preview"),
    path("tickets/<int:ticket_id>/edit/", views.ticket_edit, name="edit"),
    path("tickets/<int:ticket_id>/update/", views.ticket_update, name="update"),
    path("tickets/<int:ticket_id>/presence/", views.ticket_presence, name="presence"),
    path("messages/<int:message_id>/retry/", views.message_retry, name="message_retry"),
]
