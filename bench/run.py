# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: measure the lab cluster and write bench/results/.

Builds its own container lab (network bench-net, 172.30.70.0/24, containers
bench-*, volume bench-store), removed at the start and at the end, and
measures, in this order:

1. converge time of clustered.mail.site, cold (fresh containers) and
   idempotent rerun, BENCH_RUNS times, with BENCH_PRIMARIES primaries;
2. on that converged lab: SMTP throughput through the cluster's MX round
   robin and through one stock Postfix+Dovecot container, then the backup MX
   drain time;
3. cold + rerun with BENCH_SCALE_PRIMARIES primaries (the scaling ratio);
4. on that lab: dns_rotation's query rate and first-position statistics,
   with rrset-order cyclic, then random;
5. cold + rerun with stock Ansible settings on the same lab as 3.

Benchmarks measure, they do not test; but mail that is accepted and never
reaches the store is a loss, and any loss makes this exit non-zero.
Settings come from BENCH_* environment variables (bench/README.md).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import random
import re
import smtplib
import statistics
import subprocess
import sys
import threading
import time

import accept  # bench/accept.py: where the time of a burst goes

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS = os.path.join(HERE, 'results')
WORK = os.path.join(ROOT, 'build', 'bench')


def _state_dir():
    """The DNS primary's state directory, as the collection defines it (one place: _cluster.STATE_DIR)."""
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        '_cluster', os.path.join(ROOT, 'plugins', 'module_utils', '_cluster.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.STATE_DIR


STATE_DIR = _state_dir()
LOGS = os.path.join(WORK, 'logs')
FACTS = os.path.join(WORK, 'facts')


def setting(name, default):
    return int(os.environ.get(name, default))


RUNS = setting('BENCH_RUNS', 3)
PRIMARIES = setting('BENCH_PRIMARIES', 2)
SCALE_PRIMARIES = setting('BENCH_SCALE_PRIMARIES', 4)
SCALE_RUNS = setting('BENCH_SCALE_RUNS', 1)
STOCK_RUNS = setting('BENCH_STOCK_RUNS', 1)
MESSAGES = setting('BENCH_MESSAGES', 500)
MESSAGE_SIZE = setting('BENCH_MESSAGE_SIZE', 4096)
SENDERS = setting('BENCH_SENDERS', 4)
PER_SESSION = setting('BENCH_PER_SESSION', 10)
DRAIN_MESSAGES = setting('BENCH_DRAIN_MESSAGES', 100)
DNS_QUERIES = setting('BENCH_DNS_QUERIES', 2000)
DELIVERY_TIMEOUT = setting('BENCH_DELIVERY_TIMEOUT', 300)
PLACEMENT_LOGINS = setting('BENCH_PLACEMENT_LOGINS', 200)
# As in bench/inventory/group_vars/all.yml (the health timer of the placement phase).
HEALTH_INTERVAL, HEALTH_FAILURES, TTL = 5, 2, 60
KEEP = setting('BENCH_KEEP', 0)

# The lab. Names, addresses and capabilities as in lab/demo/nodes.yml.
IMAGE = 'clustered-mail/mail:12'
NETWORK, SUBNET, VOLUME = 'bench-net', '172.30.70.0/24', 'bench-store'
DNS_SERVER = '172.30.70.11'
BACKUP_MX = '172.30.70.40'
STOCK = ('stock', '172.30.70.60')
DOMAIN, RCPT, DRAIN_RCPT = 'example.test', 'alice@example.test', 'bob@example.org'
STORE_DIR = '/lab/store'   # the store, as the data server sees it


def nodes(primaries):
    """(name, address, extra capabilities) of the lab with this many primaries."""
    lab = [('ns1', '172.30.70.11', []), ('store', '172.30.70.20', ['DAC_READ_SEARCH'])]
    lab += [('mail%d' % i, '172.30.70.%d' % (30 + i), ['LINUX_IMMUTABLE', 'NET_ADMIN']) for i in range(1, primaries + 1)]
    lab += [('backup', '172.30.70.40', [])]
    return lab


def inventory(primaries):
    path = os.path.join(HERE, 'inventory', 'primaries-%d.yml' % primaries)
    if not os.path.exists(path):
        sys.exit('no bench inventory for %d primaries: %s' % (primaries, path))
    return path


def log(msg):
    print('[bench %s] %s' % (time.strftime('%H:%M:%S'), msg), flush=True)


def sh(*cmd, check=True, stdin=None):
    """Run a command, return its stdout; fail with its output when it fails."""
    redirect = {'input': stdin} if stdin is not None else {'stdin': subprocess.DEVNULL}
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, **redirect)
    if check and proc.returncode != 0:
        raise RuntimeError('%s failed (rc=%d):\n%s%s' % (' '.join(cmd), proc.returncode, proc.stdout[-2000:], proc.stderr[-2000:]))
    return proc.stdout


