"""Keep what a person wrote in a reply: cut the quoted history and the signature.

The whole email stays in ``Message.raw_email``; this only decides what the thread shows.
Mail clients mark quotes in a handful of ways (our own "reply above this line" marker,
"On <date>, <person> wrote:", Outlook's header block, ``>`` prefixes) and signatures
with the ``-- `` delimiter or a "Sent from my phone" line.
"""

import re
from html.parser import HTMLParser

REPLY_MARKER = "##- Please type your reply above this line -##"

_QUOTE_HEADERS = [
    # Gmail, Apple Mail, Thunderbird and friends, possibly wrapped over two lines.
    re.compile(r"^\s*On\b.{0,300}\bwrote:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Le\b.{0,300}\ba écrit\s*:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Am\b.{0,300}\bschrieb.{0,80}:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*El\b.{0,300}\bescribió:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*Op\b.{0,300}\bgeschreven:\s*$", re.IGNORECASE | re.DOTALL),
    re.compile(r"^\s*-{2,}\s*Original Message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*-{2,}\s*Forwarded message\s*-{2,}\s*$", re.IGNORECASE),
    re.compile(r"^\s*_{20,}\s*$"),
]
# Outlook: "From: ..." followed within a few lines by "Sent:"/"Date:" and "Subject:".
_OUTLOOK_FROM = re.compile(r"^\s*\*?(From|De|Von|Van)\s*:\*?\s", re.IGNORECASE)
_OUTLOOK_FIELD = re.compile(r"^\s*\*?(Sent|Date|Envoyé|Gesendet|Subject|Objet|Betreff|To)\s*:", re.IGNORECASE)
_SIGNATURE_DELIMITER = re.compile(r"^-- ?$")
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(Sent from my \w+|Sent from (Mail|Outlook) for \w+|Get Outlook for \w+"
    r"|Sent from Yahoo Mail.*|Envoyé de mon \w+)\b.*$",
    re.IGNORECASE,
)


def _quote_start(lines: list[str]) -> int | None:
    for index, line in enumerate(lines):
        if REPLY_MARKER.lower() in line.lower():
            # The client's "On ... wrote:" line sits just above our marker.
            start = index
            while start > 0 and (not lines[start - 1].strip() or lines[start - 1].lstrip().startswith(">")):
                start -= 1
            if start > 0 and any(pattern.match(lines[start - 1]) for pattern in _QUOTE_HEADERS):
                start -= 1
            return start
        joined = line if index + 1 >= len(lines) else f"{line} {lines[index + 1]}"
        for pattern in _QUOTE_HEADERS:
            if pattern.match(line):
                return index
            if (
                pattern is _QUOTE_HEADERS[0]
                and line.strip().lower().startswith("on ")
                and pattern.match(joined)
            ):
                return index
        if _OUTLOOK_FROM.match(line):
            following = lines[index + 1 : index + 5]
            if sum(bool(_OUTLOOK_FIELD.match(candidate)) for candidate in following) >= 2:
                return index
        if line.lstrip().startswith(">"):
            # A block of ">" lines that runs to the end (blank lines allowed) is the quote.
            rest = [candidate for candidate in lines[index:] if candidate.strip()]
            if all(candidate.lstrip().startswith(">") for candidate in rest):
                return index
    return None


def strip_quoted(text: str) -> str:
    """The new part of a reply; the full text when stripping would leave nothing."""
    original = (text or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    lines = original.split("\n")
    start = _quote_start(lines)
    if start is not None:
        lines = lines[:start]
    for index, line in enumerate(lines):
        if _SIGNATURE_DELIMITER.match(line):
            lines = lines[:index]
            break
    while lines and (not lines[-1].strip() or _MOBILE_SIGNATURE.match(lines[-1])):
        lines.pop()
    stripped = "\n".join(lines).strip()
    return stripped or original


class _TextExtractor(HTMLParser):
    """HTML to plain text, dropping blockquotes (quoted history) and invisible parts."""

    _BLOCKS = {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table"}
    _SKIPPED = {"blockquote", "style", "script", "head", "title"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    _VOID = {"br", "img", "hr", "meta", "link", "input", "area", "base", "col", "source", "wbr"}

    def handle_starttag(self, tag, attrs):
        if self.skipping:
            if tag not in self._VOID:
                self.skipping += 1
            return
        classes = dict(attrs).get("class") or ""
        if tag in self._SKIPPED or "gmail_quote" in classes:
            self.skipping = 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if self.skipping:
            if tag not in self._VOID:
                self.skipping -= 1
            return
        if tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    extractor = _TextExtractor()
    extractor.feed(html or "")
    extractor.close()
    text = "".join(extractor.parts)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(line.strip() for line in text.split("\n"))).strip()
