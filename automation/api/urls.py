from rest_framework.routers import SimpleRouter

from . import views


class OptionalSlashRouter(SimpleRouter):
    """As the native API's router: no trailing slash, one tolerated."""

    def __init__(self):
        super().__init__()
        self.trailing_slash = "/?"


router = OptionalSlashRouter()
router.register("triggers", views.TriggerViewSet, basename="trigger")
router.register("macros", views.MacroViewSet, basename="macro")

app_name = "automation-api"
urlpatterns = router.urls
