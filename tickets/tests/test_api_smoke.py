def test_create_ticket_with_x_api_key_returns_the_ticket(api, inbox):
    response = api.post(
        "/api/v1/tickets",
        {
            "customer": {"email": "Jane@Example.com", "name": "Jane"},
            "subject": "Refund please",
            "message": "I was charged twice.",
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["reference"] == "INV-1"
    assert body["customer"]["email"] == "jane@example.com"
    assert body["messages"][0]["body"] == "I was charged twice."
    assert response["X-Request-ID"].startswith("req_")
