# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""`make bench`: measure the lab cluster and write bench/results/.

Builds its own container lab (network bench-net, 172.30.70.0/24, containers
bench-*, volume bench-store), removed at the start and at the end, and
measures, in this order:

1. converge time of clustered.mail.site, cold (fresh containers) and
   idempotent rerun, BENCH_RUNS times, with BENCH_PRIMARIES primaries, in
   each lane of BENCH_LANES (docker exec, SSH): wall time split into the
   roles' part and verify's, and the controller's CPU time;
2. on that converged lab: SMTP throughput through the cluster's MX round
   robin and through one stock Postfix+Dovecot container, the backup MX
   drain time, then accepted/s with the rspamd milter on and off (site rerun
   with mail_cluster_spam_filter=false, and back);
3. cold + rerun with BENCH_SCALE_PRIMARIES primaries, in each lane (the
   scaling ratios of wall time and of controller CPU per host);
4. on that lab: dns_rotation's query rate and first-position statistics,
   with rrset-order cyclic, then random;
5. reruns with stock Ansible settings on the same lab as 3 (docker exec).

Benchmarks measure, they do not test; but mail that is accepted and never
reaches the store is a loss, and any loss makes this exit non-zero.
Settings come from BENCH_* environment variables (bench/README.md).
"""

from __future__ import annotations

import ctypes
import datetime
import hashlib
import json
import os
import platform
import random
import re
import resource
import signal
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
PLAY_TIMES = os.path.join(WORK, 'plays')
# The SSH lane's throwaway client key and bench-only known_hosts (made by
# ssh_key(), never committed), and ControlPersist's sockets: a socket path
# must stay under 108 bytes, and ssh adds a 17-byte suffix while it binds.
SSH_DIR = os.path.join(WORK, 'ssh')
SSH_KEY = os.path.join(SSH_DIR, 'id_ed25519')
KNOWN_HOSTS = os.path.join(SSH_DIR, 'known_hosts')
CONTROL_DIR = os.path.join(WORK, 'cp')


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
# The spam filter's phase also sends with this many clients at once: enough that accepting waits
# for the CPU, not for one scan's latency (4 senders each wait for the milter's answer).
FILTER_SENDERS = setting('BENCH_FILTER_SENDERS', 16)
PER_SESSION = setting('BENCH_PER_SESSION', 10)
DRAIN_MESSAGES = setting('BENCH_DRAIN_MESSAGES', 100)
DNS_QUERIES = setting('BENCH_DNS_QUERIES', 2000)
DELIVERY_TIMEOUT = setting('BENCH_DELIVERY_TIMEOUT', 300)
PLACEMENT_LOGINS = setting('BENCH_PLACEMENT_LOGINS', 200)
# As in bench/inventory/group_vars/all.yml (the health timer of the placement phase).
HEALTH_INTERVAL, HEALTH_FAILURES, TTL = 5, 2, 60
KEEP = setting('BENCH_KEEP', 0)
# BENCH_ONLY=filter: only the base converge and the spam filter's on/off phase (a quick re-measurement);
# BENCH_ONLY=converge: only the base converge (cold and rerun in each lane).
ONLY = os.environ.get('BENCH_ONLY', '')
# How Ansible reaches the hosts, each a bench/inventory/lanes/<lane>.yml; every converge runs in each.
LANES = [x for x in os.environ.get('BENCH_LANES', 'docker,ssh').replace(' ', ',').split(',') if x]
# What issue 17 asks of these figures; reported beside them, never turned into a verdict.
GOALS = {'rerun_cold_roles': 0.25, 'rerun_cold_site': 0.35, 'cpu_per_host_scale': 1.15,
         'filter_on_off': 0.7}   # issue 15: accepted/s with rspamd on / off

# The lab. Names, addresses and capabilities as in lab/demo/nodes.yml.
BASE_IMAGE = 'clustered-mail/mail:12'   # what lab/setup builds
IMAGE = 'clustered-mail/bench:12'       # plus sshd (bench/image/Dockerfile), built by bench_image()
NETWORK, SUBNET, VOLUME = 'bench-net', '172.30.70.0/24', 'bench-store'
DNS_SERVER = '172.30.70.11'
BACKUP_MX = '172.30.70.40'
STOCK = ('stock', '172.30.70.60')
DOMAIN, RCPT, DRAIN_RCPT = 'example.test', 'alice@example.test', 'bob@example.org'
STORE_DIR = '/lab/store'   # the store, as the data server sees it


def nodes(primaries):
    """(name, address, extra capabilities) of the lab with this many primaries."""
    lab = [('ns1', '172.30.70.11', []), ('store', '172.30.70.20', ['DAC_READ_SEARCH', 'NET_ADMIN'])]  # NET_ADMIN: Redis's nftables
    lab += [('mail%d' % i, '172.30.70.%d' % (30 + i), ['LINUX_IMMUTABLE', 'NET_ADMIN']) for i in range(1, primaries + 1)]
    lab += [('backup', '172.30.70.40', [])]
    return lab


def inventory(primaries, lane):
    """-i arguments: the host list of this size, then how the lane reaches the hosts."""
    hosts = os.path.join(HERE, 'inventory', 'primaries-%d.yml' % primaries)
    reach = os.path.join(HERE, 'inventory', 'lanes', '%s.yml' % lane)
    for path in (hosts, reach):
        if not os.path.exists(path):
            sys.exit('no bench inventory for %d primaries in lane %s: %s' % (primaries, lane, path))
    return ['-i', hosts, '-i', reach]


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


def bench_image():
    """clustered-mail/bench:12, built again when its Dockerfile or the lab's mail image changed."""
    context = os.path.join(HERE, 'image')
    digest = hashlib.sha256(sh('docker', 'image', 'inspect', '-f', '{{ .Id }}', BASE_IMAGE).encode())
    for name in sorted(os.listdir(context)):
        with open(os.path.join(context, name), 'rb') as f:
            digest.update(name.encode() + b'\0' + f.read())
    stamp = digest.hexdigest()
    built = sh('docker', 'image', 'inspect', '-f', '{{ index .Config.Labels "bench.defhash" }}', IMAGE, check=False).strip()
    if built != stamp:
        log('docker build %s (%s plus sshd)' % (IMAGE, BASE_IMAGE))
        build = subprocess.run(['docker', 'build', '-q', '--build-arg', 'BASE=' + BASE_IMAGE, '--label', 'bench.defhash=' + stamp,
                                '-t', IMAGE, context], env=dict(os.environ, DOCKER_BUILDKIT='0'), capture_output=True, text=True,
                               check=False)
        if build.returncode:
            raise RuntimeError('docker build %s failed:\n%s%s' % (IMAGE, build.stdout[-2000:], build.stderr[-2000:]))


