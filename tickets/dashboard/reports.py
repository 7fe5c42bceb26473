"""The reports page: counts and medians over a date range, drawn as server-made SVG.

The charts are plain SVG built from a little geometry here and drawn by templates in
``templates/dashboard/includes/``: no JavaScript, so they work under the strict CSP and
print well. Each bar carries a ``<title>`` so hovering shows its number.
"""

import csv
import math
from dataclasses import dataclass

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import Membership
from tickets import reports as queries
from tickets.models import Inbox, Ticket

PRESETS = (7, 30, 90)


class ReportFilterForm(forms.Form):
    days = forms.TypedChoiceField(
        choices=[(str(days), f"Last {days} days") for days in PRESETS] + [("custom", "Custom range")],
        required=False,
    )
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    inbox = forms.ModelChoiceField(
        queryset=Inbox.objects.none(), required=False, to_field_name="public_id", empty_label="All inboxes"
    )
    agent = forms.ModelChoiceField(
        queryset=Membership.objects.none(), required=False, empty_label="All agents"
    )

    def __init__(self, *args, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["inbox"].queryset = Inbox.objects.filter(organization=organization).order_by("name")
        agents = Membership.objects.filter(organization=organization).select_related("user")
        self.fields["agent"].queryset = agents.order_by("user__name", "user__email")
        self.fields["agent"].label_from_instance = lambda membership: membership.user.display_name

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        start, end = data.get("start"), data.get("end")
        if data.get("days") == "custom" or (start and end and not data.get("days")):
            if not start or not end:
                raise forms.ValidationError("Choose a start and an end date.")
            if start > end:
                raise forms.ValidationError("The start date must be before the end date.")
            if (end - start).days + 1 > queries.MAX_RANGE_DAYS:
                raise forms.ValidationError(f"Choose at most {queries.MAX_RANGE_DAYS} days.")
            data["days"] = "custom"
        else:
            days = int(data.get("days") or 30)
            data["start"], data["end"] = queries.default_range(days, today=today)
            data["days"] = str(days)
        return data


# Charts ---------------------------------------------------------------------------------


def nice_ceiling(value: float) -> int:
    """The smallest of 1, 2, 5 × 10^n at or above ``value`` (at least 1): a readable axis top."""
    if value <= 1:
        return 1
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    return int(10 * magnitude)


def axis_ticks(peak: int) -> list[int]:
    """Whole-number gridlines from 0 to ``peak`` (a ``nice_ceiling``): 1 2 5 10 20 50 ..."""
    if peak <= 2:
        steps = peak
    else:
        steps = 4 if str(peak)[0] == "2" else 5
    return [peak * step // steps for step in range(steps + 1)]


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    title: str
    css_class: str


def daily_chart(rows: list[queries.DailyCounts], *, width: int = 720, height: int = 240) -> dict:
    """Grouped bars (created, resolved) per day, with a y axis and sparse date labels."""
    left, right, top, bottom = 40, 8, 12, 28
    plot_width, plot_height = width - left - right, height - top - bottom
    peak = nice_ceiling(max([row.created for row in rows] + [row.resolved for row in rows] + [1]))
    slot = plot_width / max(len(rows), 1)
    bar_width = max(slot * 0.38, 1)
    bars, labels = [], []
    label_every = max(1, math.ceil(len(rows) / 10))
    for index, row in enumerate(rows):
        x = left + index * slot + slot * 0.1
        day = row.day.strftime("%b %-d")
        for offset, value, name, css_class in (
            (0, row.created, "created", "bar-created"),
            (bar_width, row.resolved, "resolved", "bar-resolved"),
        ):
            bar_height = plot_height * value / peak
            bars.append(
                Bar(
                    x=round(x + offset, 2),
                    y=round(top + plot_height - bar_height, 2),
                    width=round(bar_width, 2),
                    height=round(bar_height, 2),
                    value=value,
                    title=f"{day}: {value} {name}",
                    css_class=css_class,
                )
            )
        if index % label_every == 0:
            labels.append({"x": round(left + index * slot + slot / 2, 2), "text": day})
    ticks = [
        {"y": round(top + plot_height - plot_height * value / peak, 2), "label": value}
        for value in axis_ticks(peak)
    ]
    return {
        "width": width,
        "height": height,
        "left": left,
        "right": width - right,
        "baseline": top + plot_height,
        "label_y": height - 8,
        "bars": bars,
        "labels": labels,
        "ticks": ticks,
    }


def status_chart(counts: list[tuple[str, str, int]], *, width: int = 320) -> dict:
    """One horizontal bar per status, scaled to the largest."""
    row_height, label_width, gap = 26, 90, 10
    peak = max([count for _, _, count in counts] + [1])
    bar_space = width - label_width - 44
    rows = []
    for index, (status, label, count) in enumerate(counts):
        rows.append(
            {
                "y": index * (row_height + gap),
                "text_y": index * (row_height + gap) + row_height / 2 + 5,
                "label": label,
                "status": status,
                "count": count,
                "width": round(max(bar_space * count / peak, 2 if count else 0), 2),
                "count_x": round(label_width + bar_space * count / peak + 6, 2),
            }
        )
    return {
        "width": width,
        "height": len(counts) * (row_height + gap) - gap,
        "label_width": label_width,
        "track_width": bar_space,
        "row_height": row_height,
        "rows": rows,
        "total": sum(count for _, _, count in counts),
    }


def with_bar_widths(rows: list[queries.TimingRow]) -> list[queries.TimingRow]:
    """Give each row the share of the slowest median, for the inline bars of the tables."""
    slowest_response = max([row.median_first_response or 0 for row in rows] + [1])
    slowest_resolution = max([row.median_resolution or 0 for row in rows] + [1])
    for row in rows:
        row.extra["response_share"] = round(100 * (row.median_first_response or 0) / slowest_response, 1)
        row.extra["resolution_share"] = round(100 * (row.median_resolution or 0) / slowest_resolution, 1)
    return rows


# View -----------------------------------------------------------------------------------


def _filters_from_request(request):
    """The form and the filters it chose; an invalid choice falls back to the last 30 days."""
    membership = request.membership
    if not membership:
        raise PermissionDenied("Reports are for members of an organization.")
    organization = membership.organization
    start, end = queries.default_range(30)
    form = ReportFilterForm(
        request.GET or None, organization=organization, initial={"days": "30", "start": start, "end": end}
    )
    if request.GET and form.is_valid():
        data = form.cleaned_data
    else:
        data = {"days": "30", "start": start, "end": end, "inbox": None, "agent": None}
    agent = data.get("agent")
    filters = queries.ReportFilters(
        organization=organization,
        start=data["start"],
        end=data["end"],
        inbox=data.get("inbox"),
        assignee_id=agent.user_id if agent else None,
    )
    return form, data, agent, filters


@require_GET
@login_required
def reports(request):
    form, data, agent, filters = _filters_from_request(request)
    daily = queries.daily_counts(filters)
    statuses = queries.status_counts(filters)
    overall = queries.overall_timing(filters)
    preset_query = {}
    if data.get("inbox"):
        preset_query["inbox"] = data["inbox"].public_id
    if agent:
        preset_query["agent"] = agent.pk
    return render(
        request,
        "dashboard/reports.html",
        {
            "form": form,
            "filters": filters,
            "agent": agent,
            "days": data["days"],
            "presets": PRESETS,
            "preset_query": preset_query,
            "daily_chart": daily_chart(daily),
            "status_chart": status_chart(statuses),
            "totals": {
                "created": sum(row.created for row in daily),
                "resolved": sum(row.resolved for row in daily),
            },
            "backlog": queries.backlog_now(filters),
            "overall": overall,
            "by_agent": with_bar_widths(queries.timing_by_agent(filters)),
            "by_inbox": with_bar_widths(queries.timing_by_inbox(filters)),
            "statuses": Ticket.Status,
            "time_zone": timezone.get_current_timezone_name(),
        },
    )


@require_GET
@login_required
def reports_csv(request):
    """The per-day numbers and the per-agent and per-inbox tables, for a spreadsheet."""
    _, _, _, filters = _filters_from_request(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="helpdesk-report-{filters.start}-{filters.end}.csv"'
    )
    writer = csv.writer(response)
    writer.writerow(["day", "created", "resolved"])
    for row in queries.daily_counts(filters):
        writer.writerow([row.day.isoformat(), row.created, row.resolved])
    for heading, rows in (
        ("agent", queries.timing_by_agent(filters)),
        ("inbox", queries.timing_by_inbox(filters)),
    ):
        writer.writerow([])
        writer.writerow(
            [heading, "created", "resolved", "median_first_response_seconds", "median_resolution_seconds"]
        )
        for row in rows:
            writer.writerow(
                [
                    _spreadsheet_safe(row.label),
                    row.created,
                    row.resolved,
                    "" if row.median_first_response is None else round(row.median_first_response),
                    "" if row.median_resolution is None else round(row.median_resolution),
                ]
            )
    return response


def _spreadsheet_safe(text: str) -> str:
    # A name starting with = + - @ would run as a formula when the file is opened.
    return f"'{text}" if text[:1] in {"=", "+", "-", "@", "\t", "\r"} else text
