"""Reports → Service levels: SLA attainment, the breached tickets, CSAT; and a CSV."""

import csv

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from tickets.models import Inbox

from .. import reports

PRESETS = (7, 30, 90)


class RangeForm(forms.Form):
    start = forms.DateField()
    end = forms.DateField()
    inbox = forms.ModelChoiceField(queryset=Inbox.objects.none(), required=False, empty_label="All inboxes")

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inbox"].queryset = Inbox.objects.filter(organization=organization).order_by("name")
        self.fields["inbox"].to_field_name = "public_id"

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("start") and cleaned.get("end"):
            if cleaned["end"] < cleaned["start"]:
                raise forms.ValidationError("The end comes before the start.")
            if (cleaned["end"] - cleaned["start"]).days > 366:
                raise forms.ValidationError("At most a year at a time.")
        return cleaned


def _selection(request):
    membership = request.membership
    if not membership:
        raise PermissionDenied("Reports are for members of an organization.")
    organization = membership.organization
    today = timezone.localdate()
    days = request.GET.get("days")
    start = today - timezone.timedelta(days=(int(days) if days in {"7", "30", "90"} else 30) - 1)
    form = RangeForm(request.GET or None, organization=organization)
    data = {"start": start, "end": today, "inbox": None}
    if days not in {"7", "30", "90"} and request.GET and form.is_valid():
        data = form.cleaned_data
    elif request.GET.get("inbox"):
        data["inbox"] = Inbox.objects.filter(
            organization=organization, public_id=request.GET["inbox"]
        ).first()
    tickets = reports.sla_tickets(organization, data["start"], data["end"], data["inbox"])
    rated = reports.ratings(organization, data["start"], data["end"], data["inbox"])
    return form, data, tickets, rated


@require_GET
@login_required
def sla_report(request):
    form, data, tickets, rated = _selection(request)
    overall = reports.attainment(tickets)
    return render(
        request,
        "dashboard/sla_report.html",
        {
            "form": form,
            "start": data["start"],
            "end": data["end"],
            "inbox": data["inbox"],
            "presets": PRESETS,
            "overall": overall,
            "by_target": reports.attainment_by_target(tickets, overall.total),
            "groups": [
                (label, reports.attainment_by(tickets, name)) for name, (_, label) in reports.GROUPS.items()
            ],
            "breached": reports.breached_list(tickets),
            "csat": reports.csat(rated),
            "csat_groups": [
                ("Agent", reports.csat_by(rated, "agent")),
                ("Inbox", reports.csat_by(rated, "inbox")),
            ],
            "comments": reports.latest_comments(rated),
        },
    )


def _safe(text) -> str:
    text = str(text)
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text


@require_GET
@login_required
def sla_report_csv(request):
    _, data, tickets, rated = _selection(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="helpdesk-sla-{data["start"]}-{data["end"]}.csv"'
    writer = csv.writer(response)
    writer.writerow(["group", "name", "tickets", "met", "attainment_percent"])
    overall = reports.attainment(tickets)
    writer.writerow(
        ["all", "All", overall.total, overall.met, overall.percent if overall.percent is not None else ""]
    )
    for name in reports.GROUPS:
        for share in reports.attainment_by(tickets, name):
            writer.writerow([name, _safe(share.label), share.total, share.met, share.percent])
    writer.writerow([])
    writer.writerow(["csat_group", "name", "ratings", "good", "csat_percent"])
    for name in ("agent", "inbox"):
        for share in reports.csat_by(rated, name):
            writer.writerow([name, _safe(share.label), share.total, share.met, share.percent])
    writer.writerow([])
    writer.writerow(
        ["breached_ticket", "subject", "policy", "breached", "first_breach_at", "assignee", "inbox"]
    )
    for ticket in reports.breached_list(tickets):
        writer.writerow(
            [
                ticket.reference,
                _safe(ticket.subject),
                _safe(ticket.policy_name or ""),
                " ".join(ticket.sla_breached),
                ticket.sla_breached_at.isoformat(),
                ticket.assignee.email if ticket.assignee else "",
                _safe(ticket.inbox.name),
            ]
        )
    # The comments the page shows, newest first (the page the latest few, the file more).
    writer.writerow([])
    writer.writerow(["comment_ticket", "rating", "comment", "rated_at", "assignee", "inbox"])
    comments = reports.latest_comments(rated, limit=reports.CSV_COMMENTS_LIMIT).select_related(
        "ticket__assignee", "ticket__inbox"
    )
    for survey in comments:
        writer.writerow(
            [
                survey.ticket.reference,
                survey.rating,
                _safe(survey.comment),
                survey.rated_at.isoformat(),
                survey.ticket.assignee.email if survey.ticket.assignee else "",
                _safe(survey.ticket.inbox.name),
            ]
        )
    return response
