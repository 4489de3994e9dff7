from django.urls import path

from . import views

app_name = "customers"
urlpatterns = [
    path("<int:customer_id>/", views.customer_detail, name="detail"),
    path("<int:customer_id>/duplicates/", views.customer_duplicates, name="duplicates"),
    path("<int:customer_id>/merge/", views.customer_merge_view, name="merge"),
    path("<int:customer_id>/merge/undo/", views.customer_merge_undo_view, name="merge_undo"),
]
