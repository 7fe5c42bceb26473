from django.urls import include, path

from . import views
from .settings_urls import profile_patterns, reports_patterns, settings_patterns

app_name = "dashboard"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("settings/", include(settings_patterns)),
    path("profile/", include(profile_patterns)),
    path("reports/", include(reports_patterns)),
]
