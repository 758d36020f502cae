#!/usr/bin/env python3
"""Kill a home primary while the health timer runs and mail flows; measure and check what clients see.

Run on the controller (it kills and starts the container with the docker CLI):

    failover.py CONFIG.json

CONFIG: {"primaries": [host], "hosts": the cluster model's hosts, "dns": address,
         "containers": {host: container} (optional: the container is named as the host),
         "users": [address], "password": theirs, "ca": path, "victim": container (optional),
         "timeout": seconds, "messages": per affected user}

Checks, each a failure line in the report when broken:
  - only the victim's users move (their <user>.pop CNAME), each away from it;
  - every affected user can log in through every live primary (the time from
    the kill until that is true is the failover figure);
  - `doveadm who`, sampled on every live primary throughout, never shows a
    user on two backends at once;
  - every message accepted (250) by a live primary during the failover is
    delivered; those the victim accepted before it died, once it is back;
  - UIDVALIDITY, UIDs and keywords of the affected mailboxes are unchanged
    after the failover and after the return;
  - after the victim is started again its users move back.
Prints a JSON report; exits 1 when any check failed.
"""
import imaplib
import json
import smtplib
import ssl
import subprocess
import sys
import threading
import time
import uuid
from email.message import EmailMessage

import dns.message
import dns.query
import dns.rdatatype

sys.path.insert(0, __file__.rsplit('/', 3)[0] + '/_shared/files')
from mailbox_view import differences, set_keyword, view  # noqa: E402


def cname(server, name):
    answer = dns.query.tcp(dns.message.make_query(name + '.', 'CNAME'), server, timeout=3).answer
    return next((str(r.target).rstrip('.') for s in answer if s.rdtype == dns.rdatatype.CNAME for r in s), None)


def homes(config):
    return dict((u['address'], cname(config['dns'], u['pop'])) for u in config['users'])


def login(address, user, config):
    try:
        client = imaplib.IMAP4(address, 143, timeout=5)
        client.starttls(ssl_context=ssl.create_default_context(cafile=config['ca']))
        client.login(user['address'], user['password'])
        ok = client.select('INBOX', readonly=True)[0] == 'OK'
        client.logout()
        return ok
    except (OSError, imaplib.IMAP4.error, ssl.SSLError):
        return False


def view_served(address, user, config, report, limit=30):
    """The mailbox through ``address``, once the user is served there. During a hand-over the homes
    agents park a moving user for their hold (a few seconds): the login then answers [UNAVAILABLE], by
    design, and a client retries. Identity, not that pause, is what the caller compares; a user still
    parked after ``limit`` seconds fails it."""
    deadline = time.time() + limit
    while True:
        try:
            return view(address, user['address'], user['password'], config['ca'])
        except imaplib.IMAP4.error as exc:
            if '[UNAVAILABLE]' not in str(exc) or time.time() > deadline:
                raise
            report['parked_logins'] = report.get('parked_logins', 0) + 1
            time.sleep(1)


def who(container):
    out = subprocess.run(['docker', 'exec', container, 'doveadm', 'who', '-1'], stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, universal_newlines=True, timeout=10).stdout
    # Backends only: on 2.4 a proxying primary lists its imap-login/pop3-login
    # proxy connections too (with dest_ip), which are not a second backend.
    return set(line.split()[0] for line in out.splitlines()[1:]
               if line.strip() and not line.split()[1].endswith('-login'))


