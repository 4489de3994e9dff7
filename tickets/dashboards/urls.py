from django.urls import path

from . import views

app_name = "dashboards"
urlpatterns = [
    path("", views.index, name="index"),
    path("tickets/", views.tickets, name="tickets"),
    path("export.csv", views.export, name="export"),
    path("refresh/", views.refresh, name="refresh"),
    path("suggestions/", views.suggestions_page, name="suggestions"),
    path("suggestions/refresh/", views.suggestions_refresh, name="suggestions_refresh"),
]
