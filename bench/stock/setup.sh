#!/bin/sh
# Runs inside bench-stock (docker exec -i bench-stock sh -s < setup.sh):
# ONE stock Postfix + Dovecot from Debian's packages, configured the way their
# documentation shows, to compare the cluster with. Postfix delivers to Dovecot
# LMTP, Dovecot writes Maildir; fsync is left at the packages' defaults.
set -eu
useradd -m -s /usr/sbin/nologin alice
# The image was built with debconf "No configuration": start from Debian's main.cf.
cp /usr/share/postfix/main.cf.debian /etc/postfix/main.cf
echo stock.example.test >/etc/mailname
postconf -e \
  'myhostname = stock.example.test' \
  'mydestination = example.test, stock.example.test, localhost' \
  'inet_interfaces = all' \
  'mailbox_transport = lmtp:unix:private/dovecot-lmtp'
cat >/etc/dovecot/conf.d/99-bench.conf <<'CONF'
mail_location = maildir:~/Maildir
# Postfix passes user@domain; the system user is the local part.
auth_username_format = %Ln
service lmtp {
  unix_listener /var/spool/postfix/private/dovecot-lmtp {
    mode = 0600
    user = postfix
    group = postfix
  }
}
CONF
newaliases
systemctl enable --now dovecot postfix >/dev/null 2>&1
systemctl restart dovecot postfix
postfix check
doveconf -n >/dev/null
