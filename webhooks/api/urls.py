from rest_framework.routers import SimpleRouter

from . import views


class OptionalSlashRouter(SimpleRouter):
    """As the native API's router: no trailing slash, one tolerated."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("webhooks", views.WebhookViewSet, basename="webhook")
router.register("events", views.EventViewSet, basename="event")

app_name = "webhooks-api"
urlpatterns = router.urls
