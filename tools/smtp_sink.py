"""A real SMTP server for tests and CI that keeps every message it accepts.

    python tools/smtp_sink.py --port 2525 --dir var/smtp-sink [--delay 2] [--rcpt-delay 30]
                              [--control FILE]

Each message is written to DIR as one .eml file (written aside, then renamed, so a
reader never sees half a message). --delay makes the server wait before answering each
DATA, like a slow relay. --rcpt-delay makes it wait before accepting each recipient,
that is before any message can be accepted: a client killed meanwhile leaves nothing
behind. Each RCPT is logged on stdout when it arrives, and each accepted message's
Message-ID.

--control FILE changes the answer to RCPT while the server runs, read at each RCPT: the
file holding "tempfail" answers 451 (try again later); "hold" keeps the client waiting
(logged as "HOLD <address> <client port>") until the file says otherwise; anything
else, or no file, accepts.
"""

import argparse
import asyncio
import itertools
import os
import signal
import time
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller


class KeepEverything:
    def __init__(self, folder, delay, rcpt_delay=0.0, control=None):
        self.folder = folder
        self.delay = delay
        self.rcpt_delay = rcpt_delay
        self.control = control
        self.counter = itertools.count(1)

    def mode(self):
        try:
            return self.control.read_text().strip() if self.control else ""
        except FileNotFoundError:
            return ""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        print(f"RCPT {address}", flush=True)
        if self.rcpt_delay:
            await asyncio.sleep(self.rcpt_delay)
        if self.mode() == "hold":
            print(f"HOLD {address} {session.peer[1]}", flush=True)
            while self.mode() == "hold":
                await asyncio.sleep(0.1)
        if self.mode() == "tempfail":
            print(f"TEMPFAIL {address}", flush=True)
            return "451 4.3.0 Try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.delay:
            await asyncio.sleep(self.delay)
        name = f"{time.time_ns()}-{os.getpid()}-{next(self.counter)}"
        header = (
            f"X-Sink-Mail-From: {envelope.mail_from}\r\n"
            f"X-Sink-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\n"
        ).encode()
        partial = self.folder / f".{name}.tmp"
        partial.write_bytes(header + envelope.original_content)
        partial.rename(self.folder / f"{name}.eml")
        headers = BytesHeaderParser().parsebytes(envelope.original_content)
        print(f"DATA {headers.get('Message-ID', '-')}", flush=True)
        return "250 Message accepted for delivery"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--dir", required=True, type=Path)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--rcpt-delay", type=float, default=0.0)
    parser.add_argument("--control", type=Path, default=None)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(KeepEverything(args.dir, args.delay, args.rcpt_delay, args.control),
                            hostname=args.host, port=args.port)
    controller.start()
    print(f"SMTP sink on {args.host}:{args.port}, messages in {args.dir}", flush=True)
    signal.sigwait({signal.SIGINT, signal.SIGTERM})
    controller.stop()


if __name__ == "__main__":
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    main()
