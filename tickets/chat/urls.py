from django.urls import path

from . import views

app_name = "chat"
urlpatterns = [
    path("frame/", views.chat_frame, name="frame"),
    path("api/session/", views.chat_session, name="session"),
    path("api/messages/", views.chat_messages, name="messages"),
    path("api/identify/", views.chat_identify, name="identify"),
]
