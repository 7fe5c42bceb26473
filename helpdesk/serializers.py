"""Serializers that build their fields once per class, for the API's hot paths.

DRF gives every serializer instance its own fields: a plain Serializer deep-copies its
declared fields, which runs each field's ``__init__`` again (a CharField builds its
validators anew), and a ModelSerializer rebuilds every field from the model's metadata.
For a create that answers with the ticket, that was a tenth of the request's CPU.

These classes build the fields on first use and then hand each instance fresh copies:
a field is cloned (its attributes copied, no ``__init__``), since binding it to its
serializer only sets attributes of its own on the clone, and a nested serializer builds
its own fields when first asked, bound to itself. A field holding a child (``many=True``,
a ListField) is deep-copied as DRF does, so that its child is bound to it and not to the
class's template. The copies share what ``__init__`` built and nobody changes
afterwards: validators, choices, error messages.
"""

import copy

from rest_framework import serializers

# What a serializer caches on itself once used: never carried over to a clone.
_PER_INSTANCE = ("fields", "_data", "_errors", "_validated_data")


def _fresh(field: serializers.Field) -> serializers.Field:
    if hasattr(field, "child"):
        return copy.deepcopy(field)
    clone = object.__new__(type(field))
    clone.__dict__.update(field.__dict__)
    if isinstance(field, serializers.BaseSerializer):
        for name in _PER_INSTANCE:
            clone.__dict__.pop(name, None)
    return clone


class FieldsBuiltOnce:
    def get_fields(self):
        # Looked up on the class itself, not inherited: a subclass has fields of its own.
        built = type(self).__dict__.get("_built_fields")
        if built is None:
            built = super().get_fields()
            type(self)._built_fields = built
        return {name: _fresh(field) for name, field in built.items()}


class InputSerializer(FieldsBuiltOnce, serializers.Serializer):
    pass


class OutputSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    pass
