"""Serializers whose fields are built once per class still behave as one instance each."""

from tickets.api.serializers import TicketCreateSerializer


def test_each_instance_validates_and_reports_on_its_own():
    valid = TicketCreateSerializer(
        data={"customer": {"email": "ada@example.com"}, "subject": "Refund", "message": "Please refund me."}
    )
    invalid = TicketCreateSerializer(
        data={"customer": {"email": "not an address"}, "subject": "", "message": "x" * 10, "tags": [7]}
    )

    assert not invalid.is_valid()
    assert valid.is_valid(), valid.errors
    assert set(invalid.errors) == {"customer", "subject", "tags"}
    assert set(invalid.errors["customer"]) == {"email"}
    assert valid.validated_data["customer"] == {"email": "ada@example.com"}
    assert valid.validated_data["priority"] == "normal"


def test_fields_and_nested_fields_are_bound_to_their_own_serializer():
    first, second = TicketCreateSerializer(data={}), TicketCreateSerializer(data={})

    for serializer in (first, second):
        for name, field in serializer.fields.items():
            assert field.parent is serializer and field.field_name == name
        customer = serializer.fields["customer"]
        assert all(field.parent is customer for field in customer.fields.values())
        tags = serializer.fields["tags"]
        assert tags.child.parent is tags
    assert first.fields["subject"] is not second.fields["subject"]
    assert first.fields["customer"].fields["email"] is not second.fields["customer"].fields["email"]
