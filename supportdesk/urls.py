from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from customers.privacy.views.public import preference_centre
from tickets import csat_views, notification_views
from tickets.attachments import attachment_download

from . import views

urlpatterns = [
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path(
        "accounts/password/done/",
        auth_views.PasswordChangeDoneView.as_view(),
        name="password_change_done",
    ),
    path("admin/", admin.site.urls),
    path("health/", views.health, name="health"),
    path("customers/", include("customers.urls")),
    path("api/", include("supportdesk.api.urls")),
    path("webhooks/", include("supportdesk.webhook_urls")),
    path("chat/", include("tickets.chat.urls")),
    path("attachments/<int:attachment_id>/", attachment_download, name="attachment_download"),
    path("survey/<str:token>/", csat_views.survey, name="csat_survey"),
    path("privacy/", include("customers.privacy.urls")),
    path("preferences/<str:token>/", preference_centre, name="preference_centre"),
    path("dashboards/", include("tickets.dashboards.urls")),
    path("notifications/", notification_views.notifications, name="notifications"),
    path("notifications/badge/", notification_views.badge, name="notifications_badge"),
    path("notifications/read/", notification_views.mark_read, name="notifications_read"),
    path("suggestions/", include("customers.suggestions.urls")),
    path("", include("tickets.urls")),
]
