# Copyright (c) clustered.mail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Deploy every example inventory as a user would, with only the lab overrides.

    python tests/examples/run.py [--slot N] [SHAPE ...]   (from lab/run-tests, or after `source lab/env.sh`)

For each ``inventory.example/<shape>``, on fresh containers: ``site`` (converge
and verify), ``site`` again (every host must report changed=0), and the
shape's own checks from outside. Then the bad-input checks. One line per
result, a table at the end, exit 1 on any failure.

The lab overrides (a second inventory source and extra vars; the example's
files are used as they are):
- connection: each host is a container ``ex-<host>``;
- addresses: the examples use documentation addresses (192.0.2.0/24,
  198.51.100.0/24, 2001:db8::/32), and 192.0.2.0/24 is the network of the
  machines this project runs on, so each one is mapped onto the lab network
  (172.30.80.0/24, fd00:30:80::/64) keeping its last part (192.0.2.11 ->
  172.30.80.11; 198.51.100.x -> 172.30.80.(100+x));
- slots: ``--slot N`` (default 0) uses its own network 172.30.(80+N).0/24,
  containers ``exN-<host>``, and volume, so that two runs of disjoint shapes
  can go at once (lab/run-tests runs two);
- the store: the data server exports, and the primaries bind-mount, a docker
  volume (no kernel NFS or CIFS client in a container, LAB.md);
