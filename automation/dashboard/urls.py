"""Routes under /desk/automation/: Settings → Triggers and Macros, and applying macros."""

from django.urls import path

from . import macros, views

app_name = "automation-dashboard"
urlpatterns = [
    path("triggers/", views.trigger_list, name="triggers"),
    path("triggers/<int:trigger_id>/", views.trigger_detail, name="trigger"),
    path("triggers/<int:trigger_id>/delete/", views.trigger_delete, name="trigger-delete"),
    path("macros/", macros.macro_list, name="macros"),
    path("macros/new/", macros.macro_create, name="macro-create"),
    path("macros/<int:macro_id>/", macros.macro_edit, name="macro"),
    path("macros/<int:macro_id>/delete/", macros.macro_delete, name="macro-delete"),
    path("macros/apply/", views.apply_macro_to_many, name="apply-macro-bulk"),
    path("tickets/<str:public_id>/macro/", views.apply_macro, name="apply-macro"),
]
