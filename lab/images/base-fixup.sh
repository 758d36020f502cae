# Runs inside the fresh debootstrap root (chroot) before `docker import`.
# Makes systemd reach `running` in a non-privileged container (LAB.md).
set -e
cat >/etc/apt/sources.list <<SRC
deb $MIRROR $CODENAME main
deb $MIRROR $CODENAME-updates main
SRC
# Units that cannot run in a container would leave systemd `degraded`.
for unit in getty@tty1.service console-getty.service serial-getty@.service \
            run-rpc_pipefs.mount systemd-remount-fs.service sys-kernel-config.mount \
            sys-kernel-debug.mount sys-kernel-tracing.mount sys-fs-fuse-connections.mount \
            systemd-firstboot.service systemd-udevd.service systemd-modules-load.service \
            proc-sys-fs-binfmt_misc.automount systemd-binfmt.service; do
  ln -sf /dev/null "/etc/systemd/system/$unit"
done
# Keep images small: no docs, no man pages, no apt caches.
cat >/etc/dpkg/dpkg.cfg.d/01-nodoc <<CFG
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
CFG
echo 'APT::Install-Recommends "false";' >/etc/apt/apt.conf.d/99norecommends
apt-get clean
rm -rf /var/lib/apt/lists/* /usr/share/doc/* /usr/share/man/*
: >/etc/machine-id
