"""Every dialect is in the OpenAPI document under its own tag, with its bodies and errors."""

import pytest
from rest_framework.test import APIClient

EXPECTED = {
    "appbox": {("/compat/appbox/api/v1/paywall/{paywall_id}/create-ticket", "post")},
    "ctxfy": {("/compat/ctxfy/v1/support/tickets", "post")},
    "inapp": {
        ("/compat/inapp/v1/support/tickets", "post"),
        ("/compat/inapp/v1/support/tickets", "get"),
        ("/compat/inapp/v1/support/tickets/{ticket_id}", "get"),
        ("/compat/inapp/v1/support/tickets/{ticket_id}/messages", "post"),
        ("/compat/inapp/v1/support/tickets/{ticket_id}/close", "post"),
        ("/compat/inapp/v1/admin/support/tickets", "get"),
        ("/compat/inapp/v1/admin/support/tickets/{ticket_id}", "get"),
        ("/compat/inapp/v1/admin/support/tickets/{ticket_id}", "patch"),
        ("/compat/inapp/v1/admin/support/tickets/{ticket_id}/messages", "post"),
    },
    "supportdesk": {("/compat/supportdesk/api/v1/tickets/api-create", "post")},
    "crawlchat": {("/compat/crawlchat/ticket/{collection_id}", "post")},
}


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def operations_tagged(schema, tag):
    return {
        (path, method)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
        if isinstance(operation, dict) and tag in operation.get("tags", [])
    }


@pytest.mark.parametrize("tag", sorted(EXPECTED))
def test_each_dialect_has_its_own_tag_with_exactly_its_documented_routes(schema, tag):
    assert operations_tagged(schema, tag) == EXPECTED[tag]


@pytest.mark.parametrize("tag", sorted(EXPECTED))
def test_each_dialect_operation_describes_its_success_and_error_bodies(schema, tag):
    for path, method in EXPECTED[tag]:
        operation = schema["paths"][path][method]
        responses = operation["responses"]
        success = [code for code in responses if code.startswith("2")]
        assert success, (path, method)
        assert "application/json" in responses[success[0]]["content"]
        for code in ("401", "500"):
            assert "application/json" in responses[code]["content"], (path, method, code)
        if method in ("post", "patch") and not path.endswith("/close"):
            assert "requestBody" in operation, (path, method)
            assert "400" in responses, (path, method)


def test_the_document_lists_no_other_compat_paths_than_the_documented_ones(schema):
    documented = {path for operations in EXPECTED.values() for path, _ in operations}
    assert {path for path in schema["paths"] if path.startswith("/compat/")} == documented


def test_a_path_under_compat_that_names_no_dialect_is_a_json_404(db):
    response = APIClient().post("/compat/zendesk/api/v2/tickets", {}, format="json")
    assert response.status_code == 404
    assert response.json() == {"error": "Not Found", "message": "No such API under /compat/."}