- the vault: the examples' ``vault_*_password_hash`` get a real hash;
- name resolution: the example zone is not delegated to the lab's DNS
  servers, so a webmail host gets the IMAP and submission names it connects to
  in /etc/hosts (where a user's resolver would answer them).
"""

from __future__ import absolute_import, division, print_function

import base64
import ipaddress
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, 'build', 'collections'))  # lab/env.sh links this checkout there
from ansible_collections.clustered.mail.plugins.module_utils._webmail_login import Failure, login_and_list  # noqa: E402

EXAMPLES = os.path.join(ROOT, 'inventory.example')
NETWORK = SUBNET4 = SUBNET6 = VOLUME = PREFIX = None  # set per slot by use_slot()
PASSWORD = 'example-lab-pw'
# SHA512-CRYPT of PASSWORD (doveadm pw -s SHA512-CRYPT), the "vault" of the lab
HASH = None
RUN_ARGS = ['--cap-add', 'SYS_ADMIN', '--cap-add', 'DAC_READ_SEARCH', '--cap-add', 'LINUX_IMMUTABLE',
            '--cap-add', 'NET_ADMIN', '--cgroupns=host', '-v', '/sys/fs/cgroup:/sys/fs/cgroup:ro',
            '--tmpfs', '/run', '--tmpfs', '/run/lock', '--tmpfs', '/tmp']
LAB_VARS = {
    'storage_server_export_path': '/lab/store',
    'storage_mount_type': 'bind',
    'storage_mount_source': '/lab/store',
}
results = []
# The example inventories that the check-mode and bad-input checks run on.
CHECK_MODE_SHAPES = ['4-base', '6-service-specific']  # a backup MX; service-specific primaries, webmail, SMB
BAD_INPUT_SHAPE = '6-service-specific'


def use_slot(slot):
    """The lab network, subnets, volume and container prefix of one slot (see the module docstring)."""
    global NETWORK, SUBNET4, SUBNET6, VOLUME, PREFIX
    suffix = '-%d' % slot if slot else ''
    NETWORK = 'clustered-mail-examples' + suffix
    SUBNET4, SUBNET6 = '172.30.%d.0/24' % (80 + slot), 'fd00:30:%d::/64' % (80 + slot)
    VOLUME = 'clustered-mail-examples-store' + suffix
    PREFIX = 'ex%s-' % (slot or '')


def say(message):
    print(message, flush=True)


def run(argv, check=True, **kwargs):
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True,
                          check=False, **kwargs)
    if check and proc.returncode != 0:
        raise RuntimeError('%s failed (rc=%d):\n%s' % (' '.join(argv[:3]), proc.returncode, proc.stdout[-3000:]))
    return proc


def record(shape, check, ok, detail=''):
    results.append((shape, check, ok, detail))
    say('%s %s: %s%s' % ('ok  ' if ok else 'FAIL', shape, check, (' (%s)' % detail) if detail else ''))


def lab_address(address):
    ip = ipaddress.ip_address(address)
    if ip.version == 6:
        return str(ipaddress.ip_address(SUBNET6.split('/', maxsplit=1)[0]) + int(ip) % 65536)
    last = int(str(ip).rsplit('.', maxsplit=1)[-1])
    if ip in ipaddress.ip_network('198.51.100.0/24'):
        last += 100
    return SUBNET4.rsplit('.', 1)[0] + '.%d' % last


def example_hosts(inventory):
    """{host: {'addresses': [...], 'groups': [...]}} from the example's hosts.yml."""
    with open(os.path.join(inventory, 'hosts.yml')) as handle:
        data = yaml.safe_load(handle)
    hosts = {}

    def walk(group, node):
        node = node or {}
        for host, hv in (node.get('hosts') or {}).items():
            entry = hosts.setdefault(host, {'addresses': [], 'groups': []})
            hv = hv or {}
            if hv.get('mail_cluster_addresses'):
                entry['addresses'] = [str(a) for a in hv['mail_cluster_addresses']]
            if group != 'all':
                entry['groups'].append(group)
        for child, sub in (node.get('children') or {}).items():
            walk(child, sub)
    walk('all', data.get('all'))
    return hosts


def container(host):
    return PREFIX + host.split('.')[0]


def up(hosts, image):
    run(['docker', 'rm', '-f'] + [container(h) for h in hosts], check=False)
    if run(['docker', 'network', 'inspect', NETWORK], check=False).returncode != 0:
        run(['docker', 'network', 'create', '--subnet', SUBNET4, '--ipv6', '--subnet', SUBNET6, NETWORK])
    run(['docker', 'volume', 'rm', '-f', VOLUME], check=False)
    run(['docker', 'volume', 'create', VOLUME])
    for host, info in hosts.items():
        mapped = [lab_address(a) for a in info['addresses']]
        v4 = [a for a in mapped if ':' not in a]
        v6 = [a for a in mapped if ':' in a]
        argv = ['docker', 'run', '-d', '--name', container(host), '--hostname', host.split('.')[0],
                '--network', NETWORK, '--ip', v4[0]] + (['--ip6', v6[0]] if v6 else []) + RUN_ARGS
        run(argv + ['-v', VOLUME + ':/lab/store', image, '/lib/systemd/systemd'])
    for host in hosts:
        for dummy in range(60):
            state = run(['docker', 'exec', container(host), 'systemctl', 'is-system-running'], check=False).stdout.strip()
            if state in ('running', 'degraded'):
                break
            time.sleep(1)


def down(hosts):
    if os.environ.get('EXAMPLES_KEEP'):  # leave the containers for a look after a failure
        return
    names = [container(h) for h in hosts]
    if names:
        run(['docker', 'rm', '-f'] + names, check=False)


def resolve_for_webmail(inventory, hosts):
    """/etc/hosts on the mail_webmail hosts: imap.<domain> and submission.<domain> (see the module docstring)."""
    webmail = by_group(hosts, 'mail_webmail')
    if not webmail:
        return
    with open(os.path.join(inventory, 'group_vars', 'all.yml')) as handle:
        cluster = yaml.safe_load(handle)
    services = cluster.get('mail_cluster_services') or {}
    primaries = by_group(hosts, 'mail_primaries')
    lines = []
    for name, members in (('imap', services.get('imap') or primaries),
                          ('submission', services.get('submission') or services.get('smtp') or primaries)):
        lines.append('%s %s.%s' % (lab_address(hosts[members[0]]['addresses'][0]), name, cluster['mail_cluster_domain']))
    for host in webmail:
        in_container(host, ['sh', '-c', 'cat >> /etc/hosts'], stdin='\n'.join(lines) + '\n')


def override(hosts, workdir, extra=None):
    """The lab's second inventory source: connection and mapped addresses, per host."""
    data = {'all': {'hosts': dict((h, {'ansible_connection': 'community.docker.docker',
                                       'ansible_host': container(h),
                                       'mail_cluster_addresses': [lab_address(a) for a in info['addresses']]})
                                  for h, info in hosts.items())}}
    path = os.path.join(workdir, 'lab.yml')
    with open(path, 'w') as handle:
        yaml.safe_dump(data, handle)
    variables = dict(LAB_VARS, **(extra or {}))
    vars_path = os.path.join(workdir, 'lab-vars.json')
    with open(vars_path, 'w') as handle:
        json.dump(variables, handle)
    return path, vars_path


LOGS = os.path.join(ROOT, 'build', 'logs', 'examples')


def playbook(inventory, lab, lab_vars, name, *args):
    """Run a playbook of the collection; its whole output goes to build/logs/examples/."""
    argv = ['ansible-playbook', '-i', inventory, '-i', lab, '-e', '@' + lab_vars,
            'clustered.mail.%s' % name] + list(args)
    started = time.time()
    proc = run(argv, check=False, cwd=ROOT)
    os.makedirs(LOGS, exist_ok=True)
    log = os.path.join(LOGS, '%s-%s-%d.log' % (os.path.basename(inventory), name, int(started)))
    with open(log, 'w') as handle:
        handle.write(' '.join(argv) + '\n' + proc.stdout)
    say('  (%s: %s)' % (name, os.path.relpath(log, ROOT)))
    return proc, time.time() - started


def changed_tasks(output):
    """Each change a run reported, after the task or handler that made it: what a failed rerun must show."""
    task, lines = None, []
    for line in output.splitlines():
        if line.startswith(('TASK [', 'RUNNING HANDLER [')):
            task = line.rstrip('* ')
        elif line.startswith('changed:'):
            lines.append('%s -> %s' % (task, line))
    return lines


def recap(output):
    """{host: {'ok': n, 'changed': n, 'failed': n, ...}} from the last PLAY RECAP."""
    part = output.rsplit('PLAY RECAP', 1)[-1]
    result = {}
    for line in part.splitlines():
        match = re.match(r'^(\S+)\s+:\s+(.*)$', line.strip())
        if match:
            result[match.group(1)] = dict((k, int(v)) for k, v in re.findall(r'(\w+)=(\d+)', match.group(2)))
    return result


def vault_vars(inventory):
    """The example's vault_*_password_hash variables, given the lab's real hash (as a vault would)."""
    names = set()
    for directory, dummy, files in os.walk(inventory):
        for name in files:
            with open(os.path.join(directory, name)) as handle:
                names.update(re.findall(r'^(vault_\w+_password_hash):', handle.read(), re.M))
    return dict((n, HASH) for n in names)


def secrets(inventory, lab_vars):
    """{name: value} of every secret this deployment knows: the vault values and extra vars that name a password
    or secret, and each generated secret beside the cluster CA (a key file by each line of its body)."""
    with open(lab_vars) as handle:
        found = dict((k, v) for k, v in json.load(handle).items()
                     if isinstance(v, str) and re.search(r'password|secret|_key$', k))
    for directory in (os.path.dirname(CURRENT['ca']),) if CURRENT.get('ca') else ():
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if name.endswith(('.crt', '.csr')) or not os.path.isfile(path):
                continue  # certificates and requests are public
            with open(path) as handle:
                text = handle.read()
            lines = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith('-----')]
            public = public_part(text)
            for number, line in enumerate(lines):
                if line in public:
                    continue  # a private key's PEM also carries its public key, which output may show
                found['%s line %d' % (name, number + 1) if len(lines) > 1 else name] = line
    return dict((k, v) for k, v in found.items() if len(v) >= 8)  # nothing that short is a secret worth the name


