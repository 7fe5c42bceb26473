"""A real IMAP and POP3 server for the tests: Debian's dovecot, started on loopback
ports with a throwaway mail directory (docs/STACK facts: uid 0 is refused, the mail
directory must be reachable by ``nobody``, ready in ~0.1 s, ~2.5 s to stop).

Installed by ``.ci/run`` (``apt-get install -y dovecot-imapd dovecot-pop3d``); where it
is missing the tests that need it are skipped with the reason shown.
"""

import os
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
USER, PASSWORD = "helpdesk", "mailbox-secret"

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
instance_name = helpdesk-test-{imap_port}
listen = 127.0.0.1
protocols = imap pop3
ssl = no
disable_plaintext_auth = no
auth_failure_delay = 0
auth_mechanisms = plain login
log_path = {root}/dovecot.log
passdb {{
  driver = passwd-file
  args = {root}/users
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%u
}}
mail_location = maildir:~/Maildir
pop3_uidl_format = %08Xu%08Xv
service auth {{
  user = root
}}
service imap-login {{
  inet_listener imap {{
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""


@dataclass
class Dovecot:
    root: Path
    imap_port: int
    pop3_port: int
    user: str = USER
    password: str = PASSWORD


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen) -> None:
    for _ in range(200):
        if process.poll() is not None:
            raise RuntimeError("dovecot exited at start")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.025)
    raise RuntimeError("dovecot did not listen")


@pytest.fixture(scope="module", name="dovecot")
def dovecot_server():
    if not os.path.exists(DOVECOT):
        pytest.skip("needs dovecot: apt-get install -y dovecot-imapd dovecot-pop3d (.ci/run does)")
    root = Path(tempfile.mkdtemp(prefix="helpdesk-dovecot-", dir="/tmp"))
    root.chmod(0o711)  # nobody reads the mail below it
    (root / "mail").mkdir()
    (root / "mail").chmod(0o777)  # dovecot writes the Maildir as nobody (mkdir's mode obeys the umask)
    server = Dovecot(root=root, imap_port=_free_port(), pop3_port=_free_port())
    (root / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, imap_port=server.imap_port, pop3_port=server.pop3_port))
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(config)])  # noqa: S603 - our own binary and file
    try:
        _wait_for(server.imap_port, process)
        _wait_for(server.pop3_port, process)
        yield server
    finally:
        process.terminate()  # by the PID we started, never by name
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        shutil.rmtree(root, ignore_errors=True)
