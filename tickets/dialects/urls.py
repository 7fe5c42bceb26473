"""The seed products' routes under ``/compat/<name>/``, exactly as their documents write them.

Paths have no trailing slash; one is tolerated. Any other path under a dialect's prefix
is a 404 in that dialect's own error shape.
"""

from django.urls import re_path

from . import appbox, crawlchat, ctxfy, inapp, supportdesk
from .base import UnknownDialectView

SEGMENT = r"[^/]+"

app_name = "dialects"
urlpatterns = [
    # appbox (seed 000)
    re_path(
        rf"^appbox/api/v1/paywall/(?P<paywall_id>{SEGMENT})/create-ticket/?$",
        appbox.CreateTicketView.as_view(),
        name="appbox-create-ticket",
    ),
    re_path(r"^appbox/", appbox.NotFoundView.as_view()),
    # Ctxfy (seed 001)
    re_path(r"^ctxfy/v1/support/tickets/?$", ctxfy.CreateTicketView.as_view(), name="ctxfy-create-ticket"),
    re_path(r"^ctxfy/", ctxfy.NotFoundView.as_view()),
    # In-app Support API (seed 002): the user's routes, then the admin's
    re_path(r"^inapp/v1/support/tickets/?$", inapp.UserTicketsView.as_view(), name="inapp-tickets"),
    re_path(
        rf"^inapp/v1/support/tickets/(?P<ticket_id>{SEGMENT})/?$",
        inapp.UserTicketView.as_view(),
        name="inapp-ticket",
    ),
    re_path(
        rf"^inapp/v1/support/tickets/(?P<ticket_id>{SEGMENT})/messages/?$",
        inapp.UserReplyView.as_view(),
        name="inapp-reply",
    ),
    re_path(
        rf"^inapp/v1/support/tickets/(?P<ticket_id>{SEGMENT})/close/?$",
        inapp.UserCloseView.as_view(),
        name="inapp-close",
    ),
    re_path(
        r"^inapp/v1/admin/support/tickets/?$", inapp.AdminTicketsView.as_view(), name="inapp-admin-tickets"
    ),
    re_path(
        rf"^inapp/v1/admin/support/tickets/(?P<ticket_id>{SEGMENT})/?$",
        inapp.AdminTicketView.as_view(),
        name="inapp-admin-ticket",
    ),
    re_path(
        rf"^inapp/v1/admin/support/tickets/(?P<ticket_id>{SEGMENT})/messages/?$",
        inapp.AdminReplyView.as_view(),
        name="inapp-admin-reply",
    ),
    re_path(r"^inapp/", inapp.NotFoundView.as_view()),
    # SupportDesk (seed 003)
    re_path(
        r"^supportdesk/api/v1/tickets/api-create/?$",
        supportdesk.CreateTicketView.as_view(),
        name="supportdesk-create-ticket",
    ),
    re_path(r"^supportdesk/", supportdesk.NotFoundView.as_view()),
    # CrawlChat (seed 004)
    re_path(
        rf"^crawlchat/ticket/(?P<collection_id>{SEGMENT})/?$",
        crawlchat.CreateTicketView.as_view(),
        name="crawlchat-create-ticket",
    ),
    re_path(r"^crawlchat/", crawlchat.NotFoundView.as_view()),
    re_path(r"^", UnknownDialectView.as_view()),
]
