# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scripted line-based servers on loopback, for testing mail clients without a mail server."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import socket
import socketserver
import threading


class LineServer(object):
    """A line-based fake server: greeting, then reply(line) -> list of lines (None closes).

    With ``tls`` (a server-side ssl.SSLContext), a reply list ending in
    ``LineServer.START_TLS`` is sent, then the connection is upgraded to TLS
    (STARTTLS/STLS); ``implicit=True`` speaks TLS from the first byte.
    """

    START_TLS = object()

    def __init__(self, greeting, reply, tls=None, implicit=False):
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            def upgrade(self):
                self.request = tls.wrap_socket(self.request, server_side=True)
                self.rfile = self.request.makefile("rb")
                self.wfile = self.request.makefile("wb", buffering=0)

            def handle(self):
                if implicit:
                    self.upgrade()
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
                        if out is LineServer.START_TLS:
                            self.upgrade()
                        else:
                            self.wfile.write(out.encode() + b"\r\n")

        self.seen = []
        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def self_signed(tmp_path, names=("127.0.0.1",)):
    """A self-signed certificate for IP/DNS names; returns (server ssl context, CA file path)."""
    import datetime
    import ipaddress
    import ssl

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"fake mail server")])
    sans = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    cert_file = tmp_path / "cert.pem"
    key_file = tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(str(cert_file), str(key_file))
    return ctx, str(cert_file)


def closed_port():
    """A local TCP port nothing listens on (bound once, then released)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port
