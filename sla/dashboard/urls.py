"""Routes under /desk/settings/service-levels/ (Settings → Service levels)."""

from django.urls import path

from . import views

app_name = "sla-dashboard"
urlpatterns = [
    path("", views.overview, name="overview"),
    path("hours/<str:public_id>/", views.hours_detail, name="hours"),
    path("hours/<str:public_id>/delete/", views.hours_delete, name="hours-delete"),
    path("policies/<str:public_id>/", views.policy_detail, name="policy"),
    path("policies/<str:public_id>/delete/", views.policy_delete, name="policy-delete"),
]
