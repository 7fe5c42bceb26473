from django.urls import path

from . import signin, support, views

app_name = "portal"
urlpatterns = [
    # Fixed words first: a ticket's public id is a ULID and never reads "new" or "portal".
    path("new/<str:inbox_id>/", support.support_form, name="support_form"),
    path("new/<str:inbox_id>/sent/", support.support_sent, name="support_sent"),
    path("portal/<slug:slug>/", signin.request_link, name="request_link"),
    path("portal/<slug:slug>/signin/<str:token>/", signin.sign_in, name="signin"),
    path("portal/<slug:slug>/tickets/", signin.tickets, name="tickets"),
    path("portal/<slug:slug>/signout/", signin.sign_out, name="signout"),
    path("<str:public_id>/<str:access_key>/", views.ticket_page, name="ticket"),
    path("<str:public_id>/<str:access_key>/reply/", views.reply, name="reply"),
    path("<str:public_id>/<str:access_key>/close/", views.close, name="close"),
    path("<str:public_id>/<str:access_key>/reopen/", views.reopen, name="reopen"),
    path(
        "<str:public_id>/<str:access_key>/attachments/<str:attachment_id>/",
        views.attachment,
        name="attachment",
    ),
]
