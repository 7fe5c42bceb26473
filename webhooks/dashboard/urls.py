"""Routes under /desk/settings/webhooks/ (Settings → Webhooks)."""

from django.urls import path

from . import views

app_name = "webhooks-dashboard"
urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("<str:public_id>/", views.endpoint_detail, name="detail"),
    path("<str:public_id>/rotate/", views.endpoint_rotate, name="rotate"),
    path("<str:public_id>/test/", views.endpoint_test, name="test"),
    path("<str:public_id>/delete/", views.endpoint_delete, name="delete"),
    path(
        "<str:public_id>/deliveries/<str:delivery_id>/redeliver/",
        views.delivery_redeliver,
        name="redeliver",
    ),
]