class Run(object):
    def __init__(self, config):
        self.config = config
        self.stop = threading.Event()
        self.dead = set()
        self.samples = 0
        self.overlaps = []
        self.accepted = {}
        self.accepted_by = {}
        self.send_failures = 0

    def live(self):
        return [c for c in self.config['primaries'] if c not in self.dead]

    def sampler(self):
        while not self.stop.is_set():
            seen = {}
            for host in self.live():
                try:
                    for user in who(self.config['primaries'][host]['container']):
                        seen.setdefault(user, []).append(host)
                except subprocess.SubprocessError:
                    pass
            self.samples += 1
            for user, where in seen.items():
                if len(where) > 1:
                    self.overlaps.append('%s on %s at sample %d' % (user, ', '.join(where), self.samples))
            time.sleep(0.5)

    def holder(self, user):
        """A client that stays connected, reconnecting through the next primary when its session ends."""
        turn = 0
        while not self.stop.is_set():
            live = self.live()
            address = self.config['primaries'][live[turn % len(live)]]['address']
            turn += 1
            try:
                client = imaplib.IMAP4(address, 143, timeout=5)
                client.starttls(ssl_context=ssl.create_default_context(cafile=self.config['ca']))
                client.login(user['address'], user['password'])
                client.select('INBOX', readonly=True)
                while not self.stop.is_set():
                    client.noop()
                    time.sleep(1)
                client.logout()
            except (OSError, imaplib.IMAP4.error, ssl.SSLError):
                time.sleep(0.5)

    def sender(self, users, count, subject='failover'):
        """Mail to the affected users, the way an MTA sends: the next primary when one does not answer."""
        for index in range(count):
            for user in users:
                msg = EmailMessage()
                msgid = '<failover-%s@example.org>' % uuid.uuid4().hex
                msg['From'], msg['To'], msg['Subject'], msg['Message-ID'] = (
                    'sender@example.org', user['address'], '%s %d' % (subject, index), msgid)
                msg.set_content('failover test\n')
                for container in sorted(self.config['primaries'], key=lambda c: (index + hash(c)) % 7):
                    try:
                        # 30 s: postscreen holds a new client 6 s (pregreet test) before smtpd greets it
                        with smtplib.SMTP(self.config['primaries'][container]['address'], 25, timeout=30) as smtp:
                            smtp.send_message(msg)
                        self.accepted[msgid] = user
                        self.accepted_by[msgid] = container
                        break
                    except (OSError, smtplib.SMTPException):
                        self.send_failures += 1
            time.sleep(0.5)


def delivered(config, messages, address_of):
    """The messages (Message-ID -> user) not yet in their user's INBOX, read through one primary."""
    missing = dict(messages)
    for msgid, user in list(missing.items()):
        try:
            client = imaplib.IMAP4(address_of, 143, timeout=10)
            client.starttls(ssl_context=ssl.create_default_context(cafile=config['ca']))
            client.login(user['address'], user['password'])
            client.select('INBOX', readonly=True)
            typ, data = client.uid('SEARCH', 'HEADER', 'Message-ID', msgid)
            client.logout()
            if typ == 'OK' and data and data[0]:
                del missing[msgid]
        except (OSError, imaplib.IMAP4.error, ssl.SSLError):
            pass
    return missing


def wait_delivered(config, messages, address_of, seconds=120):
    deadline = time.time() + seconds
    missing = delivered(config, messages, address_of)
    while missing and time.time() < deadline:
        time.sleep(3)
        missing = delivered(config, messages, address_of)
    return missing


def load(path):
    with open(path) as handle:
        config = json.load(handle)
    containers = config.get('containers') or {}
    config['primaries'] = dict((h, {'address': config['hosts'][h]['addresses'][0], 'fqdn': config['hosts'][h]['fqdn'],
                                    'container': containers.get(h, h)}) for h in config['primaries'])
    config['users'] = [{'address': a, 'password': config['password'],
                        'pop': '%s.pop.%s' % tuple(a.split('@'))} for a in config['users']]
    return config


