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
``nfs_version_errors(versions)`` -> list[str]
    Problems with ``storage_server_nfs_versions`` (each item one of
    ``NFS_VERSIONS``; a bare ``4`` is refused as ambiguous).
``nfs_server_protocols(versions)`` -> dict
    What the server renders: ``versions`` (normalised, sorted), ``protocols``
    (ganesha's major versions, e.g. ``[4]``), ``minor_versions`` (of NFSv4,
    e.g. ``[1, 2]``) and ``rpcbind`` (true only with NFSv3: rpcbind, MOUNT,
    NLM and statd serve nothing else).
``mount_options(mount_type, options=(), nfs_version='4.2')`` -> list[str]
    The options of the store's mount unit (before the cifs credentials and
    ids): ``options`` or the type's defaults, with ``vers=<nfs_version>``
    pinned for nfs and ``seal`` (SMB 3 encryption) always on for cifs.
``mount_option_errors(mount_type, options=(), nfs_version='4.2', server_versions=None)`` -> list[str]
    Problems with ``storage_mount_options`` and ``storage_mount_nfs_version``,
    and a version the data server does not serve (when its list is known).
``nt_hash(password)`` -> str
    Samba's NT hash (MD4 of UTF-16LE, upper-case hex), to compare with
    ``pdbedit -L -w`` so the SMB password is set only when it differs.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ipaddress
import struct

MOUNT_TYPES = ('nfs', 'cifs', 'bind')

# NFS protocol versions a data server may serve and a primary may mount.
# NFSv3 needs rpcbind, MOUNT, NLM and statd on extra ports and trusts the
# client's uid claims per request; NFSv4.0 lacks sessions (exactly-once
# semantics, RFC 8881): 4.1 and 4.2 are the hardened choice.
NFS_VERSIONS = ('3', '4.0', '4.1', '4.2')

# Mount options of each type when storage_mount_options is empty. nfs:
# Dovecot's NFS guide (actimeo=60 at least, nordirplus, noatime; hard so an
# outage blocks instead of returning I/O errors to the mail processes).
MOUNT_DEFAULT_OPTIONS = {
    'nfs': ('hard', 'noatime', 'nordirplus', 'actimeo=60'),
    'cifs': ('vers=3.1.1', 'file_mode=0660', 'dir_mode=0770'),
    'bind': (),
}

# Options that would undo what mount_options pins.
_NFS_VERSION_OPTIONS = ('vers', 'nfsvers', 'minorversion')
_CIFS_SEAL_VERSIONS = ('3', '3.0', '3.02', '3.1.1', 'default')

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


def _nfs_version(value):
    """'4.1' for 4.1 (a YAML float), '3' for 3; None when it is no version of NFS_VERSIONS."""
    text = str(value).strip()
    return text if text in NFS_VERSIONS else None


def nfs_version_errors(versions, variable='storage_server_nfs_versions'):
    """Problems with a list of NFS versions; every message names ``variable``."""
    if not isinstance(versions, (list, tuple)) or not versions:
        return ['%s=%r: list the NFS versions to serve, e.g. ["4.1", "4.2"] (add "3" only for NFSv3 clients,'
                ' which also starts rpcbind)' % (variable, versions)]
    errors = []
    for version in versions:
        if str(version).strip() == '4':
            errors.append('%s: 4 is ambiguous; list the NFSv4 minor versions to serve, e.g. "4.1", "4.2"'
                          % variable)
        elif _nfs_version(version) is None:
            errors.append('%s: %r is not an NFS version; choose from %s' % (variable, version, ', '.join(NFS_VERSIONS)))
    return errors


def nfs_server_protocols(versions):
    """What the data server renders for ``versions`` (assumed valid: see nfs_version_errors)."""
    normalised = sorted(set(v for v in (_nfs_version(x) for x in versions or ()) if v), key=NFS_VERSIONS.index)
    minors = [int(v.split('.')[1]) for v in normalised if v.startswith('4.')]
    protocols = ([3] if '3' in normalised else []) + ([4] if minors else [])
    return {
        'versions': normalised,
        'protocols': protocols,
        'minor_versions': minors,
        'rpcbind': '3' in normalised,
    }


def _option_name(option):
    return str(option).split('=', 1)[0].strip().lower()


def mount_options(mount_type, options=(), nfs_version='4.2'):
    """The store's mount options: given or default, with the version pinned (nfs) or sealed (cifs)."""
    result = list(options or MOUNT_DEFAULT_OPTIONS.get(mount_type, ()))
    if mount_type == 'nfs':
        result = [o for o in result if _option_name(o) not in _NFS_VERSION_OPTIONS]
        result.append('vers=%s' % (_nfs_version(nfs_version) or nfs_version))
    elif mount_type == 'cifs':
        result = [o for o in result if _option_name(o) not in ('seal', 'noseal')]
        result.append('seal')
    unique = []
    for option in result:
        if option not in unique:
            unique.append(option)
    return unique


def mount_option_errors(mount_type, options=(), nfs_version='4.2', server_versions=None):
    """Problems with storage_mount_options / storage_mount_nfs_version; each message names the variable."""
    errors = []
    names = [_option_name(o) for o in options or ()]
    if mount_type == 'nfs':
        if _nfs_version(nfs_version) is None:
            errors.append('storage_mount_nfs_version=%r: choose one of %s (4 alone is ambiguous)'
                          % (nfs_version, ', '.join(NFS_VERSIONS)))
        pinned = [o for o, n in zip(options or (), names) if n in _NFS_VERSION_OPTIONS]
        if pinned:
            errors.append('storage_mount_options: %s would override the pinned NFS version; set'
                          ' storage_mount_nfs_version instead' % ', '.join(pinned))
        if server_versions and _nfs_version(nfs_version):
            served = nfs_server_protocols(server_versions)['versions']
            if served and _nfs_version(nfs_version) not in served:
                errors.append('storage_mount_nfs_version=%s: the data server serves only %s'
                              ' (storage_server_nfs_versions); mount one of those'
                              % (nfs_version, ', '.join(served)))
    if mount_type == 'cifs':
        if 'noseal' in names:
            errors.append('storage_mount_options: noseal is refused; the store is always mounted with seal'
                          ' (SMB 3 encryption, which the data server requires)')
        for option, name in zip(options or (), names):
            if name == 'vers' and str(option).split('=', 1)[1].strip() not in _CIFS_SEAL_VERSIONS:
                errors.append('storage_mount_options: %s cannot encrypt (seal needs SMB 3); use vers=3.1.1'
                              % option)
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