def public_part(text):
    """The base64 of the public key inside a PEM private key ('' for anything else), lines joined."""
    if 'PRIVATE KEY-----' not in text:
        return ''
    from cryptography.hazmat.primitives import serialization
    key = serialization.load_pem_private_key(text.encode(), password=None)
    pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return ''.join(line for line in pem.decode().splitlines() if not line.startswith('-----'))


def no_secret_in(shape, hosts, output, known):
    """Attack 13: the -vvv output of site, and each host's journal (where modules log their arguments), are grepped
    for every secret of the deployment; each must be absent. Only the secrets' names are ever printed."""
    places = {'site -vvv output': output}
    for host in hosts:
        places['journal of %s' % host] = in_container(host, ['journalctl', '--no-pager', '-o', 'cat']).stdout
    for place, text in sorted(places.items()):
        leaked = sorted(name for name, value in known.items() if value in text)
        refused = not leaked
        say('ATTACK %s | 13 | %s: %s holds none of the %d secrets of the inventory%s'
            % ('refused' if refused else 'ACCEPTED', shape, place, len(known),
               '' if refused else ' (found: %s)' % ', '.join(leaked)))
        record(shape, '%s holds no secret' % place, refused, ', '.join(leaked) or '%d secrets looked for' % len(known))
        if leaked and place == 'site -vvv output':
            task = None
            for line in text.splitlines():
                if line.startswith(('TASK [', 'RUNNING HANDLER [')):
                    task = line.rstrip('* ')
                elif any(known[name] in line for name in leaked):
                    say('  leaked in %s' % task)
                    task = None


