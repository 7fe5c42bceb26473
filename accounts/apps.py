from django.apps import AppConfig


class AccountsConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "accounts"

    def ready(self):
        # axes is code we do not own: its lockout signal is how we hear of a lock.
        from axes.signals import user_locked_out

        from helpdesk import checks  # noqa: F401 - registers the project's deploy checks

        from .signin_guard import tell_the_account_owner

        user_locked_out.connect(tell_the_account_owner, dispatch_uid="accounts.lockout_email")