def ssh_key():
    """A throwaway ed25519 key for root on the bench hosts, new for every bench run, mode 0600."""
    os.makedirs(SSH_DIR, mode=0o700, exist_ok=True)
    for path in (SSH_KEY, SSH_KEY + '.pub'):
        if os.path.exists(path):
            os.remove(path)
    sh('ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'clustered-mail-bench', '-f', SSH_KEY)
    os.chmod(SSH_KEY, 0o600)
    if len(os.path.join(CONTROL_DIR, 'x' * 10)) + 17 >= 108:
        raise RuntimeError('ControlPath directory %s is too long for a socket path: clone to a shorter path' % CONTROL_DIR)
    os.makedirs(CONTROL_DIR, mode=0o700, exist_ok=True)


def fresh_lab(primaries):
    """Fresh containers from the pre-built image, booted, nothing deployed, the bench key authorised for root."""
    remove_containers()
    sh('docker', 'volume', 'create', VOLUME)
    lab = nodes(primaries)
    for name, address, caps in lab:
        start_container(name, address, caps)
    wait_booted([node[0] for node in lab])
    with open(SSH_KEY + '.pub') as f:
        public = f.read()
    for node in lab:
        dexec(node[0], 'sh', '-c', 'umask 077 && mkdir -p /root/.ssh && cat > /root/.ssh/authorized_keys', stdin=public)
    # New containers, new host keys at the same addresses: accept-new must meet them as new.
    if os.path.exists(KNOWN_HOSTS):
        os.remove(KNOWN_HOSTS)


# ---------------------------------------------------------------- converge

PROFILE_LINE = re.compile(r'^(.+) -+ (\d+\.\d+)s$')  # 'task name ---- 1.23s' (long names: ' -- ')


def ansible_env(settings, lane, play_times):
    """The environment of ansible-playbook: lab/env.sh's paths, the chosen settings file, the lane's
    SSH client files, profile_tasks and the play clock (bench/callback_plugins) writing to play_times."""
    env = dict(os.environ)
    for key in [k for k in env if k.startswith('ANSIBLE_') and k not in ('ANSIBLE_COLLECTIONS_PATH', 'ANSIBLE_ROLES_PATH')]:
        del env[key]     # e.g. lab/env.sh's ANSIBLE_FORKS: the settings file alone decides
    env.update({
        'ANSIBLE_CONFIG': os.path.join(HERE, 'ansible-%s.cfg' % settings),
        'ANSIBLE_CACHE_PLUGIN_CONNECTION': FACTS,
        'ANSIBLE_CALLBACK_PLUGINS': os.path.join(HERE, 'callback_plugins'),
        'ANSIBLE_CALLBACKS_ENABLED': 'ansible.posix.profile_tasks,bench_play_times',
        'BENCH_PLAY_TIMES': play_times,
        'PROFILE_TASKS_TASK_OUTPUT_LIMIT': '40',
        'ANSIBLE_NOCOLOR': '1',
    })
    if lane == 'ssh':   # what only the bench needs; what a user would copy is in ansible-tuned.cfg
        env.update({
            'ANSIBLE_PRIVATE_KEY_FILE': SSH_KEY,
            'ANSIBLE_SSH_COMMON_ARGS': '-o UserKnownHostsFile=%s -o StrictHostKeyChecking=accept-new' % KNOWN_HOSTS,
            'ANSIBLE_SSH_CONTROL_PATH_DIR': CONTROL_DIR,
        })
    return env


def become_subreaper():
    """Adopt orphaned descendants (Linux): the SSH masters ControlPersist leaves behind outlive
    ansible-playbook, and only once reaped here does their CPU time count in RUSAGE_CHILDREN."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0) == 0   # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):
        return False


def close_ssh_masters():
    """End the ControlPersist masters of the last run and reap them (see become_subreaper)."""
    for name in os.listdir(CONTROL_DIR):
        path = os.path.join(CONTROL_DIR, name)
        check = subprocess.run(['ssh', '-O', 'check', '-o', 'ControlPath=' + path, 'bench'], capture_output=True, text=True, check=False)
        pid = re.search(r'pid=(\d+)', check.stderr)
        subprocess.run(['ssh', '-O', 'exit', '-o', 'ControlPath=' + path, 'bench'], capture_output=True, check=False)
        if pid:
            try:
                os.waitpid(int(pid.group(1)), 0)
            except ChildProcessError:
                pass     # not adopted (no subreaper): its CPU time is not counted
        if os.path.exists(path):
            os.remove(path)
    while True:   # and the processes between ssh and its daemonised master, exited and adopted too
        try:
            if os.waitpid(-1, os.WNOHANG)[0] == 0:
                break
        except ChildProcessError:
            break


def cpu_seconds(before, after):
    """User + system CPU seconds between two getrusage() readings."""
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def play_seconds(times):
    """[(play name, seconds)] from the play clock's {'plays': [{'name', 'start'}], 'end'}."""
    plays = times['plays']
    ends = [p['start'] for p in plays[1:]] + [times['end']]
    return [(p['name'], round(end - p['start'], 2)) for p, end in zip(plays, ends)]


def split_site(times, verify_names, wall_s):
    """(roles_s, verify_s) of a site run: verify from the start of its first play to the end,
    the roles everything before it (ansible-playbook's start-up, preflight, the roles' plays).
    verify_s is None when no verify play ran."""
    starts = [p['start'] for p in times['plays'] if p['name'] in verify_names]
    if not starts:
        return wall_s, None
    verify_s = times['end'] - starts[0]
    return wall_s - verify_s, verify_s


def verify_play_names():
    """The names of the plays of playbooks/verify.yml, which site imports last."""
    import yaml  # pylint: disable=import-outside-toplevel
    with open(os.path.join(ROOT, 'playbooks', 'verify.yml')) as f:
        return {play['name'].strip() for play in yaml.safe_load(f) if 'hosts' in play and 'name' in play}


def playbook(primaries, settings, label, *args, lane='docker'):
    """Run ansible-playbook. Returns {'seconds', 'cpu_s' (the controller's, the whole process tree),
    'tasks' (profile_tasks summary as [(task, seconds)]), 'changed', 'plays' (the play clock)}."""
    logfile = os.path.join(LOGS, '%s.log' % label)
    play_times = os.path.join(PLAY_TIMES, '%s.json' % label)
    cmd = ['ansible-playbook'] + inventory(primaries, lane) + list(args)
    if lane == 'ssh':
        close_ssh_masters()   # none of an earlier run's connections
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    with open(logfile, 'w') as out:
        rc = subprocess.call(cmd, stdout=out, stderr=subprocess.STDOUT, env=ansible_env(settings, lane, play_times), cwd=ROOT)
    seconds = time.monotonic() - t0
    if lane == 'ssh':
        close_ssh_masters()
    cpu = cpu_seconds(before, resource.getrusage(resource.RUSAGE_CHILDREN))
    with open(logfile) as out:
        text = out.read()
    if rc != 0:
        raise RuntimeError('%s failed (rc=%d), log %s:\n%s' % (' '.join(cmd), rc, logfile, text[-3000:]))
    summary = text.rsplit('PLAY RECAP', 1)[-1]
    tasks = [(m.group(1).strip(), float(m.group(2))) for m in map(PROFILE_LINE.match, summary.splitlines()) if m]
    changed = sum(int(n) for n in re.findall(r' changed=(\d+) ', summary))
    with open(play_times) as f:
        plays = json.load(f)
    return {'seconds': seconds, 'cpu_s': cpu, 'tasks': tasks, 'changed': changed, 'plays': plays}


def site_run(primaries, lane, label):
    """One clustered.mail.site with the tuned settings in this lane, as the figures of a converge."""
    run = playbook(primaries, 'tuned', label, 'clustered.mail.site', lane=lane)
    roles_s, verify_s = split_site(run['plays'], verify_play_names(), run['seconds'])
    hosts = len(nodes(primaries))
    return {'s': round(run['seconds'], 1), 'roles_s': round(roles_s, 1),
            'verify_s': None if verify_s is None else round(verify_s, 1),
            'cpu_s': round(run['cpu_s'], 1), 'cpu_per_host_s': round(run['cpu_s'] / hosts, 2),
            'tasks': run['tasks'], 'changed': run['changed'], 'plays': play_seconds(run['plays'])}


def converge(primaries, runs, label, done):
    """runs x each lane x (fresh lab, cold site, idempotent rerun), lanes interleaved so that both
    see the same stretch of the machine's load. Each run is appended to done as it ends, so that
    a bench that fails or is interrupted later still reports it."""
    for i in range(1, runs + 1):
        for lane in LANES:
            log('%s: run %d/%d, lane %s: fresh lab with %d primaries' % (label, i, runs, lane, primaries))
            fresh_lab(primaries)
            # Cold means nothing from before: no cached facts, no CA on the controller.
            sh('rm', '-rf', FACTS, os.path.join(HERE, 'inventory', '.clustered_mail_ca'))
            cold = site_run(primaries, lane, '%s-%s-%d-cold' % (label, lane, i))
            log('%s %s: cold %.1f s (verify %s s), CPU %.1f s' % (label, lane, cold['s'], cold['verify_s'], cold['cpu_s']))
            rerun = site_run(primaries, lane, '%s-%s-%d-rerun' % (label, lane, i))
            log('%s %s: rerun %.1f s (verify %s s), CPU %.1f s, %d changed'
                % (label, lane, rerun['s'], rerun['verify_s'], rerun['cpu_s'], rerun['changed']))
            run = {'primaries': primaries, 'hosts': len(nodes(primaries)), 'settings': 'tuned', 'lane': lane,
                   'rerun_changed': rerun['changed']}
            for key, figures in (('cold', cold), ('rerun', rerun)):
                run['%s_s' % key] = figures.pop('s')
                run.update(('%s_%s' % (key, k), v) for k, v in figures.items() if k != 'changed')
            done.append(run)


def compare_settings(primaries, runs, first_tuned=None):
    """Idempotent reruns on the converged lab, tuned then stock settings, `runs` pairs, over docker exec.

    Reruns rather than cold runs: they run every task too, and cost half as much.
    The first tuned time may be the rerun just measured on this lab."""
    pairs = []
    for i in range(1, runs + 1):
        tuned = first_tuned if i == 1 and first_tuned else playbook(primaries, 'tuned', 'settings-%d-tuned' % i, 'clustered.mail.site')['seconds']
        stock = playbook(primaries, 'stock', 'settings-%d-stock' % i, 'clustered.mail.site')['seconds']
        log('settings: rerun tuned %.1f s, stock %.1f s' % (tuned, stock))
        pairs.append({'primaries': primaries, 'tuned_rerun_s': round(tuned, 1), 'stock_rerun_s': round(stock, 1)})
    return pairs


def median(runs, key, digits=1):
    """The median of runs' key (runs without it left out), None when there is none."""
    values = [r[key] for r in runs if r.get(key) is not None]
    return round(statistics.median(values), digits) if values else None


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


def send(pick_server, count, rcpt, token, senders=None):
    """Send `count` messages with `senders` (SENDERS) parallel clients, PER_SESSION per SMTP session.

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

    threads = [threading.Thread(target=client) for dummy in range(senders or SENDERS)]
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


def throughput(name, pick_server, container, directory, senders=None):
    senders = senders or SENDERS
    token = 'BENCH%s%s' % (name.upper(), time.strftime('%H%M%S'))
    log('throughput %s: %d messages of %d bytes, %d senders' % (name, MESSAGES, MESSAGE_SIZE, senders))
    t0 = time.monotonic()
    accepted, rejected, sessions = send(pick_server, MESSAGES, RCPT, token, senders)
    accepted_s = time.monotonic() - t0
    unique, files, delivered_s = wait_delivered(container, directory, token, len(accepted), t0)
    result = {
        'messages': MESSAGES, 'message_bytes': MESSAGE_SIZE, 'senders': senders, 'per_session': PER_SESSION,
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


def filter_cost(primaries):
    """SMTP accepted/s through the cluster's MX round robin with rspamd as the milter (the default)
    and without it (site rerun with mail_cluster_spam_filter=false), back to back on the same lab;
    then site again with the default, so that the phases after this one see the lab as deployed.

    Each half sends the burst twice: with SENDERS clients, as every other throughput figure, and
    with FILTER_SENDERS, where the milter's latency no longer bounds accepting ('saturated')."""
    on = throughput('filter_on', cluster_mx(), 'store', STORE_DIR)
    on_wide = throughput('filter_on_saturated', cluster_mx(), 'store', STORE_DIR, FILTER_SENDERS)
    playbook(primaries, 'tuned', 'filter-off', 'clustered.mail.site', '-e', 'mail_cluster_spam_filter=false')
    try:
        off = throughput('filter_off', cluster_mx(), 'store', STORE_DIR)
        off_wide = throughput('filter_off_saturated', cluster_mx(), 'store', STORE_DIR, FILTER_SENDERS)
    finally:
        playbook(primaries, 'tuned', 'filter-on-again', 'clustered.mail.site')
    return dict(on_off(on, off), saturated=dict(on_off(on_wide, off_wide), senders=FILTER_SENDERS))


def on_off(on, off):
    """Two throughput results, rspamd on and off, with their ratios."""
    return {'on': on, 'off': off, 'ratio_accepted': ratio(on['accepted_per_s'], off['accepted_per_s']),
            'ratio_delivered': ratio(on['delivered_per_s'], off['delivered_per_s'])}


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

def ask_again(ask, error, name, unanswered, attempts=3):
    """One answer, asked again after a query that went unanswered, as a stub resolver would.

    Under load a UDP query can go unanswered within the 3 s timeout; that is
    counted (`unanswered`, reported beside the rate), not a failed bench. A
    query unanswered `attempts` times in a row still fails the phase."""
    for attempt in range(1, attempts + 1):
        try:
            return ask(DNS_SERVER, name, 'A', 53, 3.0, False)
        except error as exc:
            unanswered.append(str(exc))
            if attempt == attempts:
                raise


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
        unanswered = []
        answers = [ask_again(dns_rotation.ask, dns_rotation.DnsQueryError, name, unanswered) for dummy in range(DNS_QUERIES)]
        seconds = time.monotonic() - t0
        report = dns_rotation.analyse(answers, 'A', expected, order, 0.001)
        results[order] = {'queries': DNS_QUERIES, 'seconds': round(seconds, 2), 'queries_per_s': round(DNS_QUERIES / seconds, 1),
                          'first_position': report['first_position'], 'chi_square': report['chi_square'],
                          'rotation': report['rotation'], 'failures': report['failures'],
                          'unanswered': len(unanswered), 'unanswered_first': unanswered[:3]}
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


def lane_summary(base, scale, lane):
    """Medians and ratios of one lane's converges: base and scale labs, cold and rerun, wall time
    split into the roles' part and verify's, controller CPU per managed host."""
    runs = {'': [x for x in base if x['lane'] == lane], 'scale_': [x for x in scale if x['lane'] == lane]}
    s = {'runs': len(runs['']), 'scale_runs': len(runs['scale_'])}
    for prefix, chosen in runs.items():
        for key in ('cold_s', 'rerun_s', 'cold_roles_s', 'rerun_roles_s', 'cold_verify_s', 'rerun_verify_s', 'cold_cpu_s', 'rerun_cpu_s'):
            s[prefix + key] = median(chosen, key)
        for key in ('cold_cpu_per_host_s', 'rerun_cpu_per_host_s'):
            s[prefix + key] = median(chosen, key, 2)
    s['ratio_rerun_cold_roles'] = ratio(s['rerun_roles_s'], s['cold_roles_s'])
    s['ratio_rerun_cold_site'] = ratio(s['rerun_s'], s['cold_s'])
    s['ratio_rerun_cold_cpu'] = ratio(s['rerun_cpu_s'], s['cold_cpu_s'])   # what the load on the machine hardly moves
    s['ratio_scale'] = ratio(s['scale_cold_s'], s['cold_s'])
    s['ratio_scale_rerun'] = ratio(s['scale_rerun_s'], s['rerun_s'])
    s['ratio_cpu_per_host_scale'] = ratio(s['scale_cold_cpu_per_host_s'], s['cold_cpu_per_host_s'])
    s['ratio_cpu_per_host_scale_rerun'] = ratio(s['scale_rerun_cpu_per_host_s'], s['rerun_cpu_per_host_s'])
    s['slowest_cold_tasks'] = slowest_tasks(runs[''], 'cold_tasks')
    s['slowest_rerun_tasks'] = slowest_tasks(runs[''], 'rerun_tasks')
    return s


def summarise(r):
    base, scale, pairs = r['converge']['base'], r['converge']['scale'], r['converge']['settings']
    lanes = {lane: lane_summary(base, scale, lane) for lane in sorted(set(x['lane'] for x in base + scale))}
    # The figures from before the SSH lane, as they were: docker exec.
    docker = lanes.get('docker') or lane_summary([], [], 'docker')
    s = {key: docker[key] for key in ('cold_s', 'rerun_s', 'scale_cold_s', 'scale_rerun_s', 'ratio_scale', 'ratio_scale_rerun',
                                      'slowest_cold_tasks', 'slowest_rerun_tasks')}
    s['ratio_rerun_cold'] = docker['ratio_rerun_cold_site']
    s['tuned_rerun_s'], s['stock_rerun_s'] = median(pairs, 'tuned_rerun_s'), median(pairs, 'stock_rerun_s')
    s['ratio_tuned_stock'] = ratio(s['tuned_rerun_s'], s['stock_rerun_s'])
    s['lanes'], s['goals'] = lanes, GOALS
    return s


def fmt(value, unit=''):
    return 'n/a' if value is None else '%s%s' % (value, unit)


LANE_TITLES = {'docker': 'docker exec', 'ssh': 'SSH'}


def lanes_table(lanes):
    """The converge figures of each lane side by side, with issue 17's goals beside the ratios."""
    if not lanes:
        return []
    names = sorted(lanes, key=lambda x: (x != 'docker', x))
    hosts, scale_hosts = len(nodes(PRIMARIES)), len(nodes(SCALE_PRIMARIES))

    def site(lane, prefix, key):
        x = lanes[lane]
        return '%s (%s + %s)' % (fmt(x[prefix + key + '_s'], ' s'), fmt(x[prefix + key + '_roles_s']), fmt(x[prefix + key + '_verify_s']))

    def row(title, cell, goal=''):
        return '| %s | %s | %s |' % (title, ' | '.join(cell(lane) for lane in names), goal)

    lines = [
        'Converge by lane (how Ansible reaches the hosts; tuned settings, `clustered.mail.site`, medians). '
        'A site time is split into the roles (everything before verify\'s first play, ansible-playbook\'s start-up '
        'included) + verify. Controller CPU is user + system seconds of the ansible-playbook process tree '
        '(with the SSH lane\'s ControlPersist masters). Goals are issue 17\'s, set for SSH; beside the figures, not verdicts.',
        '',
        '| measure | %s | goal |' % ' | '.join(LANE_TITLES.get(n, n) for n in names),
        '|---|%s---|' % ('---|' * len(names)),
        row('runs, %d primaries / %d primaries' % (PRIMARIES, SCALE_PRIMARIES), lambda n: '%d / %d' % (lanes[n]['runs'], lanes[n]['scale_runs'])),
        row('cold, %d primaries: site s (roles + verify)' % PRIMARIES, lambda n: site(n, '', 'cold')),
        row('rerun, %d primaries: site s (roles + verify)' % PRIMARIES, lambda n: site(n, '', 'rerun')),
        row('ratio rerun / cold, roles only', lambda n: fmt(lanes[n]['ratio_rerun_cold_roles']), '<= %s' % GOALS['rerun_cold_roles']),
        row('ratio rerun / cold, whole site with verify', lambda n: fmt(lanes[n]['ratio_rerun_cold_site']), '<= %s' % GOALS['rerun_cold_site']),
        row('ratio rerun / cold, controller CPU s of the whole site', lambda n: fmt(lanes[n]['ratio_rerun_cold_cpu'])),
        row('cold, %d primaries: site s (roles + verify)' % SCALE_PRIMARIES, lambda n: site(n, 'scale_', 'cold')),
        row('rerun, %d primaries: site s (roles + verify)' % SCALE_PRIMARIES, lambda n: site(n, 'scale_', 'rerun')),
        row('ratio wall time %d / %d primaries, cold (rerun)' % (SCALE_PRIMARIES, PRIMARIES),
            lambda n: '%s (%s)' % (fmt(lanes[n]['ratio_scale']), fmt(lanes[n]['ratio_scale_rerun']))),
        row('controller CPU s per host, cold: %d hosts / %d hosts' % (hosts, scale_hosts),
            lambda n: '%s / %s' % (fmt(lanes[n]['cold_cpu_per_host_s']), fmt(lanes[n]['scale_cold_cpu_per_host_s']))),
        row('controller CPU s per host, rerun: %d hosts / %d hosts' % (hosts, scale_hosts),
            lambda n: '%s / %s' % (fmt(lanes[n]['rerun_cpu_per_host_s']), fmt(lanes[n]['scale_rerun_cpu_per_host_s']))),
        row('ratio CPU s per host, %d / %d hosts, cold (rerun)' % (scale_hosts, hosts),
            lambda n: '%s (%s)' % (fmt(lanes[n]['ratio_cpu_per_host_scale']), fmt(lanes[n]['ratio_cpu_per_host_scale_rerun'])),
            '<= %s' % GOALS['cpu_per_host_scale']),
        '',
    ]
    return lines


def markdown(r):
    s, m, t, d = r['summary'], r['machine'], r.get('throughput', {}), r.get('drain', {})
    c, st = t.get('cluster', {}), t.get('stock', {})
    rot = r.get('dns_rotation', {})
    pl = r.get('placement', {})
    f = r.get('filter', {})
    fs = f.get('saturated', {})
    budget = pl['health_interval_s'] * pl['health_failures'] + pl['ttl_s'] if pl else None
    settings_primaries = r['converge']['settings'][0]['primaries'] if r['converge']['settings'] else SCALE_PRIMARIES
    docker_base = [x for x in r['converge']['base'] if x['lane'] == 'docker']
    docker_scale = [x for x in r['converge']['scale'] if x['lane'] == 'docker']
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
        '| converge, cold, %d primaries, docker exec (median of %d) | %s |' % (PRIMARIES, len(docker_base), fmt(s['cold_s'], ' s')),
        '| converge, idempotent rerun (median of %d; tasks changed in each, every lane: %s) | %s |'
        % (len(docker_base), ', '.join(str(x['rerun_changed']) for x in r['converge']['base'] + r['converge']['scale']),
           fmt(s['rerun_s'], ' s')),
        '| ratio rerun / cold | %s |' % fmt(s['ratio_rerun_cold']),
        '| converge, cold, %d primaries, docker exec (median of %d) | %s |' % (SCALE_PRIMARIES, len(docker_scale), fmt(s['scale_cold_s'], ' s')),
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
        '| SMTP accepted/s through the MX round robin, rspamd milter on / off, back to back, %s senders (goal >= %s) | %s / %s = %s |'
        % (fmt(f.get('on', {}).get('senders')), GOALS['filter_on_off'], fmt(f.get('on', {}).get('accepted_per_s')),
           fmt(f.get('off', {}).get('accepted_per_s')), fmt(f.get('ratio_accepted'))),
        '| SMTP delivered into the store/s, rspamd on / off, %s senders | %s / %s = %s |'
        % (fmt(f.get('on', {}).get('senders')), fmt(f.get('on', {}).get('delivered_per_s')),
           fmt(f.get('off', {}).get('delivered_per_s')), fmt(f.get('ratio_delivered'))),
        '| the same with %s senders (saturated): accepted/s on / off (goal >= %s); delivered/s on / off | %s / %s = %s; %s / %s = %s |'
        % (fmt(fs.get('senders')), GOALS['filter_on_off'], fmt(fs.get('on', {}).get('accepted_per_s')),
           fmt(fs.get('off', {}).get('accepted_per_s')), fmt(fs.get('ratio_accepted')),
           fmt(fs.get('on', {}).get('delivered_per_s')), fmt(fs.get('off', {}).get('delivered_per_s')),
           fmt(fs.get('ratio_delivered'))),
        '| messages lost (accepted, never in the store), cluster / stock / rspamd on, off (saturated on, off) / drain | %s / %s / %s, %s (%s, %s) / %s |'
        % (fmt(c.get('lost')), fmt(st.get('lost')), fmt(f.get('on', {}).get('lost')), fmt(f.get('off', {}).get('lost')),
           fmt(fs.get('on', {}).get('lost')), fmt(fs.get('off', {}).get('lost')), fmt(d.get('lost'))),
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
            lines.append('| dns_rotation, rrset-order %s: queries/s; first position chi-square (df %d), p; '
                         'queries asked again (unanswered in 3 s) | %s; %s, p = %s; %s |'
                         % (order, o['chi_square']['df'], o['queries_per_s'], o['chi_square']['statistic'], o['chi_square']['p_value'],
                            o.get('unanswered', 'n/a')))
    sent = (c.get('messages'), c.get('message_bytes'), c.get('senders'), c.get('per_session'), c.get('sessions_per_server'))
    lines += ['', 'Messages: %s of %s bytes, %s parallel senders, %s per SMTP session; fsync left on '
              '(the cluster\'s Dovecot: mail_fsync = always, for the shared store; the stock one: the default, optimized). '
              'Sessions per cluster server: %s.' % sent, '']
    lines += lanes_table(s['lanes'])
    if r.get('errors'):
        lines += ['**Errors:** ' + ' / '.join(r['errors']), '']
    for key, title in (('slowest_cold_tasks', 'cold run'), ('slowest_rerun_tasks', 'idempotent rerun')):
        lines += ['The 10 slowest tasks of the %s (%d primaries, docker exec, median over the runs, profile_tasks):' % (title, PRIMARIES), '',
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
    converges = r['converge']['base'] + r['converge']['scale']
    for lane, style in (('docker', '-'), ('ssh', '--')):
        for key, label, marker in (('cold_s', 'cold', 'o'), ('rerun_s', 'idempotent rerun', 's')):
            runs = [x for x in converges if x['lane'] == lane]
            if not runs:
                continue
            xs = sorted(set(x['primaries'] for x in runs))
            ax.scatter([x['primaries'] for x in runs], [x[key] for x in runs], marker=marker, alpha=0.4)
            ax.plot(xs, [statistics.median(x[key] for x in runs if x['primaries'] == n) for n in xs], marker=marker, linestyle=style,
                    label='%s, %s (median)' % (label, LANE_TITLES[lane]))
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
    f = r.get('filter', {})
    filtered = [('filter %s' % k, f[k]) for k in ('on', 'off') if isinstance(f.get(k), dict)]
    filtered += [('filter %s, %s senders' % (k, f['saturated'].get('senders')), f['saturated'][k])
                 for k in ('on', 'off') if isinstance(f.get('saturated', {}).get(k), dict)]
    for name, t in list(r.get('throughput', {}).items()) + filtered + [('drain', r.get('drain', {}))]:
        if t.get('lost') or t.get('rejected'):
            found.append('%s: %s accepted but not in the store, %s rejected by SMTP %s'
                         % (name, t.get('lost'), t.get('rejected'), t.get('rejections', '')))
    return found


def rest(r, phase):
    """Every phase after the base converge, in order (see the module docstring)."""
    cluster = phase('throughput cluster', throughput, 'cluster', cluster_mx(), 'store', STORE_DIR)
    stock = phase('stock server', stock_server)
    r['throughput'] = {'cluster': cluster or {},
                       'stock': phase('throughput stock', throughput, 'stock', lambda: stock, 'stock', '/home/alice/Maildir') or {}}
    r['accept'] = phase('accept path', accept.for_bench) or {}
    r['drain'] = phase('drain', drain, PRIMARIES) or {}
    r['filter'] = phase('filter', filter_cost, PRIMARIES) or {}
    converge(SCALE_PRIMARIES, SCALE_RUNS, 'scale', r['converge']['scale'])
    # On the larger lab when there is one: a failure then moves a smaller share.
    r['placement'] = phase('placement', placement, SCALE_PRIMARIES if SCALE_RUNS else PRIMARIES) or {}
    # The rest on the larger lab when there is one: more hosts than stock forks, more records to rotate.
    lab = r['converge']['scale'] or r['converge']['base']
    tuned = [x['rerun_s'] for x in r['converge']['scale'] if x['lane'] == 'docker']
    r['converge']['settings'] = compare_settings(lab[-1]['primaries'], STOCK_RUNS, tuned[-1] if tuned else None)
    # Last: it leaves BIND with rrset-order random, which a rerun of site would change back.
    r['dns_rotation'] = phase('dns_rotation', dns_rotation_bench, lab[-1]['primaries'], 'tuned') or {}


def interrupted(signum, frame):
    """SIGTERM, like Ctrl-C: stop measuring, still write what was measured and remove the lab.
    (A bench started in the background of a script ignores SIGINT: SIGTERM is what stops it.)"""
    raise KeyboardInterrupt('signal %d' % signum)


def main():
    signal.signal(signal.SIGTERM, interrupted)
    os.makedirs(LOGS, exist_ok=True)
    os.makedirs(PLAY_TIMES, exist_ok=True)
    started = time.monotonic()
    r = {'machine': machine(), 'converge': {'base': [], 'scale': [], 'settings': []},
         'settings': dict({k: v for k, v in globals().items() if k.isupper() and isinstance(v, int)}, LANES=LANES)}
    r['machine']['ssh_masters_counted'] = become_subreaper()
    log('machine: %s' % r['machine'])
    lab_down()
    bench_image()
    ssh_key()
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
        converge(PRIMARIES, RUNS, 'base', r['converge']['base'])
        if ONLY == 'filter':
            r['filter'] = phase('filter', filter_cost, PRIMARIES) or {}
        elif ONLY != 'converge':
            rest(r, phase)
    except (RuntimeError, OSError) as exc:
        errors.append(str(exc))
    except KeyboardInterrupt:
        errors.append('interrupted: the results hold the runs finished before')
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
