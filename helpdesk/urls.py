import os

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from tickets.api.docs import ApiDocsView

from . import views

if settings.ADMIN_REQUIRES_TWO_FACTOR:
    # django-otp's documented switch: the one admin site asks staff for a code at sign-in
    # and lets in only verified sessions (a second, stock site beside it would not).
    from django_otp.admin import OTPAdminSite

    admin.site.__class__ = OTPAdminSite

urlpatterns = [
    path("", views.home, name="home"),
    path("favicon.ico", views.favicon, name="favicon"),
    path("healthz", views.health, name="health"),
    path("readyz", views.readiness, name="readiness"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("api/v1/", include("tickets.api.urls")),
    path("api/v1/", include("webhooks.api.urls")),
    path("api/v1/", include("automation.api.urls")),
    path("api/v1/", include("sla.api.urls")),
    # Public and the same for everyone: not counted by the per-credential throttle, whose
    # window is a database row (and the fuzz tests load it before any database is set up).
    path("api/schema/", SpectacularAPIView.as_view(throttle_classes=[]), name="schema"),
    path("api/docs/", ApiDocsView.as_view(url_name="schema"), name="api-docs"),
    path("compat/", include("tickets.dialects.urls")),
    path("desk/settings/webhooks/", include("webhooks.dashboard.urls")),
    path("desk/automation/", include("automation.dashboard.urls")),
    path("desk/settings/service-levels/", include("sla.dashboard.urls")),
    path("desk/reports/service-levels/", include("sla.dashboard.report_urls")),
    path("desk/", include("tickets.dashboard.urls")),
    path("t/", include("tickets.portal.urls")),
    path("satisfaction/", include("sla.survey_urls")),
    path("anymail/", include("anymail.urls")),
]

# MEDIA_ROOT is never served, not even under DEBUG: attachments leave only through the
# authenticated download views (tickets/downloads.py).

if os.environ.get("HELPDESK_BENCH_FLOOR") == "1":
    # `make bench` only: the floors it measures create-ticket against.
    urlpatterns += [path("bench/", include("bench.floor"))]

handler400 = "helpdesk.views.bad_request"
handler403 = "helpdesk.views.permission_denied"
handler404 = "helpdesk.views.not_found"
handler500 = "helpdesk.views.server_error"
