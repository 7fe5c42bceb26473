"""``manage.py check --deploy``: settings that work on a laptop and hurt in production.

Registered by ``accounts.apps`` (``helpdesk`` is the project package, not an app).
"""

import os

from django.conf import settings
from django.core.checks import Tags, register
from django.core.checks import Warning as CheckWarning

# Caches that each process keeps to itself: with several workers, nothing in them is shared.
PROCESS_LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
    "django.core.cache.backends.filebased.FileBasedCache",
}


def _web_workers() -> int:
    """Workers per machine as gunicorn.conf.py computes them (several unless told one)."""
    raw = os.environ.get("WEB_CONCURRENCY", "").strip()
    return int(raw) if raw.isdigit() else max(2, min((os.cpu_count() or 1) * 2 + 1, 12))


@register(Tags.security, deploy=True)
def check_site_url(app_configs, **kwargs):
    if settings.SITE_URL == settings.DEFAULT_SITE_URL:
        return [
            CheckWarning(
                f"SITE_URL is left at its default ({settings.DEFAULT_SITE_URL}).",
                hint="Set SITE_URL to this site's public https:// address: links in emails "
                "(private ticket links, password resets, invitations) are built from it.",
                id="helpdesk.W001",
            )
        ]
    if not settings.SITE_URL.startswith("https://"):
        return [
            CheckWarning(
                f"SITE_URL ({settings.SITE_URL}) is not an https:// address.",
                hint="Private ticket links and sign-in links carry secrets; send them over HTTPS only.",
                id="helpdesk.W002",
            )
        ]
    return []


@register(Tags.caches, deploy=True)
def check_shared_cache(app_configs, **kwargs):
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    workers = _web_workers()
    if backend in PROCESS_LOCAL_CACHES and workers > 1:
        return [
            CheckWarning(
                f"The cache ({backend.rsplit('.', 1)[-1]}) is not shared, "
                f"and gunicorn runs {workers} workers.",
                hint="Leave REDIS_URL empty for the database cache, or point it at Redis; "
                "each worker would otherwise keep its own copy of everything cached.",
                id="helpdesk.W003",
            )
        ]
    return []


@register(deploy=True)
def check_tasks_backend(app_configs, **kwargs):
    if settings.TASKS_BACKEND == "immediate":
        return [
            CheckWarning(
                "TASKS_BACKEND is 'immediate': emails are sent inside the request that causes them.",
                hint="Set TASKS_BACKEND=database and run `python manage.py db_worker` (the Procfile's "
                "worker line), so a slow or failing mail provider never slows a request and "
                "retries can wait (docs/deploy.md).",
                id="helpdesk.W004",
            )
        ]
    return []
