"""Sign-in and password reset pages, guarded by django-axes (``accounts/signin_guard.py``).

A wrong password is counted by axes through ``authenticate``; a locked account or address
gets the lockout page (429) without its password being checked. A password reset request
sends an email, so it is counted as an attempt on the address asked for.
"""

from django.contrib.auth import views as auth_views

from . import signin_guard


class LoginView(auth_views.LoginView):
    redirect_authenticated_user = True


class PasswordResetView(auth_views.PasswordResetView):
    def form_valid(self, form):
        locked = signin_guard.count_email_request(self.request, form.cleaned_data["email"])
        if locked is not None:
            return locked
        return super().form_valid(form)
