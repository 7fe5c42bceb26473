"""The README's set-up, as written: the port's links, the key in HELPDESK_API_KEY."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def dry_run(*arguments: str) -> str:
    return subprocess.run(  # noqa: S603 - our own Makefile, fixed arguments
        ["make", "-n", "-s", *arguments],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_make_dev_on_another_port_generates_links_to_that_port():
    commands = dry_run("dev", "PORT=18100")
    for command in ("seed_demo --if-new", "runserver 127.0.0.1:18100"):
        line = next(line for line in commands.splitlines() if command in line)
        assert "SITE_URL=${SITE_URL:-http://127.0.0.1:18100}" in line


def test_demo_credentials_are_printed_again_as_json_with_the_venv_and_debug():
    line = next(line for line in dry_run("demo-credentials").splitlines() if "seed_demo" in line)
    assert line.startswith("DEBUG=1 ") and ".venv/bin/python manage.py seed_demo --json" in line


def test_the_quickstart_sets_the_api_key_before_using_it():
    readme = (ROOT / "README.md").read_text()
    quickstart = readme[readme.index("## Quickstart") :]
    assert quickstart.index('export HELPDESK_API_KEY="$(make -s demo-credentials') < quickstart.index(
        "$HELPDESK_API_KEY"
    )


def test_demo_credentials_on_another_port_name_that_port():
    line = next(
        line for line in dry_run("demo-credentials", "PORT=18100").splitlines() if "seed_demo" in line
    )
    assert "SITE_URL=${SITE_URL:-http://127.0.0.1:18100}" in line
