# -*- coding: utf-8 -*-
# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The shared mail store, derived from the cluster model of ``_cluster.py``.

Private to the collection (``_``-prefixed): playbooks reach it through the
``clustered.mail.storage_*`` filters; the roles ``storage_server`` and
``storage_mount`` render what these functions decide.

API
---
``storage_errors(model, mount_type=None, source='')`` -> list[str]
    Problems that only the storage roles care about (the cluster model is
    assumed valid), each naming the variable.
``storage_export(model, extra_clients=())`` -> dict
    ``clients``  every address of every ``mail_primaries`` host (all IPv4,
                 then all IPv6, each in inventory order) plus ``extra_clients``: the export ACL.
    ``server``   the ``mail_storage`` host or None; ``server_address`` its
                 first address (IPv4 preferred) or None.
    ``uid``, ``gid``, ``store_path``: the mail user's ids and the store.
``mount_source(model, mount_type, share='mail', source='')`` -> str
    What a primary mounts: ``source`` when given, else derived from the data
    server (nfs ``addr:/store``, cifs ``//addr/share``); '' for bind.
``mount_unit_name(path)`` -> str
    The systemd mount unit for ``path`` (``systemd-escape --path --suffix=mount``).
``nt_hash(password)`` -> str
    Samba's NT hash (MD4 of UTF-16LE, upper-case hex), to compare with
    ``pdbedit -L -w`` so the SMB password is set only when it differs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import struct

MOUNT_TYPES = ('nfs', 'cifs', 'bind')

_UNIT_SAFE = frozenset('abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:_.')


def _server(model):
    storage = (model.get('groups') or {}).get('mail_storage') or []
    return storage[0] if storage else None


def _first_address(model, host):
    if host is None:
        return None
    info = model['hosts'][host]
    addresses = list(info.get('ipv4') or []) + list(info.get('ipv6') or [])
    return addresses[0] if addresses else None


def export_clients(model, extra_clients=()):
    """Addresses allowed to use the export: every primary's (IPv4 first), then the extras, no duplicates."""
    clients = []
    for family in ('ipv4', 'ipv6'):
        for host in model['groups'].get('mail_primaries') or []:
            for address in model['hosts'][host][family]:
                if address not in clients:
                    clients.append(address)
    for extra in extra_clients or ():
        extra = str(extra).strip()
        if extra and extra not in clients:
            clients.append(extra)
    return clients


def storage_export(model, extra_clients=()):
    server = _server(model)
    return {
        'clients': export_clients(model, extra_clients),
        'server': server,
        'server_address': _first_address(model, server),
        'uid': model['vmail_uid'],
        'gid': model['vmail_gid'],
        'store_path': model['store_path'],
    }


def _bracket(address):
    return '[%s]' % address if ':' in address else address


def mount_source(model, mount_type, share='mail', source=''):
    if source:
        return source
    if mount_type == 'bind':
        return ''
    address = _first_address(model, _server(model))
    if address is None:
        return ''
    if mount_type == 'nfs':
        return '%s:%s' % (_bracket(address), model['store_path'])
    if mount_type == 'cifs':
        return '//%s/%s' % (_bracket(address), share)
    return ''


def storage_errors(model, mount_type=None, source='', extra_clients=()):
    """Storage-specific problems; every message names the variable to fix."""
    errors = []
    if mount_type is not None and mount_type not in MOUNT_TYPES:
        errors.append('storage_mount_type=%r: must be one of %s' % (mount_type, ', '.join(MOUNT_TYPES)))
    if mount_type == 'bind' and not source:
        errors.append('storage_mount_source is empty: storage_mount_type=bind needs the directory to bind'
                      ' (in the lab, the shared volume /lab/store)')
    if mount_type == 'bind' and source and not str(source).startswith('/'):
        errors.append('storage_mount_source=%r: with storage_mount_type=bind it must be an absolute path' % (source,))
    if mount_type in ('nfs', 'cifs') and not source and _server(model) is None:
        errors.append('storage_mount_source is empty and group mail_storage has no host: add the data server to'
                      ' mail_storage or set storage_mount_source (storage_mount_type=%s)' % mount_type)
    for extra in extra_clients or ():
        try:
            ipaddress.ip_network(str(extra).strip(), strict=False)
        except ValueError:
            errors.append('storage_server_extra_clients: %r is not an IP address or network' % (extra,))
    store = model.get('store_path')
    if isinstance(store, str) and source and mount_type == 'bind' and source.rstrip('/') == store:
        errors.append('storage_mount_source=%r is mail_cluster_store_path itself: bind the shared store, not the'
                      ' mountpoint' % (source,))
    return errors


def mount_unit_name(path):
    """``systemd-escape --path --suffix=mount PATH``."""
    parts = [p for p in str(path).split('/') if p not in ('', '.')]
    if not parts:
        return '-.mount'
    out = []
    for index, char in enumerate('/'.join(parts)):
        if char == '/':
            out.append('-')
        elif char in _UNIT_SAFE and not (index == 0 and char == '.'):
            out.append(char)
        else:
            out.extend('\\x%02x' % byte for byte in char.encode('utf-8'))
    return ''.join(out) + '.mount'


def _md4(data):
    """MD4 (RFC 1320); OpenSSL 3 no longer offers it through hashlib by default."""
    def rotl(value, count):
        value &= 0xFFFFFFFF
        return ((value << count) | (value >> (32 - count))) & 0xFFFFFFFF

    length = len(data) * 8
    data = bytearray(data) + b'\x80'
    while len(data) % 64 != 56:
        data += b'\x00'
    data += struct.pack('<Q', length & 0xFFFFFFFFFFFFFFFF)
    a, b, c, d = 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476
    for offset in range(0, len(data), 64):
        x = struct.unpack('<16I', bytes(data[offset:offset + 64]))
        aa, bb, cc, dd = a, b, c, d
        for i, k in enumerate((0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)):
            f = (b & c) | (~b & d)
            a, b, c, d = d, rotl(a + f + x[k], (3, 7, 11, 19)[i % 4]), b, c
        for i, k in enumerate((0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15)):
            g = (b & c) | (b & d) | (c & d)
            a, b, c, d = d, rotl(a + g + x[k] + 0x5A827999, (3, 5, 9, 13)[i % 4]), b, c
        for i, k in enumerate((0, 8, 4, 12, 2, 10, 6, 14, 1, 9, 5, 13, 3, 11, 7, 15)):
            h = b ^ c ^ d
            a, b, c, d = d, rotl(a + h + x[k] + 0x6ED9EBA1, (3, 9, 11, 15)[i % 4]), b, c
        a, b, c, d = (a + aa) & 0xFFFFFFFF, (b + bb) & 0xFFFFFFFF, (c + cc) & 0xFFFFFFFF, (d + dd) & 0xFFFFFFFF
    return struct.pack('<4I', a, b, c, d)


def nt_hash(password):
    """Samba's NT hash of ``password``, as ``pdbedit -L -w`` prints it."""
    if not isinstance(password, str):
        password = str(password)
    return _md4(password.encode('utf-16-le')).hex().upper()
