"""Bounds on what a ticket may hold, shared by the services and every face's validation."""

SUBJECT_MIN_LENGTH = 3
SUBJECT_MAX_LENGTH = 200
DIALECT_MAX_LENGTH = 20
MESSAGE_MIN_LENGTH = 1
# A message may hold 64 Ki characters of Markdown (logs, stack traces); the seed documents'
# routes keep their documented 5000 (appbox's "1–5000").
MESSAGE_MAX_LENGTH = 64 * 1024
SEED_MESSAGE_MAX_LENGTH = 5000
CATEGORY_MAX_LENGTH = 100
TYPE_MAX_LENGTH = 100
NAME_MAX_LENGTH = 200
EXTERNAL_ID_MAX_LENGTH = 200
REPLY_ADDRESS_MAX_LENGTH = 254
# What an address column holds (EmailField's default, RFC 5321's path limit); Django's
# validate_email reads addresses up to 320 characters.
EMAIL_MAX_LENGTH = 254
TAG_NAME_MAX_LENGTH = 50
TAGS_PER_TICKET = 20

# Metadata is "flat-ish": an object of at most this many keys, nested at most this deep,
# and at most this many bytes as JSON.
METADATA_MAX_KEYS = 50
METADATA_MAX_DEPTH = 3
METADATA_MAX_BYTES = 8 * 1024
METADATA_KEY_MAX_LENGTH = 100


def normalize_line_breaks(text: str) -> str:
    """One character per line break, as the composer's counter and a textarea's value count
    it: browsers submit each line break as CR LF, which would make a message the page shows
    under the limit count over it."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