def deploy(shape, extra=None, checks=None, image='clustered-mail/mail:12'):
    inventory = os.path.join(EXAMPLES, shape)
    hosts = example_hosts(inventory)
    workdir = tempfile.mkdtemp(prefix='examples-%s-' % shape)
    lab, lab_vars = override(hosts, workdir, dict(vault_vars(inventory), **(extra or {})))
    up(hosts, image)
    resolve_for_webmail(inventory, hosts)
    try:
        proc, cold = playbook(inventory, lab, lab_vars, 'site')
        # the cluster CA and the generated secrets, beside the inventory (inventory_dir)
        CURRENT['ca'] = [p for p in (os.path.join(d, '.clustered_mail_ca', 'ca.crt') for d in (inventory, workdir))
                         if os.path.exists(p)][0] if proc.returncode == 0 else None
        counts = recap(proc.stdout)
        ok = proc.returncode == 0 and counts and all(
            c.get('failed', 0) == 0 and c.get('unreachable', 0) == 0 for c in counts.values())
        record(shape, 'site converges and verify passes', ok, '%.0f s' % cold)
        if not ok:
            say(proc.stdout[-6000:])
            return
        # The rerun at -vvv: what a user pastes into a ticket must hold no secret (issue 14, attack 13).
        proc, warm = playbook(inventory, lab, lab_vars, 'site', '-vvv')
        no_secret_in(shape, hosts, proc.stdout, secrets(inventory, lab_vars))
        counts = recap(proc.stdout)
        changed = dict((h, c.get('changed', 0)) for h, c in counts.items() if c.get('changed', 0))
        record(shape, 'a rerun reports changed=0', proc.returncode == 0 and not changed,
               '%.0f s, changed: %s' % (warm, changed or 0))
        if changed or proc.returncode:
            say('\n'.join(changed_tasks(proc.stdout))[-4000:])
        timings.append((shape, cold, warm, sum(changed.values()) if changed else 0))
        CURRENT['playbook'] = (inventory, lab, lab_vars)
        for check in checks or []:
            try:
                check(shape, hosts)
            except Exception as exc:  # one failed check must not hide the others
                record(shape, check.__doc__.strip().splitlines()[0], False, str(exc)[:500])
    finally:
        down(hosts)


def by_group(hosts, group):
    return [h for h, info in hosts.items() if group in info['groups']]


def dig(server, name, rtype):
    import dns.message
    import dns.query
    query = dns.message.make_query(name, rtype)
    answer = dns.query.udp(query, server, timeout=5)
    return sorted(str(r).split()[-1] if rtype == 'MX' else str(r) for rrset in answer.answer for r in rrset)


