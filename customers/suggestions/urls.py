"""Mounted at ``/suggestions/`` by supportdesk/urls.py."""

from django.urls import path

from . import views

app_name = "suggestions"
urlpatterns = [
    path("customers/<int:customer_id>/", views.suggestions_panel, name="panel"),
    path("<str:token>/feedback/", views.suggestion_feedback, name="feedback"),
]
