from django.urls import path

from . import survey

app_name = "sla-survey"
urlpatterns = [path("<str:public_id>/<str:access_key>/", survey.rate, name="rate")]