def dns_server(hosts):
    return lab_address(hosts[by_group(hosts, 'mail_dns')[0]]['addresses'][0])


def in_container(host, argv, stdin=None):
    return run(['docker', 'exec', '-i', container(host)] + argv, input=stdin)


def check_shape6_names(shape, hosts):
    """MX and the mail name list only the SMTP hosts"""
    server = dns_server(hosts)
    smtp = ['in1.example.com', 'in2.example.com']
    mx = dig(server, 'example.com', 'MX')
    mail = dig(server, 'mail.example.com', 'A')
    want = sorted(lab_address(hosts[h]['addresses'][0]) for h in smtp)
    ok = mx == sorted(h + '.' for h in smtp) and mail == want
    record(shape, 'MX and mail. list only the SMTP hosts', ok, 'MX %s, mail A %s' % (mx, mail))
    imap = dig(server, 'imap.example.com', 'A')
    record(shape, 'imap. lists only the IMAP host', imap == [lab_address(hosts['imap1.example.com']['addresses'][0])],
           'imap A %s' % imap)


def check_shape6_flow(shape, hosts):
    """a mail sent in through an SMTP host is read through the IMAP host and through webmail"""
    client = by_group(hosts, 'mail_dns')[0]  # any container with python3 on the lab network
    smtp_host = lab_address(hosts['in2.example.com']['addresses'][0])
    imap_host = lab_address(hosts['imap1.example.com']['addresses'][0])
    subject = 'examples-shape6-%d' % int(time.time())
    script = r'''
import imaplib, smtplib, ssl, sys, time
smtp_host, imap_host, subject, password = sys.argv[1:5]
with smtplib.SMTP(smtp_host, 25, timeout=20) as s:
    s.ehlo('client.example.test')
    s.sendmail('sender@example.org', ['alice@example.com'],
               'From: sender@example.org\r\nTo: alice@example.com\r\nSubject: %s\r\n\r\nshape 6\r\n' % subject)
ctx = ssl.create_default_context(cafile='/tmp/examples-ca.crt')
ctx.check_hostname = False
for attempt in range(60):
    imap = imaplib.IMAP4(imap_host, 143)
    imap.starttls(ssl_context=ctx)
    imap.login('alice@example.com', password)
    imap.select('INBOX', readonly=True)
    typ, data = imap.search(None, 'SUBJECT', '"%s"' % subject)
    imap.logout()
    if data and data[0].split():
        print('read through IMAP after %d s' % attempt)
        sys.exit(0)
    time.sleep(1)
sys.exit('not delivered to alice within 60 s')
'''
    with open(CURRENT['ca']) as handle:
        in_container(client, ['sh', '-c', 'cat > /tmp/examples-ca.crt'], stdin=handle.read())
    out = in_container(client, ['python3', '-c', script, smtp_host, imap_host, subject, PASSWORD]).stdout.strip()
    record(shape, 'a mail sent in through an SMTP host is read through the IMAP host', True, out)
    # The collection's own login (verify's webmail_login module), from the controller, by address.
    web = lab_address(hosts['web1.example.com']['addresses'][0])
    try:
        report = login_and_list('https://webmail.example.com/', 'alice@example.com', PASSWORD, cafile=CURRENT['ca'],
                                address=web, expect_subjects=[subject], check_redirect=True)
        record(shape, 'webmail over HTTPS logs in and lists that mail', True,
               '%s listed by Roundcube at %s' % (report['subjects'], web))
    except Failure as exc:
        record(shape, 'webmail over HTTPS logs in and lists that mail', False, str(exc))


def readme_tags():
    """The tags of README's "Tags" table, in its order."""
    with open(os.path.join(ROOT, 'README.md')) as handle:
        section = handle.read().split('\n### Tags\n', 1)[1].split('\n## ', 1)[0]
    tags = re.findall(r'^\| `([a-z]+)` \|', section, re.MULTILINE)
    assert len(tags) >= 5, 'README.md: no tags table under "### Tags"'
    return tags


