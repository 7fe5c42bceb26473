"""Pages around the agent's day: the 403 page, the favicon, contrast of the badges."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]


def contrast(foreground: str, background: str) -> float:
    def luminance(color: str) -> float:
        channels = [int(color.lstrip("#")[index : index + 2], 16) / 255 for index in (0, 2, 4)]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    light, dark = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


@pytest.mark.parametrize("css", ["dashboard.css", "portal.css"])
def test_every_status_and_priority_badge_meets_wcag_aa(css):
    text = (ROOT / "static/css" / css).read_text()
    badges = re.findall(
        r"\.(?:badge\.)?(?:status|priority)-[a-z_]+ \{ background: (#[0-9a-f]{6}); color: (#[0-9a-f]{6}); \}",
        text,
    )
    assert len(badges) >= 6
    for background, foreground in badges:
        assert contrast(foreground, background) >= 4.5, (foreground, background)


def test_the_focus_ring_meets_wcag_aa_and_the_focused_row_is_outlined():
    text = (ROOT / "static/css/dashboard.css").read_text()
    ring = re.search(r"a:focus-visible \{ outline: 2px solid (#[0-9a-f]{6})", text).group(1)
    assert contrast(ring, "#ffffff") >= 3
    assert ".queue-row:focus-within" in text


@pytest.mark.django_db
def test_a_refused_page_is_styled_and_leads_back(client, organization, agent):
    client.force_login(agent)
    response = client.get(reverse("dashboard:settings-members"))
    assert response.status_code == 403
    page = response.content.decode()
    assert "Not allowed" in page and 'href="/desk/"' in page
    assert "favicon.svg" in page


def test_favicon_ico_answers_the_icon_the_pages_link_to(client):
    """Browsers ask /favicon.ico on pages without an icon link (admin, JSON); people try it."""
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response.content == (ROOT / "static" / "img" / "favicon.svg").read_bytes()


def test_the_favicon_is_only_read(client):
    assert client.post("/favicon.ico").status_code == 405
    assert client.head("/favicon.ico").status_code == 200
