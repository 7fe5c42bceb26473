from rest_framework.routers import SimpleRouter

from . import views


class OptionalSlashRouter(SimpleRouter):
    """As the native API's router: no trailing slash, one tolerated."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("business-hours", views.BusinessHoursViewSet, basename="business-hours")
router.register("sla-policies", views.SlaPolicyViewSet, basename="sla-policy")
router.register("satisfaction", views.SatisfactionViewSet, basename="satisfaction")

app_name = "sla-api"
urlpatterns = router.urls
