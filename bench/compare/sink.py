"""A local SMTP sink for the comparison: accepts every mail on 127.0.0.1 and counts them.

    python bench/compare/sink.py PORT COUNTS_FILE

The counts (mails received per envelope sender) are written to COUNTS_FILE twice a
second, so run.py can tell how many mails each side sent. Stopped by SIGTERM.
"""

import json
import signal
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class Counter:
    def __init__(self):
        self.lock = threading.Lock()
        self.by_sender: dict[str, int] = {}

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.by_sender[envelope.mail_from] = self.by_sender.get(envelope.mail_from, 0) + 1
        return "250 OK"


def main() -> None:
    port, counts = int(sys.argv[1]), Path(sys.argv[2])
    counter = Counter()
    controller = Controller(counter, hostname="127.0.0.1", port=port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    while not stopped.wait(0.5):
        with counter.lock:
            counts.write_text(json.dumps(counter.by_sender))
    controller.stop()
    counts.write_text(json.dumps(counter.by_sender))


if __name__ == "__main__":
    main()
