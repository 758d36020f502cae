# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Where the time of an SMTP burst goes: one primary against one stock server (issue 17).

The same client as `make bench` (bench/run.py's `send` and `message`: SENDERS
parallel plain-SMTP clients, PER_SESSION messages per session, to
alice@example.test) sends a burst to ONE address: a primary of a converged
cluster, or a stock Debian Postfix + Dovecot container (bench/stock/setup.sh).
Each burst records

- accepted/s (to the last 250 reply) and delivered/s (to the last message in
  the Maildir, read on the host, so polling costs no container CPU);
- CPU seconds of every container of the lab (its cgroup), in the accept
  window and to the end of delivery, and of the host (/proc/stat) and of the
  client itself (getrusage);
- CPU seconds per process inside the target containers (/proc/<pid>/stat,
  processes that exited counted through their parent's cutime);

under *switches*: settings applied to the one primary for one burst and
restored after it (a copy of main.cf / dovecot.conf is put back), so each
candidate cause is measured against the baseline in the same run.
`session_timeline` times the phases of single sessions (banner, EHLO, MAIL,
RCPT, DATA) with one client, where CPU contention does not hide latency.

`for_bench()` is what bench/run.py calls on its lab; `python3 bench/accept.py`
profiles the demo lab (`lab/demo.sh up`), starting its own stock container
(accept-stock, 172.30.50.60) on the demo network and removing it at the end.
Findings and figures: docs/accept-path.md.
"""

from __future__ import annotations

import json
import os
import random
import resource
import signal
import smtplib
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
# The bench's client and helpers. run.py imports this module too: nothing of
# `bench` is read at import time.
import run as bench  # noqa: E402  pylint: disable=wrong-import-position

USER_DIR = ('example.test', 'alice')   # alice's mail home below the store: <store>/<domain>/<user>
# The anvil limits a primary enforces on a client outside mynetworks (100
# messages a minute by default) would refuse a burst from one client: lifted
# for every burst here (their own cost is one anvil round trip per message,
# visible as postfix/anvil in the process table).
UNLIMITED = ('smtpd_client_message_rate_limit=0', 'smtpd_client_connection_rate_limit=0',
             'smtpd_client_connection_count_limit=0')
# Delivery held: every message goes to the hold queue as it is accepted
# (cleanup writes it there instead of incoming; qmgr never sees it), then
# `postsuper -H ALL` releases it after the measurement.
HOLD = ('smtpd_data_restrictions=check_client_access static:HOLD',)
# At most 2 LMTP deliveries at a time per recipient (a recipient limit of 1 makes
# the destination concurrency limit count per recipient), as Postfix's local(8)
# does by default: mail_primary_lmtp_recipient_concurrency.
PER_RECIPIENT = ('lmtp_destination_recipient_limit=1', 'lmtp_destination_concurrency_limit=2')
# Postfix's own default, for a primary deployed with the above: up to 20 per destination (the Dovecot socket).
PER_DESTINATION = ('lmtp_destination_recipient_limit=$default_destination_recipient_limit',
                   'lmtp_destination_concurrency_limit=$default_destination_concurrency_limit')
# Dovecot's users, with the proxy fields of the users homed elsewhere (the homes agent keeps it).
USERS = '/etc/dovecot/cluster-users'

# One snapshot of the processes of a container, run inside it (python3 is in every lab image).
PROCS = r'''
import json, os
me, out = os.getpid(), []
for pid in os.listdir('/proc'):
    if not pid.isdigit() or int(pid) == me:
        continue
    try:
        with open('/proc/%s/stat' % pid) as f:
            stat = f.read()
        with open('/proc/%s/cmdline' % pid, 'rb') as f:
            argv = [a.decode(errors='replace') for a in f.read().split(b'\0')] + ['', '']
    except OSError:
        continue
    comm = stat[stat.index('(') + 1:stat.rindex(')')]
    f = stat[stat.rindex(')') + 2:].split()
    out.append([int(pid), int(f[1]), comm, argv[0].split(' ')[0], argv[1], int(f[11]) + int(f[12]),
                int(f[13]) + int(f[14]), int(f[19])])
print(json.dumps({'hz': os.sysconf('SC_CLK_TCK'), 'procs': out}))
'''


def log(msg):
    print('[accept %s] %s' % (time.strftime('%H:%M:%S'), msg), flush=True)


def dx(container, *cmd, check=True, stdin=None):
    """A command in a container (full name)."""
    return bench.sh('docker', 'exec', *(['-i'] if stdin is not None else []), container, *cmd, check=check, stdin=stdin)


# ---------------------------------------------------------------- counters

def container_id(name):
    return bench.sh('docker', 'inspect', '-f', '{{.Id}}', name).strip()


def cgroup_ns(cid):
    """CPU nanoseconds a container has used (cgroup v1 cpuacct, or v2 cpu.stat)."""
    for path in ('/sys/fs/cgroup/cpuacct/docker/%s/cpuacct.usage' % cid,
                 '/sys/fs/cgroup/cpu,cpuacct/docker/%s/cpuacct.usage' % cid):
        if os.path.exists(path):
            with open(path) as f:
                return int(f.read())
    for path in ('/sys/fs/cgroup/system.slice/docker-%s.scope/cpu.stat' % cid, '/sys/fs/cgroup/docker/%s/cpu.stat' % cid):
        if os.path.exists(path):
            with open(path) as f:
                return int(dict(line.split() for line in f)['usage_usec']) * 1000
    raise RuntimeError('no cgroup CPU counter for container %s' % cid[:12])


def host_busy():
    """(busy, total) jiffies of the whole machine."""
    with open('/proc/stat') as f:
        values = [int(v) for v in f.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


def client_cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def counters(ids):
    return {'t': time.monotonic(), 'containers': {n: cgroup_ns(i) for n, i in ids.items()},
            'host': host_busy(), 'client': client_cpu()}


def window(a, b):
    """What happened between two counters(): seconds, CPU seconds per container, host busy share, client CPU."""
    busy, total = b['host'][0] - a['host'][0], b['host'][1] - a['host'][1]
    return {'seconds': round(b['t'] - a['t'], 3),
            'cpu_s': {n: round((b['containers'][n] - a['containers'][n]) / 1e9, 3) for n in a['containers']},
            'host_busy': round(busy / total, 2) if total else None,
            'client_cpu_s': round(b['client'] - a['client'], 3)}


def label(comm, argv0, arg1, parent):
    """A process's name in the tables: postfix/smtpd, dovecot/lmtp, named, python:clustered-mail-homes, ...

    Read from comm and the command line (root in a container without CAP_SYS_PTRACE
    cannot read /proc/<pid>/exe of other users' processes): Postfix's daemons are
    the children of its master; Dovecot's set their title to dovecot/<service>."""
    if argv0.startswith('dovecot/'):
        return argv0
    if comm == 'dovecot':
        return 'dovecot/master'
    if parent == 'master' or argv0.endswith('postfix/sbin/master'):
        return 'postfix/' + comm
    if comm.startswith('python'):
        return 'python:' + os.path.basename(arg1)
    return comm


def procs(container):
    return json.loads(dx(container, 'python3', '-c', PROCS))


def proc_delta(before, after):
    """CPU seconds per process label between two snapshots; children that exited
    during the window are counted in their parent's cutime ('... exited children')."""
    hz = after['hz']
    old = {(p[0], p[7]): p for p in before['procs']}
    comms = {p[0]: p[2] for p in after['procs']}
    cpu = {}
    for pid, ppid, comm, argv0, arg1, ticks, child_ticks, start in after['procs']:
        name = label(comm, argv0, arg1, comms.get(ppid))
        prev = old.get((pid, start))
        used = ticks - (prev[5] if prev else 0)
        reaped = child_ticks - (prev[6] if prev else 0)
        if used:
            cpu[name] = cpu.get(name, 0) + used
        if reaped:
            cpu[name + ' (exited children)'] = cpu.get(name + ' (exited children)', 0) + reaped
    return {n: round(t / hz, 2) for n, t in sorted(cpu.items(), key=lambda kv: -kv[1])}


# ---------------------------------------------------------------- the mailbox, read on the host

def store_dir(volume):
    """alice's Maildir/new on the host, in the lab's store volume."""
    mount = bench.sh('docker', 'volume', 'inspect', '-f', '{{.Mountpoint}}', volume).strip()
    return os.path.join(mount, *USER_DIR, 'Maildir', 'new')


def stock_dir(container):
    """alice's Maildir/new on the host, in the stock container's root."""
    merged = bench.sh('docker', 'inspect', '-f', '{{.GraphDriver.Data.MergedDir}}', container).strip()
    return os.path.join(merged, 'home', 'alice', 'Maildir', 'new')


def listing(directory):
    try:
        return set(os.listdir(directory))
    except FileNotFoundError:
        return set()


def wait_mail(directory, seen, token, expected, timeout):
    """Wait until `expected` messages carrying token are in directory (files not in `seen`); return the count."""
    deadline, found, read = time.monotonic() + timeout, 0, set()
    while True:
        for name in listing(directory) - seen - read:
            read.add(name)
            try:
                with open(os.path.join(directory, name), 'rb') as f:
                    found += token.encode() in f.read(1024)
            except FileNotFoundError:  # moved to cur/ meanwhile: not by this bench
                pass
        if found >= expected or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


# ---------------------------------------------------------------- switches

def postconf(container, *settings):
    if settings:
        dx(container, 'postconf', '-e', *settings)
    dx(container, 'postfix', 'reload')


def save(container):
    dx(container, 'sh', '-c', 'cp -p /etc/postfix/main.cf /etc/postfix/main.cf.accept && '
                              'cp -p /etc/dovecot/dovecot.conf /etc/dovecot/dovecot.conf.accept && '
                              'cp -p %s %s.accept' % (USERS, USERS))


def base(container):
    """The primary as deployed plus UNLIMITED: the state every burst starts from."""
    dx(container, 'sh', '-c', 'cp -p /etc/postfix/main.cf.accept /etc/postfix/main.cf')
    postconf(container, *UNLIMITED)
    dx(container, 'sh', '-c', 'cmp -s /etc/dovecot/dovecot.conf.accept /etc/dovecot/dovecot.conf || '
                              '{ cp -p /etc/dovecot/dovecot.conf.accept /etc/dovecot/dovecot.conf && systemctl restart dovecot; }; '
                              'cmp -s %s.accept %s || cat %s.accept > %s' % ((USERS,) * 4))  # new mtime: Dovecot re-reads it


def restore(container):
    """Put back the files save() copied; reload Postfix, restart Dovecot when its file had changed."""
    dx(container, 'sh', '-c', 'mv /etc/postfix/main.cf.accept /etc/postfix/main.cf && postfix reload >/dev/null 2>&1; '
                              'if ! cmp -s /etc/dovecot/dovecot.conf.accept /etc/dovecot/dovecot.conf; then '
                              'mv /etc/dovecot/dovecot.conf.accept /etc/dovecot/dovecot.conf && systemctl restart dovecot; '
                              'else rm /etc/dovecot/dovecot.conf.accept; fi; '
                              'cmp -s %s.accept %s || cat %s.accept > %s; rm %s.accept' % ((USERS,) * 5))


def dovecot_setting(container, name, value):
    """Set one top-level Dovecot setting in dovecot.conf (appended: the last value wins) and restart Dovecot."""
    dx(container, 'sh', '-c', 'echo "%s = %s" >> /etc/dovecot/dovecot.conf && doveconf -n >/dev/null && systemctl restart dovecot'
       % (name, value))


# ---------------------------------------------------------------- one burst

def burst(label_, target, address, ids, directory, count, held=False, timeout=300, profile=(), empty=None):
    """Send `count` messages to address; the counters of the accept window and of the whole delivery.

    target: the container that receives (its Postfix is released after a held burst).
    profile: containers whose processes are read before and after.
    empty: called first, to start from an empty mailbox (a Maildir delivery
    costs more as the mailbox grows: every burst must start alike)."""
    token = 'ACC%s%d' % (time.strftime('%H%M%S'), int(time.monotonic() * 1000) % 100000)
    if empty:
        empty()
    seen = listing(directory)
    before = {c: procs(c) for c in profile}
    c0 = counters(ids)
    accepted, rejected, sessions = bench.send(address if callable(address) else lambda: address, count, bench.RCPT, token)
    c1 = counters(ids)
    after_accept = {c: procs(c) for c in profile} if held else None
    if held:  # released to the deferred queue: flush it, not wait for the next queue run
        dx(target, 'sh', '-c', 'postsuper -H ALL && postqueue -f', check=False)
    delivered = wait_mail(directory, seen, token, len(accepted), timeout)
    c2 = counters(ids)
    after = after_accept or {c: procs(c) for c in profile}
    acc, total = window(c0, c1), window(c0, c2)
    result = {
        'label': label_, 'address': None if callable(address) else address, 'messages': count, 'held': held,
        'accepted': len(accepted), 'rejected': len(rejected), 'rejections': rejected[:3], 'delivered': delivered,
        'sessions': sum(sessions.values()),
        'accepted_per_s': round(len(accepted) / acc['seconds'], 1),
        'accept_window': acc,
        'delivered_per_s': None if held else round(delivered / total['seconds'], 1),
        'delivery_window': None if held else total,
        'processes': {c: proc_delta(before[c], after[c]) for c in profile},
    }
    log('%-40s accepted/s %6.1f  delivered/s %6s  (%d/%d delivered, %d refused)  accept-window CPU %s host busy %s'
        % (label_, result['accepted_per_s'], result['delivered_per_s'], delivered, count, len(rejected),
           {n: v for n, v in acc['cpu_s'].items() if v >= 0.05}, acc['host_busy']))
    return result


def expunge(container, user):
    """Empty user's INBOX through Dovecot (files and index alike)."""
    dx(container, 'doveadm', 'expunge', '-u', user, 'mailbox', 'INBOX', 'all')


def idle(ids, seconds=10):
    """CPU of every container while nobody sends: the lab's own background work."""
    c0 = counters(ids)
    time.sleep(seconds)
    return window(c0, counters(ids))


def session_timeline(address, sessions=5, per_session=None):
    """Milliseconds of each SMTP phase, one client, medians over `sessions` sessions."""
    per_session = per_session or bench.PER_SESSION
    phases = {'connect+banner': [], 'ehlo': [], 'mail': [], 'rcpt': [], 'data+250': [], 'quit': []}
    token = 'ACCTL%s' % time.strftime('%H%M%S')
    tls = None
    for s in range(sessions):
        t = time.monotonic()
        smtp = smtplib.SMTP(timeout=120)
        smtp.connect(address, 25)
        phases['connect+banner'].append(time.monotonic() - t)
        t = time.monotonic()
        smtp.ehlo('bench.invalid')
        phases['ehlo'].append(time.monotonic() - t)
        tls = smtp.has_extn('starttls')
        for i in range(per_session):
            seq = s * per_session + i
            t = time.monotonic()
            smtp.mail('bench@example.org')
            phases['mail'].append(time.monotonic() - t)
            t = time.monotonic()
            smtp.rcpt(bench.RCPT)
            phases['rcpt'].append(time.monotonic() - t)
            t = time.monotonic()
            code, dummy = smtp.data(bench.message(bench.RCPT, token, seq))
            phases['data+250'].append(time.monotonic() - t)
            if code != 250:
                raise RuntimeError('%s refused message %d: %d' % (address, seq, code))
        t = time.monotonic()
        smtp.quit()
        phases['quit'].append(time.monotonic() - t)
    result = {k: round(statistics.median(v) * 1000, 2) for k, v in phases.items()}
    result['per_message_ms'] = round(result['mail'] + result['rcpt'] + result['data+250'], 2)
    result['starttls_offered'] = tls
    result['client_used_tls'] = False  # smtplib's sendmail never calls starttls(): the bench is plain SMTP
    return result


# ---------------------------------------------------------------- a whole profile

def home_of(primaries, user=None):
    """The primary whose Dovecot keeps user's mailbox: its passwd-file line has no proxy fields."""
    for name in primaries:
        line = dx(name, 'grep', '^%s:' % (user or bench.RCPT), '/etc/dovecot/cluster-users', check=False)
        if line and 'proxy' not in line:
            return name
    return primaries[0]


def address_of(container):
    return bench.sh('docker', 'inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}', container).split()[0]


def round_robin(addresses):
    """Each session to one of the addresses at random, as bench/run.py's cluster_mx() picks among equal MX."""
    rng, lock = random.Random(1), threading.Lock()

    def pick():
        with lock:
            return rng.choice(addresses)
    return pick


def profile(lab, home, other, stock, volume, count=400, rounds=2, switches=True, everyone=()):
    """The whole comparison on a converged lab.

    lab: every container of the cluster (their CPU is counted); home: the primary
    that is alice's home; other: a primary that is not (None: none); stock: the
    stock container; volume: the store's docker volume; everyone: all primaries,
    for a burst spread over them as the bench's MX round robin does (empty: none)."""
    ids = {n: container_id(n) for n in lab + [stock]}
    store, stock_new = store_dir(volume), stock_dir(stock)
    r = {'machine': {'loadavg_start': [round(x, 2) for x in os.getloadavg()], 'nproc': os.cpu_count()},
         'count': count, 'senders': bench.SENDERS, 'per_session': bench.PER_SESSION,
         'message_bytes': bench.MESSAGE_SIZE, 'home': home, 'other': other, 'stock': stock, 'bursts': []}
    primaries = [home] + ([other] if other else [])
    everyone = [p for p in everyone if p not in primaries]  # the rest: their anvil limits are lifted too
    for p in primaries + everyone:
        save(p)
    try:
        for p in primaries + everyone:
            base(p)
        r['versions'] = {c: [line.split()[0] for line in dx(c, 'sh', '-c', 'postconf -h mail_version; dovecot --version').splitlines()]
                         for c in (home, stock)}
        r['idle'] = idle(ids)
        log('idle 10 s: CPU s %s, host busy %s' % (r['idle']['cpu_s'], r['idle']['host_busy']))
        H, S = address_of(home), address_of(stock)
        r['timeline'] = {'home': session_timeline(H), 'stock': session_timeline(S)}
        log('timeline (ms, median): home %s; stock %s' % (r['timeline']['home'], r['timeline']['stock']))

        # The switch of delivery concurrency is the other of the two: the fix, or what it replaced.
        fixed = dx(home, 'postconf', '-h', 'lmtp_destination_recipient_limit').strip() == '1'
        concurrency = ('20 deliveries per destination (Postfix default)', PER_DESTINATION) if fixed \
            else ('2 deliveries per recipient', PER_RECIPIENT)
        r['deployed_per_recipient_limit'] = fixed

        def one(name, target, address, held=False):
            r['bursts'].append(burst(name, target, address, ids, stock_new if target == stock else store, count,
                                     held=held, profile=(target,) if target == stock else tuple(primaries),
                                     empty=empty_stock if target == stock else empty_store))

        def empty_store():
            expunge(home, bench.RCPT)

        def empty_stock():
            expunge(stock, 'alice')

        def switched(name, apply, held=False):
            apply()
            try:
                one(name, home, H, held)
            finally:
                base(home)

        for dummy in range(rounds):
            one('stock', stock, S)
            one('primary (home)', home, H)
            postconf(stock, *HOLD)
            one('stock, delivery held', stock, S, held=True)
            postconf(stock, 'smtpd_data_restrictions=')
            switched('primary (home), delivery held', lambda: postconf(home, *HOLD), held=True)
            if other:
                one('primary (not home: LMTP proxy hop)', other, address_of(other))
            if everyone:
                spread = primaries + everyone
                r['bursts'].append(burst('cluster, round robin over %d primaries' % len(spread), home,
                                         round_robin([address_of(p) for p in spread]), ids, store, count,
                                         profile=tuple(spread), empty=empty_store))
            if not switches:
                continue
            for name, settings in (('smtpd_peername_lookup = no', ('smtpd_peername_lookup=no',)),
                                   ('smtpd_tls_security_level = none', ('smtpd_tls_security_level=none',)),
                                   ('in_flow_delay = 0', ('in_flow_delay=0',)),
                                   concurrency):
                switched('primary (home), ' + name, lambda s=settings: postconf(home, *s))
            switched('primary (home), mail_fsync = optimized', lambda: dovecot_setting(home, 'mail_fsync', 'optimized'))
            if other:
                O = address_of(other)
                postconf(other, *concurrency[1])
                one('not home, ' + concurrency[0], other, O)
                base(other)
                # The hop without STARTTLS: the proxy fields of the users homed elsewhere, minus starttls=...
                dx(other, 'sed', '-i', '-E', 's/ starttls=[a-z-]+//', USERS)
                one('not home, proxy hop without STARTTLS', other, O)
                base(other)
    finally:
        for p in primaries + everyone:
            restore(p)
        dx(stock, 'postconf', '-X', 'smtpd_data_restrictions', check=False)
        dx(stock, 'postfix', 'reload', check=False)
        dx(stock, 'sh', '-c', 'postsuper -H ALL; postqueue -f', check=False)
    r['machine']['loadavg_end'] = [round(x, 2) for x in os.getloadavg()]
    r['summary'] = summary(r)
    return r


def summary(r):
    """Medians per burst label, and the ratios against the stock server's figure of the same kind."""
    by = {}
    for b in r['bursts']:
        by.setdefault(b['label'], []).append(b)
    out = {}
    for name, runs in by.items():
        acc = statistics.median(b['accepted_per_s'] for b in runs)
        dlv = [b['delivered_per_s'] for b in runs if b['delivered_per_s']]
        cpu = {}
        for b in runs:
            for c, s in b['accept_window']['cpu_s'].items():
                cpu.setdefault(c, []).append(s)
        out[name] = {'accepted_per_s': round(acc, 1), 'delivered_per_s': round(statistics.median(dlv), 1) if dlv else None,
                     'runs': len(runs), 'accept_cpu_s': {c: round(statistics.median(v), 2) for c, v in cpu.items()},
                     'host_busy': statistics.median(b['accept_window']['host_busy'] for b in runs)}
    stock, held = out.get('stock', {}).get('accepted_per_s'), out.get('stock, delivery held', {}).get('accepted_per_s')
    for name, s in out.items():
        base = held if 'held' in name else stock
        s['ratio_to_stock'] = round(s['accepted_per_s'] / base, 2) if base else None
    return out


def markdown(r):
    lines = ['| burst (%d messages, %d clients, %d per session) | runs | accepted/s | ÷ stock | delivered/s | host busy |'
             % (r['count'], r['senders'], r['per_session']), '|---|---|---|---|---|---|']
    for name, s in r['summary'].items():
        lines.append('| %s | %d | %s | %s | %s | %s |' % (name, s['runs'], s['accepted_per_s'], s['ratio_to_stock'],
                                                          s['delivered_per_s'], s['host_busy']))
    return '\n'.join(lines)


def for_bench():
    """bench/run.py's row: on its base lab, after the stock throughput (bench-stock exists), a short profile."""
    names = ['bench-' + n for n, dummy, dummy in bench.nodes(bench.PRIMARIES)]
    primaries = [n for n in names if n.startswith('bench-mail')]
    home = home_of(primaries)
    r = profile(names, home, None, 'bench-stock', bench.VOLUME, count=bench.MESSAGES, rounds=1, switches=False)
    s = r['summary']
    return {'primary_per_s': s['primary (home)']['accepted_per_s'], 'stock_per_s': s['stock']['accepted_per_s'],
            'held_primary_per_s': s['primary (home), delivery held']['accepted_per_s'],
            'held_stock_per_s': s['stock, delivery held']['accepted_per_s'],
            'summary': s, 'timeline': r['timeline'], 'idle': r['idle'], 'home': home}


# ---------------------------------------------------------------- the demo lab

DEMO_NETWORK, DEMO_VOLUME = 'clustered-mail-demo', 'clustered-mail-demo-store'
DEMO_STOCK = ('accept-stock', '172.30.50.60')


def demo_stock():
    """A stock Postfix + Dovecot on the demo network, as bench/run.py's stock_server() makes it."""
    name, address = DEMO_STOCK
    if subprocess.run(['docker', 'exec', name, 'test', '-e', '/etc/dovecot/conf.d/99-bench.conf'],
                      capture_output=True, check=False).returncode == 0:
        return name  # kept from an earlier run (ACCEPT_KEEP=1)
    bench.sh('docker', 'rm', '-f', '-v', name, check=False)
    bench.sh('docker', 'run', '-d', '--name', name, '--hostname', 'stock', '--network', DEMO_NETWORK, '--ip', address,
             '--label', 'clustered-mail=accept', '--cgroupns', 'host', '--cap-add', 'SYS_ADMIN',
             '--tmpfs', '/run', '--tmpfs', '/run/lock', '--tmpfs', '/tmp',
             '-v', '/sys/fs/cgroup:/sys/fs/cgroup:ro', bench.IMAGE, '/lib/systemd/systemd')
    deadline = time.monotonic() + 120
    while dx(name, 'systemctl', 'is-system-running', '--wait', check=False).strip() not in ('running', 'degraded'):
        if time.monotonic() > deadline:
            raise RuntimeError('%s did not boot' % name)
        time.sleep(1)
    with open(os.path.join(HERE, 'stock', 'setup.sh')) as script:
        dx(name, 'sh', '-s', stdin=script.read())
    return name


def main():
    lab = bench.sh('docker', 'ps', '--filter', 'label=clustered-mail=demo', '--format', '{{.Names}}').split()
    primaries = sorted(n for n in lab if n.startswith('demo-mail'))
    if not primaries:
        sys.exit('no demo lab: run lab/demo.sh up first')
    lab = sorted(n for n in lab if n != 'demo-client')
    home = home_of(primaries)
    other = next((p for p in primaries if p != home), None)
    count = int(os.environ.get('ACCEPT_MESSAGES', 400))
    rounds = int(os.environ.get('ACCEPT_ROUNDS', 2))
    stock = demo_stock()
    signal.signal(signal.SIGTERM, lambda *dummy: sys.exit('terminated'))  # so that profile() restores the primaries
    try:
        log('lab %s; alice is homed on %s; %d messages per burst, %d rounds' % (lab, home, count, rounds))
        r = profile(lab, home, other, stock, DEMO_VOLUME, count=count, rounds=rounds, everyone=primaries)
    finally:
        if not os.environ.get('ACCEPT_KEEP'):
            bench.sh('docker', 'rm', '-f', '-v', stock, check=False)
    out = os.path.join(bench.ROOT, 'build', 'accept')
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, 'accept-%s.json' % time.strftime('%Y%m%d-%H%M%S'))
    with open(path, 'w') as f:
        json.dump(r, f, indent=1, sort_keys=True)
    print(markdown(r))
    log('wrote %s' % path)
    return 0


if __name__ == '__main__':
    sys.exit(main())
