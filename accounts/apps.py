from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        # axes and django.contrib.auth are code we do not own: their signals are how we hear
        # of a lockout and of a sign-in (whichever page it came through, admin's included).
        from axes.signals import user_locked_out
        from django.contrib.auth.signals import user_logged_in

        from helpdesk import checks  # noqa: F401 - registers the project's deploy checks

        from .signin_guard import tell_the_account_owner
        from .two_factor import state_at_sign_in

        user_locked_out.connect(tell_the_account_owner, dispatch_uid="accounts.lockout_email")
        user_logged_in.connect(state_at_sign_in, dispatch_uid="accounts.two_factor_state")
