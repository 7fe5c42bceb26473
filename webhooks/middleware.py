"""Hands the domain events of one request to the task queue together, when it ends."""

from .subscribers import collecting


class CollectDomainEventsMiddleware:
    """One enqueue per request for webhooks and the feed, however many events it told.

    The services dispatch their events after commit, before the view returns, so by the
    time the response leaves this middleware every event of the request was collected.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        with collecting():
            return self.get_response(request)
