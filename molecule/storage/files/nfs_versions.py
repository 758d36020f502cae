#!/usr/bin/env python3
# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Ask an NFS server which protocol versions it really answers (a lab probe).

No NFS client in the lab speaks every version (libnfs is NFSv3 only), so this
speaks ONC RPC (RFC 5531) itself, over TCP with record marking:

- a NULL call to program 100003 (NFS), versions 3 and 4: the server either
  runs it (``accepted``) or answers ``prog_mismatch`` with the versions it has;
- for version 4, an empty COMPOUND (RFC 7530 section 16.2, RFC 8881) with each
  minor version 0, 1, 2: ``NFS4_OK`` or ``NFS4ERR_MINOR_VERS_MISMATCH``;
- whether anything listens on rpcbind's port 111.

Usage: nfs_versions.py HOST [PORT]. Prints one JSON object; exits 0 unless
the server could not be reached on PORT at all.
"""

from __future__ import absolute_import, division, print_function

import json
import os
import socket
import struct
import sys

NFS_PROGRAM = 100003
ACCEPT_STATS = {0: 'accepted', 1: 'prog_unavail', 2: 'prog_mismatch', 3: 'proc_unavail', 4: 'garbage_args',
                5: 'system_err'}
NFS4_STATUS = {0: 'NFS4_OK', 10021: 'NFS4ERR_MINOR_VERS_MISMATCH'}
TIMEOUT = 5.0


def _pack_opaque(data):
    pad = (4 - len(data) % 4) % 4
    return struct.pack('>I', len(data)) + data + b'\0' * pad


def _auth_sys():
    body = struct.pack('>I', 0) + _pack_opaque(b'nfs-versions-probe') + struct.pack('>III', 0, 0, 0)
    return struct.pack('>I', 1) + _pack_opaque(body)


def _recv_exact(sock, count):
    data = b''
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            raise EOFError('connection closed after %d of %d bytes' % (len(data), count))
        data += chunk
    return data


def _recv_record(sock):
    record = b''
    while True:
        (marker,) = struct.unpack('>I', _recv_exact(sock, 4))
        record += _recv_exact(sock, marker & 0x7FFFFFFF)
        if marker & 0x80000000:
            return record


def rpc_call(host, port, version, procedure, args=b''):
    """One call; returns a dict: stat (accepted, prog_mismatch, denied, ...), and the mismatch range or the results."""
    xid = struct.unpack('>I', os.urandom(4))[0]
    call = struct.pack('>IIIIII', xid, 0, 2, NFS_PROGRAM, version, procedure) + _auth_sys() + struct.pack('>II', 0, 0)
    call += args
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        sock.sendall(struct.pack('>I', 0x80000000 | len(call)) + call)
        reply = _recv_record(sock)
    rxid, mtype, reply_stat = struct.unpack('>III', reply[:12])
    if rxid != xid or mtype != 1:
        return {'stat': 'garbled'}
    if reply_stat == 1:
        return {'stat': 'denied'}
    (verf_len,) = struct.unpack('>I', reply[16:20])
    offset = 20 + verf_len + (4 - verf_len % 4) % 4
    (accept,) = struct.unpack('>I', reply[offset:offset + 4])
    result = {'stat': ACCEPT_STATS.get(accept, 'accept_stat_%d' % accept)}
    if accept == 2:
        result['low'], result['high'] = struct.unpack('>II', reply[offset + 4:offset + 12])
    result['body'] = reply[offset + 4:]
    return result


def probe_version(host, port, version):
    try:
        answer = rpc_call(host, port, version, 0)
    except (OSError, EOFError) as exc:
        return {'stat': 'error', 'error': str(exc)}
    answer.pop('body', None)
    return answer


def probe_minor(host, port, minor):
    """An empty COMPOUND with this minor version: NFS4_OK or NFS4ERR_MINOR_VERS_MISMATCH."""
    try:
        answer = rpc_call(host, port, 4, 1, _pack_opaque(b'') + struct.pack('>II', minor, 0))
    except (OSError, EOFError) as exc:
        return 'error: %s' % exc
    if answer['stat'] != 'accepted':
        return answer['stat']
    (status,) = struct.unpack('>I', answer['body'][:4])
    return NFS4_STATUS.get(status, 'nfs4_status_%d' % status)


def port_open(host, port):
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT):
            return True
    except OSError:
        return False


def main(argv):
    if len(argv) not in (2, 3):
        sys.stderr.write('usage: nfs_versions.py HOST [PORT]\n')
        return 2
    host, port = argv[1], int(argv[2]) if len(argv) == 3 else 2049
    if not port_open(host, port):
        sys.stderr.write('nothing answers on %s:%d\n' % (host, port))
        return 1
    report = {
        'host': host,
        'port': port,
        'nfs3': probe_version(host, port, 3),
        'nfs4': probe_version(host, port, 4),
        'nfs4_minor': dict((str(minor), probe_minor(host, port, minor)) for minor in (0, 1, 2)),
        'rpcbind_open': port_open(host, 111),
    }
    print(json.dumps(report, sort_keys=True))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