def check_tags(shape, hosts):
    """site --tags T runs and changes nothing on the deployed cluster, for every tag README lists"""
    failed, took = [], []
    for tag in readme_tags():
        proc, seconds = playbook(*CURRENT['playbook'], 'site', '--tags', tag)
        counts = recap(proc.stdout)
        changed = dict((h, c['changed']) for h, c in counts.items() if c.get('changed'))
        took.append('%s %.0f s' % (tag, seconds))
        if proc.returncode or not counts or changed:
            failed.append('--tags %s: rc %d, changed %s' % (tag, proc.returncode, changed or 0))
            fatal = [line for line in proc.stdout.splitlines() if line.startswith('fatal:')]
            say('\n'.join(changed_tasks(proc.stdout) + fatal)[-3000:])
    record(shape, check_tags.__doc__.strip(), not failed, '; '.join(failed or took))


def bad_input():
    """Each refusal happens in the first play: changed=0 on every host, and the message names the fix."""
    shape = BAD_INPUT_SHAPE
    inventory = os.path.join(EXAMPLES, shape)
    hosts = example_hosts(inventory)
    workdir = tempfile.mkdtemp(prefix='examples-bad-')
    # Every other secret the controller would generate is given, so that the SMB password is the one missing
    # (the preflight stops at the first host that refuses).
    given = dict((name, base64.b64encode(os.urandom(32)).decode())
                 for name in ('bind_dns_tsig_secret', 'bind_dns_transfer_secret', 'mail_cluster_health_password'))
    lab, lab_vars = override(hosts, workdir, dict(vault_vars(inventory), mail_cluster_generate_secrets=False, **given))
    up(hosts, 'clustered-mail/mail:12')
    try:
        before = snapshot(hosts)
        proc, dummy = playbook(inventory, lab, lab_vars, 'site')
        counts = recap(proc.stdout)
        changed = sum(c.get('changed', 0) for c in counts.values())
        record('bad-input', 'a missing SMB password is refused before any change',
               proc.returncode != 0 and 'storage_server_smb_password is not set' in proc.stdout and changed == 0
               and snapshot(hosts) == before, 'rc=%d, changed=%d' % (proc.returncode, changed))
    finally:
        down(hosts)
    # shape 3 without its data server: two primaries and no mail_storage host
    shape = '3-load-balanced'
    source = os.path.join(EXAMPLES, shape)
    copy = os.path.join(workdir, shape)
    run(['cp', '-r', source, copy])
    with open(os.path.join(copy, 'hosts.yml')) as handle:
        data = yaml.safe_load(handle)
    del data['all']['children']['mail_storage']
    with open(os.path.join(copy, 'hosts.yml'), 'w') as handle:
        yaml.safe_dump(data, handle)
    hosts = example_hosts(copy)
    lab, lab_vars = override(hosts, workdir, vault_vars(copy))
    up(hosts, 'clustered-mail/mail:13')
    try:
        before = snapshot(hosts)
        proc, dummy = playbook(copy, lab, lab_vars, 'site')
        changed = sum(c.get('changed', 0) for c in recap(proc.stdout).values())
        record('bad-input', 'two primaries without a data server are refused before any change',
               proc.returncode != 0 and 'group mail_storage is empty while mail_primaries has 2 hosts' in proc.stdout
               and changed == 0 and snapshot(hosts) == before, 'rc=%d, changed=%d' % (proc.returncode, changed))
    finally:
        down(hosts)


# Paths that change without any configuration change: Ansible's own temporary
# files, logs, caches (the package lists too), runtime state.
_VOLATILE = re.compile(r'^(/root/\.ansible|/tmp|/run|/var/log|/var/cache|/var/lib/apt/lists|/var/lib/systemd|/var/tmp'
                       r'|/root$|/var/lib$|/var/lib/apt$)')


