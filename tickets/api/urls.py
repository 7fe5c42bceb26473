from . import views
from .routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("tags", views.TagViewSet, basename="tag")
router.register("inboxes", views.InboxViewSet, basename="inbox")

app_name = "api"
urlpatterns = router.urls
