# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scripted line-based servers on loopback, for testing mail clients without a mail server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socketserver
import threading


class LineServer(object):
    """A line-based fake server: greeting, then reply(line) -> list of lines (None closes)."""

    def __init__(self, greeting, reply):
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                if greeting is not None:
                    self.wfile.write(greeting.encode() + b"\r\n")
                while True:
                    line = self.rfile.readline()
                    if not line:
                        return
                    outer.seen.append(line.decode().rstrip("\r\n"))
                    answer = reply(line.decode().rstrip("\r\n"))
                    if answer is None:
                        return
                    for out in answer:
                        self.wfile.write(out.encode() + b"\r\n")

        self.seen = []
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()
