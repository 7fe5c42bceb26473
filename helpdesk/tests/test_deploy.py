"""Production settings pass Django's deployment checklist."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import override_settings

from helpdesk import checks

BASE_DIR = Path(__file__).resolve().parents[2]


def production_environment(**overrides) -> dict:
    environment = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {
            "DEBUG",
            "SECURE_SSL_REDIRECT",
            "SECURE_COOKIES",
            "STATIC_MANIFEST",
            "SITE_URL",
            "DJANGO_ALLOW_ASYNC_UNSAFE",  # set for the test run only
        }
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="helpdesk.settings",
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50)[:60],
        ALLOWED_HOSTS="help.example.com",
    )
    environment.update(overrides)
    return environment


def manage(*arguments, **overrides) -> subprocess.CompletedProcess:
    return subprocess.run(  # noqa: S603 - our own manage.py with fixed arguments
        [sys.executable, "manage.py", *arguments],
        cwd=BASE_DIR,
        env=production_environment(**overrides),
        capture_output=True,
        text=True,
        timeout=120,
    )


CONFIGURED = {"SITE_URL": "https://help.example.com", "TASKS_BACKEND": "database"}


def test_check_deploy_is_clean_with_production_settings():
    result = manage("check", "--deploy", "--fail-level", "DEBUG", **CONFIGURED)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout, result.stdout + result.stderr


def test_check_deploy_warns_of_the_default_site_url_and_the_immediate_tasks_backend():
    # Before: silent on both.
    result = manage("check", "--deploy")
    output = result.stdout + result.stderr
    assert "helpdesk.W001" in output
    assert "SITE_URL is left at its default" in output
    assert "helpdesk.W004" in output
    assert "TASKS_BACKEND is 'immediate'" in output


def test_check_deploy_warns_of_a_site_url_without_https():
    result = manage("check", "--deploy", SITE_URL="http://help.example.com", TASKS_BACKEND="database")
    assert "helpdesk.W002" in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("backend", "workers", "warned"),
    [
        ("django.core.cache.backends.locmem.LocMemCache", "4", True),
        ("django.core.cache.backends.locmem.LocMemCache", "", True),  # gunicorn.conf's default: several
        ("django.core.cache.backends.locmem.LocMemCache", "1", False),
        ("django.core.cache.backends.db.DatabaseCache", "4", False),
    ],
)
def test_check_deploy_warns_of_several_workers_without_a_shared_cache(monkeypatch, backend, workers, warned):
    monkeypatch.setenv("WEB_CONCURRENCY", workers)
    with override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": "helpdesk_cache"}}):
        found = [message.id for message in checks.check_shared_cache(None)]
    assert found == (["helpdesk.W003"] if warned else [])


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", SECRET_KEY="")
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


HARDENED = {
    "DEBUG": False,
    "SECURE_SSL_REDIRECT": True,
    "SESSION_COOKIE_SECURE": True,
    "CSRF_COOKIE_SECURE": True,
    "SESSION_COOKIE_HTTPONLY": True,
    "SECURE_HSTS_SECONDS": 31536000,
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": True,
    "SECURE_CONTENT_TYPE_NOSNIFF": True,
    "X_FRAME_OPTIONS": "DENY",
    "ALLOWED_HOSTS": ["help.example.com"],
}


def production_settings(names: list[str], **overrides) -> dict:
    """The values of ``names`` in a fresh process with the production environment."""
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        f"print(json.dumps({{name: getattr(settings, name) for name in {names!r}}}, default=str))"
    )
    result = subprocess.run(  # noqa: S603 - a fixed snippet in our own interpreter
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=production_environment(**overrides),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_defaults_are_hardened():
    assert production_settings(list(HARDENED)) == HARDENED


def test_a_replica_url_gives_reports_a_read_replica():
    found = production_settings(
        ["DATABASES", "REPORTS_DATABASE"],
        DATABASE_URL="postgres://helpdesk@primary.internal:5432/helpdesk",
        DATABASE_REPLICA_URL="postgres://reader@replica.internal:5432/helpdesk",
    )
    replica = found["DATABASES"]["replica"]
    assert (replica["HOST"], replica["USER"], replica["NAME"]) == ("replica.internal", "reader", "helpdesk")
    assert replica["CONN_MAX_AGE"] == found["DATABASES"]["default"]["CONN_MAX_AGE"] == 600
    # Tests read the primary's test database through it instead of creating one.
    assert replica["TEST"]["MIRROR"] == "default"
    assert found["REPORTS_DATABASE"] == "replica"


def test_without_a_replica_reports_read_the_primary():
    found = production_settings(["DATABASES", "REPORTS_DATABASE"], DATABASE_REPLICA_URL="")
    assert list(found["DATABASES"]) == ["default"]
    assert found["REPORTS_DATABASE"] == "default"


def test_an_s3_bucket_stores_attachments_privately_through_django_storages():
    found = production_settings(
        ["STORAGES"],
        S3_BUCKET="helpdesk-files",
        S3_REGION="eu-west-1",
        S3_ENDPOINT_URL="https://s3.example.com",
    )
    storage = found["STORAGES"]["default"]
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    assert storage["OPTIONS"]["bucket_name"] == "helpdesk-files"
    assert storage["OPTIONS"]["endpoint_url"] == "https://s3.example.com"
    assert storage["OPTIONS"]["default_acl"] == "private"
    assert storage["OPTIONS"]["querystring_auth"] is True


def test_without_a_bucket_attachments_are_files_under_media_root():
    found = production_settings(["STORAGES"], S3_BUCKET="")
    assert found["STORAGES"]["default"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
