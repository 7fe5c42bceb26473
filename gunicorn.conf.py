"""Gunicorn for production: `gunicorn helpdesk.wsgi -c gunicorn.conf.py` (see Procfile).

Everything is read from the environment so one file serves every machine:
HOST/PORT (bind), WEB_CONCURRENCY (workers), WEB_THREADS (threads per worker),
GUNICORN_TIMEOUT, GUNICORN_MAX_REQUESTS.
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else default


bind = f"{os.environ.get('HOST', '0.0.0.0')}:{_int('PORT', 8000)}"  # noqa: S104 - behind a proxy

# 2 × cores + 1 is gunicorn's own advice; capped so a big machine does not open more
# database connections than PostgreSQL's max_connections can take (each thread keeps one
# with DATABASE_CONN_MAX_AGE).
workers = _int("WEB_CONCURRENCY", min(multiprocessing.cpu_count() * 2 + 1, 12))
threads = _int("WEB_THREADS", 2)
worker_class = "gthread" if threads > 1 else "sync"

# Load the application once in the master: workers fork with the code already imported,
# start faster and share the memory of the imported modules.
preload_app = True

timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle a worker now and then so a slow leak in any library cannot grow without bound.
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 500)

# Request bodies are bounded by Django (DATA_UPLOAD_MAX_MEMORY_SIZE); bound the head here.
limit_request_line = 8190
limit_request_fields = 100

# The request id is the X-Request-ID header our middleware sets on every response, so an
# access log line can be matched with the API error body a client reports.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%(h)s "%(r)s" %(s)s %(B)s %(M)sms request_id=%({x-request-id}o)s "%(a)s"'
# Private-link keys, portal sign-in and verification tokens in URLs are written as
# [redacted] (helpdesk/redaction.py): an access log outlives the links it would leak.
logger_class = "helpdesk.redaction.RedactingGunicornLogger"

# Behind a proxy that sets X-Forwarded-Proto (see BEHIND_PROXY in settings).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
