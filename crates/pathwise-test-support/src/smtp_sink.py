"""A local SMTP sink for Pathwise's tests: aiosmtpd (Debian's python3-aiosmtpd) on the given
loopback address, writing each message it accepts to DIR/<n>.json (envelope, decoded headers
and plain-text body). Prints "ready" once it accepts connections; stops when stdin closes.

Usage: sink.py HOST PORT DIR
"""

import email
import json
import os
import sys
from email import policy

from aiosmtpd.controller import Controller


class JsonDirectory:
    def __init__(self, directory):
        self.directory = directory
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=policy.default)
        body = message.get_body(preferencelist=("plain",))
        record = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "subject": str(message["subject"] or ""),
            "from": str(message["from"] or ""),
            "to": str(message["to"] or ""),
            # Line ends as a reader sees them, not as SMTP carries them.
            "text": body.get_content().replace("\r\n", "\n") if body is not None else "",
            "raw": raw.decode("utf-8", "replace"),
        }
        self.count += 1
        path = os.path.join(self.directory, "%06d.json" % self.count)
        # Written whole, then renamed: a reader never sees half a message.
        with open(path + ".tmp", "w", encoding="utf-8") as out:
            json.dump(record, out)
        os.rename(path + ".tmp", path)
        return "250 Message accepted"


def main():
    host, port, directory = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    controller = Controller(JsonDirectory(directory), hostname=host, port=port)
    controller.start()
    print("ready", flush=True)
    sys.stdin.read()
    controller.stop()


if __name__ == "__main__":
    main()