def dexec(container, *cmd, check=True, stdin=None):
    """A command in the lab container bench-<container>."""
    interactive = ['-i'] if stdin is not None else []
    return sh('docker', 'exec', *interactive, 'bench-' + container, *cmd, check=check, stdin=stdin)


# ---------------------------------------------------------------- the lab

def lab_containers():
    out = sh('docker', 'ps', '-a', '--filter', 'label=clustered-mail=bench', '--format', '{{.Names}}')
    return [n for n in out.split() if n.startswith('bench-')]


def remove_containers():
    names = lab_containers()
    if names:
        sh('docker', 'rm', '-f', '-v', *names)
    sh('docker', 'volume', 'rm', '-f', VOLUME)


def lab_down():
    remove_containers()
    sh('docker', 'network', 'rm', NETWORK, check=False)


def start_container(name, address, caps, store=True):
    cmd = ['docker', 'run', '-d', '--name', 'bench-' + name, '--hostname', name,
           '--network', NETWORK, '--ip', address, '--label', 'clustered-mail=bench',
           '--cgroupns', 'host', '--cap-add', 'SYS_ADMIN',
           '--tmpfs', '/run', '--tmpfs', '/run/lock', '--tmpfs', '/tmp',
           '-v', '/sys/fs/cgroup:/sys/fs/cgroup:ro']
    for cap in caps:
        cmd += ['--cap-add', cap]
    if store:
        cmd += ['-v', '%s:%s' % (VOLUME, STORE_DIR)]
    sh(*cmd + [IMAGE, '/lib/systemd/systemd'])


def wait_booted(names):
    for name in names:
        deadline = time.monotonic() + 120
        while True:  # systemctl fails ('') until systemd itself listens, then --wait waits for the boot
            state = dexec(name, 'systemctl', 'is-system-running', '--wait', check=False).strip()
            if state in ('running', 'degraded'):
                break
            if time.monotonic() > deadline:
                raise RuntimeError('bench-%s did not boot: systemd is %r' % (name, state))
            time.sleep(1)


def fresh_lab(primaries):
    """Fresh containers from the pre-built image, booted, nothing deployed."""
    remove_containers()
    sh('docker', 'volume', 'create', VOLUME)
    lab = nodes(primaries)
    for name, address, caps in lab:
        start_container(name, address, caps)
    wait_booted([node[0] for node in lab])


# ---------------------------------------------------------------- converge

PROFILE_LINE = re.compile(r'^(.+) -+ (\d+\.\d+)s$')  # 'task name ---- 1.23s' (long names: ' -- ')


def ansible_env(settings):
    """The environment of ansible-playbook: lab/env.sh's paths, the chosen settings file, profile_tasks."""
    env = dict(os.environ)
    for key in [k for k in env if k.startswith('ANSIBLE_') and k not in ('ANSIBLE_COLLECTIONS_PATH', 'ANSIBLE_ROLES_PATH')]:
        del env[key]     # e.g. lab/env.sh's ANSIBLE_FORKS: the settings file alone decides
    env.update({
        'ANSIBLE_CONFIG': os.path.join(HERE, 'ansible-%s.cfg' % settings),
        'ANSIBLE_CACHE_PLUGIN_CONNECTION': FACTS,
        'ANSIBLE_CALLBACKS_ENABLED': 'ansible.posix.profile_tasks',
        'PROFILE_TASKS_TASK_OUTPUT_LIMIT': '40',
        'ANSIBLE_NOCOLOR': '1',
    })
    return env


def playbook(primaries, settings, label, *args):
    """Run ansible-playbook; return (seconds, profile_tasks summary as [(task, seconds)], tasks changed)."""
    logfile = os.path.join(LOGS, '%s.log' % label)
    cmd = ['ansible-playbook', '-i', inventory(primaries)] + list(args)
    t0 = time.monotonic()
    with open(logfile, 'w') as out:
        rc = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, env=ansible_env(settings), cwd=ROOT)
    seconds = time.monotonic() - t0
    with open(logfile) as out:
        text = out.read()
    if rc != 0:
        raise RuntimeError('%s failed (rc=%d), log %s:\n%s' % (' '.join(cmd), rc, logfile, text[-3000:]))
    summary = text.rsplit('PLAY RECAP', 1)[-1]
    tasks = [(m.group(1).strip(), float(m.group(2))) for m in map(PROFILE_LINE.match, summary.splitlines()) if m]
    changed = sum(int(n) for n in re.findall(r' changed=(\d+) ', summary))
    return seconds, tasks, changed


