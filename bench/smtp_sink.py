"""A local SMTP server that accepts every mail and counts it: where the bench's mail goes.

    python bench/smtp_sink.py <port> <count file>

Listens on 127.0.0.1 only. Every accepted message adds one to the count, which is
written to ``<count file>`` as it changes, so the bench can read how many mails the
worker has delivered without talking SMTP itself. Stops on SIGTERM.
"""

import signal
import sys
import threading
from pathlib import Path

from aiosmtpd.controller import Controller


class CountingHandler:
    def __init__(self, count_file: Path):
        self.count_file = count_file
        self.count = 0
        self.lock = threading.Lock()
        count_file.write_text("0")

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        with self.lock:
            self.count += 1
            self.count_file.write_text(str(self.count))
        return "250 OK"


def main() -> None:
    port, count_file = int(sys.argv[1]), Path(sys.argv[2])
    controller = Controller(CountingHandler(count_file), hostname="127.0.0.1", port=port)
    controller.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    stopped.wait()
    controller.stop()


if __name__ == "__main__":
    main()
