from django.contrib.auth import views as auth_views
from django.urls import path

from . import views
from .password_reset import DeferredPasswordResetForm

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("two-factor/", views.two_factor_verify, name="two_factor_verify"),
    path("invitations/<str:public_id>/", views.invitation, name="invitation"),
    path("two-factor/setup/", views.two_factor_setup, name="two_factor_setup"),
    path(
        "password-reset/",
        views.PasswordResetView.as_view(form_class=DeferredPasswordResetForm),
        name="password_reset",
    ),
    path("password-reset/sent/", auth_views.PasswordResetDoneView.as_view(), name="password_reset_done"),
    path(
        "reset/<uidb64>/<token>/",
        auth_views.PasswordResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path("reset/done/", auth_views.PasswordResetCompleteView.as_view(), name="password_reset_complete"),
]