def converge(primaries, settings, runs, label):
    """runs x (fresh lab, cold site, idempotent rerun). Returns the list of runs."""
    done = []
    for i in range(1, runs + 1):
        log('%s: run %d/%d: fresh lab with %d primaries' % (label, i, runs, primaries))
        fresh_lab(primaries)
        # Cold means nothing from before: no cached facts, no CA on the controller.
        sh('rm', '-rf', FACTS, os.path.join(HERE, 'inventory', '.clustered_mail_ca'))
        cold, cold_tasks, dummy = playbook(primaries, settings, '%s-%d-cold' % (label, i), 'clustered.mail.site')
        log('%s: cold %.1f s' % (label, cold))
        rerun, rerun_tasks, rerun_changed = playbook(primaries, settings, '%s-%d-rerun' % (label, i), 'clustered.mail.site')
        log('%s: rerun %.1f s, %d changed' % (label, rerun, rerun_changed))
        done.append({'primaries': primaries, 'settings': settings, 'cold_s': round(cold, 1), 'rerun_s': round(rerun, 1),
                     'rerun_changed': rerun_changed,
                     'cold_tasks': cold_tasks, 'rerun_tasks': rerun_tasks})
    return done


def compare_settings(primaries, runs, first_tuned=None):
    """Idempotent reruns on the converged lab, tuned then stock settings, `runs` pairs.

    Reruns rather than cold runs: they run every task too, and cost half as much.
    The first tuned time may be the rerun just measured on this lab."""
    pairs = []
    for i in range(1, runs + 1):
        tuned = first_tuned if i == 1 and first_tuned else playbook(primaries, 'tuned', 'settings-%d-tuned' % i, 'clustered.mail.site')[0]
        stock = playbook(primaries, 'stock', 'settings-%d-stock' % i, 'clustered.mail.site')[0]
        log('settings: rerun tuned %.1f s, stock %.1f s' % (tuned, stock))
        pairs.append({'primaries': primaries, 'tuned_rerun_s': round(tuned, 1), 'stock_rerun_s': round(stock, 1)})
    return pairs


def median(runs, key):
    return round(statistics.median(r[key] for r in runs), 1) if runs else None


def slowest_tasks(runs, key, count=10):
    """Median time of each task over the runs, the slowest first."""
    per_task = {}
    for run in runs:
        for task, seconds in run[key]:
            per_task.setdefault(task, []).append(seconds)
    ranked = sorted(((round(statistics.median(s), 2), t) for t, s in per_task.items()), reverse=True)
    return [{'task': t, 'seconds': s} for s, t in ranked[:count]]


# ---------------------------------------------------------------- mail

