"""Liveness and readiness for load balancers: /healthz and /readyz."""

import pytest


@pytest.mark.django_db
@pytest.mark.parametrize("tasks_backend", ["immediate", "database"])
def test_readiness_is_200_with_every_dependency_up(client, settings, tasks_backend):
    settings.TASKS_BACKEND = tasks_backend
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok", "vendor": response.json()["checks"]["database"]["vendor"]},
            "cache": {"status": "ok", "backend": "database"},
            "tasks": {"status": "ok", "backend": tasks_backend},
        },
    }


def test_liveness_asks_no_dependency(client, db, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
