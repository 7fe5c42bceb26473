"""The link mailed to a new support address: whoever reads that mailbox confirms it.

Public (the mailbox may be read by someone without a Helpdesk account). A GET only shows
what would be confirmed; the POST confirms, so a mail scanner that follows links cannot
verify an address on its own.
"""

from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from tickets import exceptions, services


@require_http_methods(["GET", "POST"])
def verify_address(request, token):
    try:
        inbox = (
            services.verify_support_address(token=token)
            if request.method == "POST"
            else services.inbox_for_verification(token)
        )
    except exceptions.InvalidInput as error:
        return render(request, "dashboard/verify_address.html", {"error": error.message}, status=400)
    return render(
        request,
        "dashboard/verify_address.html",
        {"inbox": inbox, "organization": inbox.organization, "verified": inbox.support_email_verified},
    )
