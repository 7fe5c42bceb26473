"""Password reset that answers alike for known and unknown addresses.

Django's ``PasswordResetForm.save`` looks the users up and sends each one an email inside
the request, so a known address answered slower than an unknown one (and a hanging mail
server held the page). Here the form only enqueues a task with what the email needs; the
task, run after the response (helpdesk/tasks_backend.py) or by a worker, does the lookup
and the sending with Django's own form.
"""

from django.contrib.auth.forms import PasswordResetForm
from django.tasks import task


class DeferredPasswordResetForm(PasswordResetForm):
    def save(self, domain_override=None, use_https=False, request=None, from_email=None, **kwargs):
        domain = domain_override or (request.get_host() if request is not None else "")
        send_password_reset.enqueue(
            email=self.cleaned_data["email"], domain=domain, use_https=use_https, from_email=from_email
        )


@task()
def send_password_reset(email: str, domain: str, use_https: bool, from_email: str | None) -> None:
    form = PasswordResetForm({"email": email})
    if form.is_valid():
        form.save(domain_override=domain, use_https=use_https, from_email=from_email)