def main():
    config = load(sys.argv[1])
    limit = config.get('timeout', 240)
    fqdn_of = dict((c, p['fqdn']) for c, p in config['primaries'].items())
    before = homes(config)
    counts = dict((c, sum(1 for h in before.values() if h == fqdn_of[c])) for c in config['primaries'])
    victim = config.get('victim') or max(sorted(counts), key=lambda c: counts[c])
    affected = [u for u in config['users'] if before[u['address']] == fqdn_of[victim]]
    report = {'victim': victim, 'users_total': len(config['users']), 'users_on_victim': len(affected),
              'homes_before': before, 'failures': []}
    if not affected:
        report['failures'].append('no user is homed on %s' % victim)
        print(json.dumps(report, indent=1, sort_keys=True))
        return 1
    victim_address = config['primaries'][victim]['address']
    # Mailboxes with identity to keep: seed messages, a keyword on them.
    seed = Run(config)
    seed.sender(affected, 3, 'seed')
    if wait_delivered(config, seed.accepted, victim_address, 60):
        report['failures'].append('the seed messages were not delivered')
    snapshots = {}
    for user in affected:
        set_keyword(victim_address, user['address'], user['password'], config['ca'], '$Failover', 'seed')
        snapshots[user['address']] = view(victim_address, user['address'], user['password'], config['ca'])

    run = Run(config)
    threads = [threading.Thread(target=run.sampler, daemon=True)]
    threads += [threading.Thread(target=run.holder, args=(u,), daemon=True) for u in affected]
    for thread in threads:
        thread.start()
    time.sleep(3)
    send = threading.Thread(target=run.sender, args=(affected, config.get('messages', 10)), daemon=True)
    send.start()
    time.sleep(1)
    killed = time.time()
    subprocess.run(['docker', 'kill', config['primaries'][victim]['container']], check=True, stdout=subprocess.DEVNULL)
    run.dead.add(victim)

    # Failover: every affected user served through every live primary.
    served_after = None
    while time.time() - killed < limit:
        if all(login(config['primaries'][c]['address'], u, config) for u in affected for c in run.live()):
            served_after = time.time() - killed
            break
        time.sleep(1)
    report['failover_seconds'] = round(served_after, 1) if served_after is not None else None
    if served_after is None:
        report['failures'].append('affected users not served through every live primary within %ds' % limit)
    during = homes(config)
    moved = sorted(a for a in before if during[a] != before[a])
    report['moved'] = moved
    report['homes_during'] = during
    if moved != sorted(u['address'] for u in affected):
        report['failures'].append('moved %s, expected exactly the users of %s: %s'
                                  % (moved, victim, sorted(u['address'] for u in affected)))
    if any(during[a] == fqdn_of[victim] for a in moved):
        report['failures'].append('a user still points at the dead %s' % victim)

    send.join(timeout=limit)
    # What the survivors accepted is delivered now; what the victim accepted
    # before it died waits in its queue, and is checked after its return.
    on_victim = dict((m, u) for m, u in run.accepted.items() if run.accepted_by[m] == victim)
    live_address = config['primaries'][run.live()[0]]['address']
    missing = wait_delivered(config, dict((m, u) for m, u in run.accepted.items() if m not in on_victim),
                             live_address)
    report['accepted'] = len(run.accepted)
    report['accepted_by_victim'] = len(on_victim)
    report['send_failures'] = run.send_failures
    report['not_delivered'] = dict((m, 'accepted by %s' % run.accepted_by[m]) for m in missing)
    if missing:
        report['failures'].append('%d messages accepted by a live primary were not delivered within 120s'
                                  % len(missing))

    def same_identity(stage):
        for user in affected:
            for container in run.live():
                now = view_served(config['primaries'][container]['address'], user, config, report)
                kept = {'uidvalidity': now['uidvalidity'],
                        'messages': dict((k, v) for k, v in now['messages'].items()
                                         if k in snapshots[user['address']]['messages'])}
                for line in differences('before', snapshots[user['address']], container, kept):
                    report['failures'].append('%s, %s: %s' % (stage, user['address'], line))
    same_identity('after failover')

    # The victim returns: health undrains it and its users move back.
    subprocess.run(['docker', 'start', config['primaries'][victim]['container']], check=True, stdout=subprocess.DEVNULL)
    started = time.time()
    subprocess.run(['docker', 'exec', config['primaries'][victim]['container'], 'systemctl', 'is-system-running', '--wait'],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=limit)
    run.dead.discard(victim)
    back_after = None
    while time.time() - started < limit:
        if homes(config) == before and all(login(config['primaries'][c]['address'], u, config)
                                           for u in affected for c in run.live()):
            back_after = time.time() - started
            break
        time.sleep(1)
    report['back_seconds'] = round(back_after, 1) if back_after is not None else None
    if back_after is None:
        report['failures'].append('the users of %s did not move back within %ds of its start' % (victim, limit))
    same_identity('after the return')
    missing = wait_delivered(config, run.accepted, live_address)
    report['not_delivered_after_return'] = dict((m, 'accepted by %s' % run.accepted_by[m]) for m in missing)
    if missing:
        report['failures'].append('%d accepted messages were not delivered within 120s of the return' % len(missing))
    time.sleep(3)
    run.stop.set()
    report['who_samples'] = run.samples
    report['overlaps'] = run.overlaps[:20]
    if run.overlaps:
        report['failures'].append('%d samples showed a user on two backends' % len(run.overlaps))
    if run.samples < 10:
        report['failures'].append('only %d doveadm who samples were taken' % run.samples)
    print(json.dumps(report, indent=1, sort_keys=True))
    return 1 if report['failures'] else 0


if __name__ == '__main__':
    sys.exit(main())
