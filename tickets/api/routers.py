from rest_framework.routers import SimpleRouter


class OptionalSlashRouter(SimpleRouter):
    """Paths without a trailing slash, as in the APIs our users come from; one is tolerated."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"
