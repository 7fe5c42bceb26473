"""Routes under /desk/reports/service-levels/."""

from django.urls import path

from . import reports

app_name = "sla-reports"
urlpatterns = [
    path("", reports.sla_report, name="report"),
    path("export.csv", reports.sla_report_csv, name="csv"),
]