def snapshot(hosts):
    """What differs from the image in each container (docker diff), volatile paths aside."""
    result = {}
    for host in hosts:
        lines = run(['docker', 'diff', container(host)]).stdout.splitlines()
        result[host] = sorted(l for l in lines if not _VOLATILE.match(l.split(' ', 1)[-1]))
    return result


def check_mode(shape):
    """--check --diff on brand-new containers runs to the end and changes nothing on them."""
    inventory = os.path.join(EXAMPLES, shape)
    hosts = example_hosts(inventory)
    workdir = tempfile.mkdtemp(prefix='examples-check-')
    lab, lab_vars = override(hosts, workdir, vault_vars(inventory))
    up(hosts, 'clustered-mail/mail:13')
    try:
        before = snapshot(hosts)
        proc, took = playbook(inventory, lab, lab_vars, 'site', '--check', '--diff')
        counts = recap(proc.stdout)
        would = sum(c.get('changed', 0) for c in counts.values())
        after = snapshot(hosts)
        touched = dict((h, sorted(set(after[h]) - set(before[h]))[:5]) for h in hosts if after[h] != before[h])
        record('check-mode', '%s: --check --diff on fresh containers passes and touches nothing' % shape,
               proc.returncode == 0 and not touched,
               'rc=%d, %.0f s, would change %d tasks, touched: %s' % (proc.returncode, took, would, touched or 'nothing'))
        if proc.returncode:
            say(proc.stdout[-6000:])
    finally:
        down(hosts)


timings = []
CURRENT = {}


def main(argv):
    global HASH
    slot = 0
    if argv[:1] == ['--slot']:
        slot, argv = int(argv[1]), argv[2:]
    use_slot(slot)
    HASH = run(['docker', 'run', '--rm', 'clustered-mail/mail:12', 'doveadm', 'pw', '-s', 'SHA512-CRYPT', '-p', PASSWORD]
               ).stdout.strip().replace('{SHA512-CRYPT}', '')
    plan = {
        '1-standalone': {},
        '2-backup-mx': {'image': 'clustered-mail/mail:13'},
        '3-load-balanced': {},
        '4-base': {'image': 'clustered-mail/mail:13'},
        '5-cluster': {},
        '6-service-specific': {'image': 'clustered-mail/mail:13',
                               'extra': {'mail_cluster_verify_roundtrip': True,
                                         'mail_cluster_verify_user': 'alice@example.com',
                                         'mail_cluster_verify_password': PASSWORD},
                               'checks': [check_shape6_names, check_shape6_flow, check_tags]},
    }
    wanted = argv or sorted(plan) + ['check-mode', 'bad-input']
    # a new user's first run: no CA and no generated secrets yet (only in the
    # inventories this run uses: another slot may be using the others)
    uses = {'check-mode': CHECK_MODE_SHAPES, 'bad-input': [BAD_INPUT_SHAPE]}
    for shape in sorted(set(sum((uses.get(w, [w]) for w in wanted), []))):
        run(['rm', '-rf', os.path.join(EXAMPLES, shape, '.clustered_mail_ca')])
    started = time.time()
    for shape in wanted:
        try:
            if shape == 'check-mode':
                for each in CHECK_MODE_SHAPES:
                    check_mode(each)
            elif shape == 'bad-input':
                bad_input()
            else:
                spec = plan[shape]
                deploy(shape, spec.get('extra'), spec.get('checks'), spec.get('image', 'clustered-mail/mail:12'))
        except Exception as exc:
            record(shape, 'the lane itself', False, str(exc)[:2000])
    run(['docker', 'volume', 'rm', '-f', VOLUME], check=False)
    run(['docker', 'network', 'rm', NETWORK], check=False)
    say('\n| shape | site (converge + verify) | rerun | rerun changed |\n|---|---|---|---|')
    for shape, cold, warm, changed in timings:
        say('| %s | %.0f s | %.0f s | %d |' % (shape, cold, warm, changed))
    failed = [r for r in results if not r[2]]
    say('\n%d passed, %d failed in %.0f s' % (len(results) - len(failed), len(failed), time.time() - started))
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
