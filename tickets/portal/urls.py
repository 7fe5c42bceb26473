from django.urls import path

from . import views

app_name = "portal"
urlpatterns = [
    path("<str:public_id>/<str:access_key>/", views.ticket_page, name="ticket"),
]
