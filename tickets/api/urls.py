from . import custom_fields, customer, views
from .routers import OptionalSlashRouter

router = OptionalSlashRouter()
router.register("tickets", views.TicketViewSet, basename="ticket")
router.register("customers", views.CustomerViewSet, basename="customer")
router.register("tags", views.TagViewSet, basename="tag")
router.register("inboxes", views.InboxViewSet, basename="inbox")
router.register("custom-fields", custom_fields.CustomFieldViewSet, basename="custom-field")
# The customer side: tokens an integrator mints, and the customer's own tickets.
router.register(
    r"customers/(?P<customer_id>[^/.]+)/tokens", customer.CustomerTokenViewSet, basename="customer-token"
)
router.register("me/tickets", customer.MyTicketViewSet, basename="my-ticket")

app_name = "api"
urlpatterns = router.urls
