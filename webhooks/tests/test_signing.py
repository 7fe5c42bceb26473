"""Signatures per the Standard Webhooks specification: the published test vector, and
both secrets signing during a rotation's overlap."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone
from standardwebhooks import Webhook, WebhookVerificationError

from tickets.tests import factories
from webhooks.models import WebhookEndpoint
from webhooks.services import signing

# The test vector of docs/webhooks.md.
VECTOR_SECRET = "whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
VECTOR_ID = "msg_2mT3bXyZ0000000000000000"
VECTOR_TIMESTAMP = 1798761600
VECTOR_BODY = '{"type":"invoice.paid","data":{"id":"inv_123","amount":4200}}'
VECTOR_SIGNATURE = "v1,csPn/HdQ5Qg3OSU0UYSgqxTgb+yFnrcUHSmjI15oZG4="


def test_our_signature_of_the_published_test_vector_is_the_expected_one():
    header = signing.signature_header(
        [VECTOR_SECRET], message_id=VECTOR_ID, timestamp=VECTOR_TIMESTAMP, body=VECTOR_BODY
    )
    assert header == VECTOR_SIGNATURE


def test_the_documented_test_vector_is_the_one_tested():
    from pathlib import Path

    text = (Path(__file__).resolve().parents[2] / "docs" / "webhooks.md").read_text()
    for value in (VECTOR_SECRET, VECTOR_ID, str(VECTOR_TIMESTAMP), VECTOR_BODY, VECTOR_SIGNATURE):
        assert value in text


def test_a_new_secret_is_whsec_and_32_random_bytes():
    first, second = signing.new_secret(), signing.new_secret()
    assert first.startswith("whsec_") and first != second
    Webhook(first)  # the library reads it


def test_during_the_overlap_both_secrets_verify_and_after_it_only_the_new_one(
    api, api_key, inbox, receiver, make_endpoint, delivering, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    old = make_endpoint(api_key, receiver.url, events=["ticket.created"])
    new = api.post(f"/api/v1/webhooks/{old['id']}/rotate-secret").json()
    with delivering():
        factories.make_ticket(inbox)
    during = receiver.received[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    during.verify(old["secret"])
    during.verify(new["secret"])

    time_machine.shift(timedelta(hours=24, seconds=1))
    with delivering():
        factories.make_ticket(inbox)
    after = receiver.received[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    after.verify(new["secret"])
    with pytest.raises(WebhookVerificationError):
        after.verify(old["secret"])
    assert WebhookEndpoint.objects.get().signing_secrets() == [new["secret"]]


def test_the_body_sent_is_exactly_the_body_signed(api_key, inbox, receiver, make_endpoint, delivering):
    endpoint = make_endpoint(api_key, receiver.url, events=["ticket.created"])
    with delivering():
        factories.make_ticket(inbox, subject="Ünïcode — ok")
    request = receiver.received[0]
    assert request.headers["Content-Type"] == "application/json"
    payload = request.verify(endpoint["secret"])
    assert payload == json.loads(request.body)
    assert payload["data"]["ticket"]["subject"] == "Ünïcode — ok"
    # A receiver that re-serializes the JSON before verifying would fail: sign the raw body.
    tampered = request.body.replace(b'"ticket.created"', b'"ticket.created" ')
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint["secret"]).verify(tampered, request.headers)