def message(rcpt, token, seq):
    """MESSAGE_SIZE bytes (to within a line), numbered: the X-Bench-Id header is what the store is searched for."""
    head = ('From: bench@example.org\r\nTo: <%s>\r\nSubject: bench %d\r\nMessage-ID: <%d.%s@bench.invalid>\r\n'
            'X-Bench-Id: %s-%06d\r\n\r\n' % (rcpt, seq, seq, token.lower(), token, seq))
    return head + ('x' * 75 + '\r\n') * max(1, (MESSAGE_SIZE - len(head)) // 77)


def send(pick_server, count, rcpt, token):
    """Send `count` messages with SENDERS parallel clients, PER_SESSION per SMTP session.

    pick_server() chooses the server of each session. Returns the accepted
    sequence numbers, the rejected ones with their error, and the sessions per server."""
    todo = list(range(count))
    lock = threading.Lock()
    accepted, rejected, sessions = [], [], {}

    def client():
        while True:
            with lock:
                batch, todo[:] = todo[:PER_SESSION], todo[PER_SESSION:]
            if not batch:
                return
            server = pick_server()
            with lock:
                sessions[server] = sessions.get(server, 0) + 1
            try:
                with smtplib.SMTP(server, 25, timeout=120) as smtp:
                    for seq in batch:
                        smtp.sendmail('bench@example.org', [rcpt], message(rcpt, token, seq))
                        with lock:
                            accepted.append(seq)
            except (smtplib.SMTPException, OSError) as exc:
                with lock:
                    rejected.extend((seq, '%s: %s' % (server, exc)) for seq in batch if seq not in accepted)

    threads = [threading.Thread(target=client) for dummy in range(SENDERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return accepted, rejected, sessions


def delivered(container, directory, token):
    """(unique messages, files) carrying this run's token in the Maildirs below directory."""
    out = dexec(container, 'sh', '-c', "grep -rhoE '%s-[0-9]+' %s 2>/dev/null | sort | uniq -c | awk '{n++; f+=$1} END {print n+0, f+0}'"
                % (token, directory))
    unique, files = out.split()
    return int(unique), int(files)


def wait_delivered(container, directory, token, expected, t0):
    """Poll the store until every accepted message is there (or the timeout); return (unique, files, seconds)."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT
    while True:
        unique, files = delivered(container, directory, token)
        now = time.monotonic()
        if unique >= expected or now > deadline:
            return unique, files, now - t0
        time.sleep(0.5)


def throughput(name, pick_server, container, directory):
    token = 'BENCH%s%s' % (name.upper(), time.strftime('%H%M%S'))
    log('throughput %s: %d messages of %d bytes, %d senders' % (name, MESSAGES, MESSAGE_SIZE, SENDERS))
    t0 = time.monotonic()
    accepted, rejected, sessions = send(pick_server, MESSAGES, RCPT, token)
    accepted_s = time.monotonic() - t0
    unique, files, delivered_s = wait_delivered(container, directory, token, len(accepted), t0)
    result = {
        'messages': MESSAGES, 'message_bytes': MESSAGE_SIZE, 'senders': SENDERS, 'per_session': PER_SESSION,
        'accepted': len(accepted), 'rejected': len(rejected), 'rejections': rejected[:5],
        'accepted_s': round(accepted_s, 2), 'accepted_per_s': round(len(accepted) / accepted_s, 1),
        'delivered': unique, 'duplicates': files - unique, 'lost': len(accepted) - unique,
        'delivered_s': round(delivered_s, 2), 'delivered_per_s': round(unique / delivered_s, 1),
        'sessions_per_server': dict(sorted(sessions.items())),
    }
    log('throughput %s: %s' % (name, {k: result[k] for k in ('accepted_per_s', 'delivered_per_s', 'lost', 'rejected')}))
    return result


def cluster_mx():
    """A sender's choice of server, as Postfix makes it: MX lookup at the cluster's own DNS,
    the lowest preference, equal preferences in random order, then the host's A record."""
    import dns.resolver  # pylint: disable=import-outside-toplevel

    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [DNS_SERVER]
    resolver.cache = None
    rng = random.Random(1)
    lock = threading.Lock()

    def pick():
        mx = sorted(resolver.resolve(DOMAIN, 'MX'), key=lambda r: r.preference)
        best = [r for r in mx if r.preference == mx[0].preference]
        with lock:
            host = rng.choice(best).exchange.to_text()
        return resolver.resolve(host, 'A')[0].to_text()
    return pick


def stock_server():
    name, address = STOCK
    start_container(name, address, [], store=False)
    wait_booted([name])
    with open(os.path.join(HERE, 'stock', 'setup.sh')) as script:
        dexec(name, 'sh', '-s', stdin=script.read())
    return address


def drain(primaries):
    """Stop Postfix on every primary, queue DRAIN_MESSAGES on the backup MX, start them, flush, time."""
    token = 'BENCHDRAIN%s' % time.strftime('%H%M%S')
    names = ['mail%d' % i for i in range(1, primaries + 1)]
    log('drain: stopping postfix on %s' % ', '.join(names))
    for name in names:
        dexec(name, 'systemctl', 'stop', 'postfix')
    accepted, rejected, dummy = send(lambda: BACKUP_MX, DRAIN_MESSAGES, DRAIN_RCPT, token)
    deadline = time.monotonic() + 120
    while True:  # every message queued on the backup MX (the first attempt has failed)
        queued = len(dexec('backup', 'postqueue', '-j').splitlines())
        if queued >= len(accepted) or time.monotonic() > deadline:
            break
        time.sleep(1)
    log('drain: %d queued on the backup MX; starting postfix on the primaries' % queued)
    t0 = time.monotonic()
    starts = [subprocess.Popen(['docker', 'exec', 'bench-' + n, 'systemctl', 'start', 'postfix']) for n in names]
    if any(p.wait() for p in starts):
        raise RuntimeError('postfix did not start again on a primary')
    up_s = time.monotonic() - t0
    dexec('backup', 'postqueue', '-f')
    unique, files, drain_s = wait_delivered('store', STORE_DIR, token, len(accepted), t0)
    result = {'messages': DRAIN_MESSAGES, 'accepted': len(accepted), 'rejected': len(rejected), 'queued_on_backup': queued,
              'primaries_up_s': round(up_s, 2), 'drain_s': round(drain_s, 2), 'delivered': unique,
              'duplicates': files - unique, 'lost': len(accepted) - unique}
    log('drain: %s' % result)
    return result


# ---------------------------------------------------------------- placement

FAILOVER = os.path.join(ROOT, 'molecule', 'cluster', 'files', 'failover.py')
PASSWORD = 'demo-password'  # every bench user's (bench/inventory/group_vars/all.yml)


def bench_users():
    import yaml  # pylint: disable=import-outside-toplevel
    with open(os.path.join(HERE, 'inventory', 'group_vars', 'all.yml')) as f:
        cluster = yaml.safe_load(f)
    return ['%s@%s' % (u['name'], u.get('domain', DOMAIN)) for u in cluster['mail_cluster_users']]


def imap_logins(address, user, count):
    """Logins per second (STARTTLS, LOGIN, SELECT INBOX, LOGOUT) against one primary, one client."""
    import imaplib  # pylint: disable=import-outside-toplevel
    import ssl  # pylint: disable=import-outside-toplevel
    context = ssl.create_default_context(cafile=os.path.join(HERE, 'inventory', '.clustered_mail_ca', 'ca.crt'))
    context.check_hostname = False  # by address; the certificate is checked against the CA
    t0 = time.monotonic()
    for dummy in range(count):
        client = imaplib.IMAP4(address, 143, timeout=10)
        client.starttls(ssl_context=context)
        client.login(user, PASSWORD)
        client.select('INBOX', readonly=True)
        client.logout()
    return round(count / (time.monotonic() - t0), 1)


def placement(primaries):
    """Kill a home primary under the health timer (failover.py), then IMAP logins through a proxy vs at the home."""
    names = [n[0] for n in nodes(primaries) if n[0].startswith('mail')]
    deadline = time.monotonic() + 120
    while json.loads(dexec('ns1', 'sh', '-c', 'cat ' + STATE_DIR + '/drained.json 2>/dev/null'
                           ' || echo \'{"drained": []}\'')).get('drained'):
        if time.monotonic() > deadline:  # the drain phase stopped Postfix everywhere: wait for health to undo it
            raise RuntimeError('placement: primaries still drained 120 s after the drain phase')
        time.sleep(2)
    hosts = dict((n, {'addresses': [a], 'fqdn': '%s.%s' % (n, DOMAIN)}) for n, a, dummy in nodes(primaries))
    config = {'primaries': names, 'hosts': hosts, 'containers': dict((n, 'bench-' + n) for n in names),
              'dns': DNS_SERVER, 'users': bench_users(), 'password': PASSWORD, 'timeout': 300, 'messages': 5,
              'ca': os.path.join(HERE, 'inventory', '.clustered_mail_ca', 'ca.crt')}
    path = os.path.join(WORK, 'failover.json')
    with open(path, 'w') as f:
        json.dump(config, f)
    log('placement: killing the home of the most users (%s)' % FAILOVER)
    run = subprocess.run([sys.executable, FAILOVER, path], stdout=subprocess.PIPE, universal_newlines=True, check=False)
    report = json.loads(run.stdout)
    with open(os.path.join(LOGS, 'failover.json'), 'w') as f:
        f.write(run.stdout)
    if run.returncode:
        raise RuntimeError('failover: %s' % '; '.join(report['failures']))
    sys.path.insert(0, os.path.join(ROOT, 'molecule', 'cluster', 'files'))
    from failover import cname  # pylint: disable=import-outside-toplevel
    home = cname(DNS_SERVER, 'alice.pop.%s' % DOMAIN)
    home_name = home.split('.')[0]
    proxy_name = [n for n in names if n != home_name][0]
    address = dict((n, a) for n, a, dummy in nodes(primaries))
    direct = imap_logins(address[home_name], RCPT, PLACEMENT_LOGINS)
    proxied = imap_logins(address[proxy_name], RCPT, PLACEMENT_LOGINS)
    result = {'failover_s': report['failover_seconds'], 'back_s': report['back_seconds'],
              'users_moved': len(report['moved']), 'users_total': report['users_total'], 'primaries': primaries,
              'victim': report['victim'], 'accepted': report['accepted'],
              'lost': len(report['not_delivered_after_return']),
              'health_interval_s': HEALTH_INTERVAL, 'health_failures': HEALTH_FAILURES, 'ttl_s': TTL,
              'logins': PLACEMENT_LOGINS, 'logins_per_s_home': direct, 'logins_per_s_proxied': proxied,
              'home': home_name, 'proxy': proxy_name}
    log('placement: %s' % result)
    return result


# ---------------------------------------------------------------- dns_rotation

def dns_rotation_bench(primaries, settings):
    """The module's own query and analysis code (clustered.mail.dns_rotation), timed from the controller."""
    # lab/env.sh links this checkout into the collections path as clustered.mail.
    sys.path.insert(0, os.environ.get('ANSIBLE_COLLECTIONS_PATH', os.path.join(ROOT, 'build', 'collections')).split(':')[0])
    from ansible_collections.clustered.mail.plugins.modules import dns_rotation  # pylint: disable=import-outside-toplevel

    name = 'mail.%s.' % DOMAIN
    expected = [node[1] for node in nodes(primaries) if node[0].startswith('mail')]
    results = {}
    for order in ('cyclic', 'random'):
        if order != 'cyclic':
            playbook(primaries, settings, 'dns-order-%s' % order, os.path.join(HERE, 'dns_order.yml'),
                     '-e', 'bench_rrset_order=%s' % order)
        t0 = time.monotonic()
        answers = [dns_rotation.ask(DNS_SERVER, name, 'A', 53, 3.0, False) for dummy in range(DNS_QUERIES)]
        seconds = time.monotonic() - t0
        report = dns_rotation.analyse(answers, 'A', expected, order, 0.001)
        results[order] = {'queries': DNS_QUERIES, 'seconds': round(seconds, 2), 'queries_per_s': round(DNS_QUERIES / seconds, 1),
                          'first_position': report['first_position'], 'chi_square': report['chi_square'],
                          'rotation': report['rotation'], 'failures': report['failures']}
        log('dns_rotation %s: %.0f q/s, %s, chi-square %s' % (order, DNS_QUERIES / seconds, report['rotation'], report['chi_square']))
    return results


# ---------------------------------------------------------------- report

def machine():
    with open('/proc/meminfo') as f:
        mem_kib = int(re.search(r'MemTotal:\s+(\d+)', f.read()).group(1))
    with open('/proc/cpuinfo') as f:
        model = re.search(r'model name\s*:\s*(.+)', f.read())
    return {
        'nproc': os.cpu_count(), 'ram_gib': round(mem_kib / 1024 / 1024, 1),
        'cpu': model.group(1).strip() if model else platform.machine(), 'kernel': platform.release(),
        'docker': sh('docker', 'version', '--format', '{{.Server.Version}}').strip(),
        'ansible_core': sh('ansible', '--version').splitlines()[0],
        'python': platform.python_version(),
        'loadavg_start': [round(x, 2) for x in os.getloadavg()],
        'date': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
    }


def ratio(a, b):
    return round(a / b, 2) if a and b else None


def summarise(r):
    base, scale, pairs = r['converge']['base'], r['converge']['scale'], r['converge']['settings']
    s = {
        'cold_s': median(base, 'cold_s'), 'rerun_s': median(base, 'rerun_s'),
        'scale_cold_s': median(scale, 'cold_s'), 'scale_rerun_s': median(scale, 'rerun_s'),
        'tuned_rerun_s': median(pairs, 'tuned_rerun_s'), 'stock_rerun_s': median(pairs, 'stock_rerun_s'),
    }
    s['ratio_rerun_cold'] = ratio(s['rerun_s'], s['cold_s'])
    s['ratio_scale'] = ratio(s['scale_cold_s'], s['cold_s'])
    s['ratio_scale_rerun'] = ratio(s['scale_rerun_s'], s['rerun_s'])
    s['ratio_tuned_stock'] = ratio(s['tuned_rerun_s'], s['stock_rerun_s'])
    s['slowest_cold_tasks'] = slowest_tasks(base, 'cold_tasks')
    s['slowest_rerun_tasks'] = slowest_tasks(base, 'rerun_tasks')
    return s


def fmt(value, unit=''):
    return 'n/a' if value is None else '%s%s' % (value, unit)


def markdown(r):
    s, m, t, d = r['summary'], r['machine'], r.get('throughput', {}), r.get('drain', {})
    c, st = t.get('cluster', {}), t.get('stock', {})
    rot = r.get('dns_rotation', {})
    pl = r.get('placement', {})
    budget = pl['health_interval_s'] * pl['health_failures'] + pl['ttl_s'] if pl else None
    settings_primaries = r['converge']['settings'][0]['primaries'] if r['converge']['settings'] else SCALE_PRIMARIES
    lines = [
        '# clustered.mail benchmarks',
        '',
        'Taken %s on %d cores (%s), %s GiB RAM, kernel %s, Docker %s, %s; load average at start %s. '
        'Other jobs shared the machine: compare the ratios, which were measured in the same run.'
        % (m['date'], m['nproc'], m['cpu'], m['ram_gib'], m['kernel'], m['docker'], m['ansible_core'],
           ' / '.join(str(x) for x in m['loadavg_start'])),
        '',
        '| measure | result |',
        '|---|---|',
        '| converge, cold, %d primaries (median of %d) | %s |' % (PRIMARIES, len(r['converge']['base']), fmt(s['cold_s'], ' s')),
        '| converge, idempotent rerun (median of %d; tasks changed in each: %s) | %s |'
        % (len(r['converge']['base']), ', '.join(str(x['rerun_changed']) for x in r['converge']['base']), fmt(s['rerun_s'], ' s')),
        '| ratio rerun / cold | %s |' % fmt(s['ratio_rerun_cold']),
        '| converge, cold, %d primaries (median of %d) | %s |' % (SCALE_PRIMARIES, len(r['converge']['scale']), fmt(s['scale_cold_s'], ' s')),
        '| ratio %d primaries / %d primaries, cold (rerun) | %s (%s) |'
        % (SCALE_PRIMARIES, PRIMARIES, fmt(s['ratio_scale']), fmt(s['ratio_scale_rerun'])),
        '| rerun, %d primaries, tuned settings / stock ansible.cfg (median of %d) | %s / %s |'
        % (settings_primaries, len(r['converge']['settings']), fmt(s['tuned_rerun_s'], ' s'), fmt(s['stock_rerun_s'], ' s')),
        '| ratio tuned / stock settings | %s |' % fmt(s['ratio_tuned_stock']),
        '| SMTP accepted/s, cluster (%d primaries, MX round robin) / one stock server | %s / %s |'
        % (PRIMARIES, fmt(c.get('accepted_per_s')), fmt(st.get('accepted_per_s'))),
        '| SMTP delivered into the store/s, cluster / one stock server | %s / %s |'
        % (fmt(c.get('delivered_per_s')), fmt(st.get('delivered_per_s'))),
        '| SMTP accepted/s, alice\'s home primary alone / the stock server; delivery held (bench/accept.py, docs/accept-path.md) | %s / %s; %s / %s |'
        % tuple(fmt(r.get('accept', {}).get(k)) for k in ('primary_per_s', 'stock_per_s', 'held_primary_per_s', 'held_stock_per_s')),
        '| messages lost (accepted, never in the store), cluster / stock / drain | %s / %s / %s |'
        % (fmt(c.get('lost')), fmt(st.get('lost')), fmt(d.get('lost'))),
        '| backup MX drain, %s messages queued, after the primaries return | %s |' % (fmt(d.get('accepted')), fmt(d.get('drain_s'), ' s')),
        '| failover, %s primaries: home killed to all its users served through every live primary / health interval x failures + TTL | %s / %s |'
        % (fmt(pl.get('primaries')), fmt(pl.get('failover_s'), ' s'), fmt(budget, ' s')),
        '| ratio failover / (health interval x failures + TTL) | %s |' % fmt(ratio(pl.get('failover_s'), budget)),
        '| users moved / users total on one failure (ideal 1/%s = %s) | %s / %s = %s |'
        % (fmt(pl.get('primaries')), fmt(round(1 / pl['primaries'], 2) if pl else None), fmt(pl.get('users_moved')),
           fmt(pl.get('users_total')), fmt(ratio(pl.get('users_moved'), pl.get('users_total')))),
        '| IMAP logins/s through a proxying primary / directly at the home (%s sequential logins each) | %s / %s = %s |'
        % (fmt(pl.get('logins')), fmt(pl.get('logins_per_s_proxied')), fmt(pl.get('logins_per_s_home')),
           fmt(ratio(pl.get('logins_per_s_proxied'), pl.get('logins_per_s_home')))),
    ]
    for order in ('cyclic', 'random'):
        o = rot.get(order)
        if o:
            lines.append('| dns_rotation, rrset-order %s: queries/s; first position chi-square (df %d), p | %s; %s, p = %s |'
                         % (order, o['chi_square']['df'], o['queries_per_s'], o['chi_square']['statistic'], o['chi_square']['p_value']))
    sent = (c.get('messages'), c.get('message_bytes'), c.get('senders'), c.get('per_session'), c.get('sessions_per_server'))
    lines += ['', 'Messages: %s of %s bytes, %s parallel senders, %s per SMTP session; fsync left on '
              '(the cluster\'s Dovecot: mail_fsync = always, for the shared store; the stock one: the default, optimized). '
              'Sessions per cluster server: %s.' % sent, '']
    if r.get('errors'):
        lines += ['**Errors:** ' + ' / '.join(r['errors']), '']
    for key, title in (('slowest_cold_tasks', 'cold run'), ('slowest_rerun_tasks', 'idempotent rerun')):
        lines += ['The 10 slowest tasks of the %s (%d primaries, median over the runs, profile_tasks):' % (title, PRIMARIES), '',
                  '| task | s |', '|---|---|']
        lines += ['| %s | %s |' % (x['task'].replace('|', '\\|'), x['seconds']) for x in s[key]]
        lines.append('')
    for order in ('cyclic', 'random'):
        o = rot.get(order)
        if o:
            lines.append('First position over %d queries, rrset-order %s (observed: %s): %s'
                         % (o['queries'], order, o['rotation'], ', '.join('%s %d' % kv for kv in sorted(o['first_position'].items()))))
    lines += ['', 'Plots: converge_vs_primaries.png, rotation_first_position.png. Raw data: results.json.', '']
    return '\n'.join(lines)


def plots(r):
    import matplotlib  # pylint: disable=import-outside-toplevel
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt  # pylint: disable=import-outside-toplevel

    fig, ax = plt.subplots(figsize=(6, 4))
    for key, label, marker in (('cold_s', 'cold', 'o'), ('rerun_s', 'idempotent rerun', 's')):
        runs = [x for x in r['converge']['base'] + r['converge']['scale'] if x['settings'] == 'tuned']
        xs = sorted(set(x['primaries'] for x in runs))
        ax.scatter([x['primaries'] for x in runs], [x[key] for x in runs], marker=marker, alpha=0.4)
        ax.plot(xs, [statistics.median(x[key] for x in runs if x['primaries'] == n) for n in xs], marker=marker, label=label + ' (median)')
    pairs = r['converge']['settings']
    if pairs:
        ax.scatter([x['primaries'] for x in pairs], [x['stock_rerun_s'] for x in pairs], marker='x', color='black',
                   label='rerun, stock ansible.cfg')
    ax.set_xlabel('primaries')
    ax.set_ylabel('clustered.mail.site wall time (s)')
    ax.set_title('Converge time against number of primaries')
    ax.set_xticks(sorted(set(x['primaries'] for x in r['converge']['base'] + r['converge']['scale'])))
    ax.set_ylim(bottom=0)
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(RESULTS, 'converge_vs_primaries.png'), dpi=100)
    plt.close(fig)

    rot = r.get('dns_rotation', {})
    if rot:
        fig, ax = plt.subplots(figsize=(6, 4))
        records = sorted(next(iter(rot.values()))['first_position'])
        width = 0.8 / len(rot)
        for i, (order, o) in enumerate(sorted(rot.items())):
            ax.bar([j + i * width for j in range(len(records))], [o['first_position'].get(x, 0) for x in records], width,
                   label='%s (chi-square %s, p %s)' % (order, o['chi_square']['statistic'], o['chi_square']['p_value']))
        ax.axhline(DNS_QUERIES / len(records), color='black', linestyle='--', linewidth=1, label='uniform')
        ax.set_xticks([j + width * (len(rot) - 1) / 2 for j in range(len(records))], records)
        ax.set_ylabel('answers with this record first')
        ax.set_title('%s A: first position over %d queries' % ('mail.' + DOMAIN, DNS_QUERIES))
        ax.legend(loc='lower right')
        fig.tight_layout()
        fig.savefig(os.path.join(RESULTS, 'rotation_first_position.png'), dpi=100)
        plt.close(fig)


def write(r):
    os.makedirs(RESULTS, exist_ok=True)
    r['summary'] = summarise(r)
    with open(os.path.join(RESULTS, 'results.json'), 'w') as f:
        json.dump(r, f, indent=1, sort_keys=True)
        f.write('\n')
    with open(os.path.join(RESULTS, 'results.md'), 'w') as f:
        f.write(markdown(r))
    plots(r)


def losses(r):
    """Every way mail went missing, as sentences; empty when none did."""
    found = []
    for name, t in list(r.get('throughput', {}).items()) + [('drain', r.get('drain', {}))]:
        if t.get('lost') or t.get('rejected'):
            found.append('%s: %s accepted but not in the store, %s rejected by SMTP %s'
                         % (name, t.get('lost'), t.get('rejected'), t.get('rejections', '')))
    return found


def main():
    os.makedirs(LOGS, exist_ok=True)
    started = time.monotonic()
    r = {'machine': machine(), 'converge': {'base': [], 'scale': [], 'settings': []},
         'settings': {k: v for k, v in globals().items() if k.isupper() and isinstance(v, int)}}
    log('machine: %s' % r['machine'])
    lab_down()
    sh('docker', 'network', 'create', '--subnet', SUBNET, '--label', 'clustered-mail=bench', NETWORK)
    errors = []

    def phase(name, fn, *args):
        """A measurement that can fail alone: the error is recorded and the bench goes on."""
        try:
            return fn(*args)
        except (RuntimeError, OSError, ValueError, ImportError) as exc:
            log('%s FAILED: %s' % (name, exc))
            errors.append('%s: %s' % (name, exc))
            return None

    try:
        # Converge failures end the bench: every later step needs a converged lab.
        r['converge']['base'] = converge(PRIMARIES, 'tuned', RUNS, 'base')
        cluster = phase('throughput cluster', throughput, 'cluster', cluster_mx(), 'store', STORE_DIR)
        stock = phase('stock server', stock_server)
        r['throughput'] = {'cluster': cluster or {},
                           'stock': phase('throughput stock', throughput, 'stock', lambda: stock, 'stock', '/home/alice/Maildir') or {}}
        r['accept'] = phase('accept path', accept.for_bench) or {}
        r['drain'] = phase('drain', drain, PRIMARIES) or {}
        r['converge']['scale'] = converge(SCALE_PRIMARIES, 'tuned', SCALE_RUNS, 'scale')
        # On the larger lab when there is one: a failure then moves a smaller share.
        r['placement'] = phase('placement', placement, SCALE_PRIMARIES if SCALE_RUNS else PRIMARIES) or {}
        # The rest on the larger lab when there is one: more hosts than stock forks, more records to rotate.
        lab = r['converge']['scale'] or r['converge']['base']
        r['converge']['settings'] = compare_settings(lab[-1]['primaries'], STOCK_RUNS, r['converge']['scale'][-1]['rerun_s'] if SCALE_RUNS else None)
        # Last: it leaves BIND with rrset-order random, which a rerun of site would change back.
        r['dns_rotation'] = phase('dns_rotation', dns_rotation_bench, lab[-1]['primaries'], 'tuned') or {}
    except (RuntimeError, OSError) as exc:
        errors.append(str(exc))
    finally:
        r['machine']['loadavg_end'] = [round(x, 2) for x in os.getloadavg()]
        r['total_s'] = round(time.monotonic() - started, 1)
        r['errors'] = errors
        write(r)
        if not KEEP:
            lab_down()
    log('wrote %s in %.0f s' % (RESULTS, r['total_s']))
    print(open(os.path.join(RESULTS, 'results.md')).read())
    problems = losses(r) + errors
    if problems:
        print('BENCH FAILED:\n- ' + '\n- '.join(problems), file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
