// What the guest image runs as /init (busybox sh), and the kernel modules it loads. The guest takes
// its address from the kernel command line, mounts the host's root read-only over 9p at /host (so
// the host's node, sockperf and iperf3 run in the guest by chroot, nothing copied), and serves one
// control loop per virtio-serial port: the protocol is in channel-protocol.ts.

/** Modules in load order (dependencies first), as named in the Debian kernel package. */
export const GUEST_MODULES = [
  "kernel/net/core/failover",
  "kernel/drivers/net/net_failover",
  "kernel/drivers/virtio/virtio_ring",
  "kernel/drivers/virtio/virtio",
  "kernel/drivers/virtio/virtio_pci_modern_dev",
  "kernel/drivers/virtio/virtio_pci_legacy_dev",
  "kernel/drivers/virtio/virtio_pci",
  "kernel/drivers/net/virtio_net",
  "kernel/drivers/char/virtio_console",
  "kernel/fs/netfs/netfs",
  "kernel/fs/fscache/fscache",
  "kernel/net/9p/9pnet",
  "kernel/net/9p/9pnet_virtio",
  "kernel/fs/9p/9p",
] as const;

/** The line /init prints on the console once the network and the control ports are up. */
export const GUEST_READY = "vnetbench-guest-ready";

/** Kernel command line keys /init reads. */
export const CMDLINE = { address: "vnb.ip", gateway: "vnb.gw", mtu: "vnb.mtu" } as const;

export const INIT_SCRIPT = `#!/bin/busybox sh
/bin/busybox --install -s /bin
# The host's tools (ip, ethtool, sysctl, taskset) are found in its /usr/sbin once chrooted.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/vnetbench-modules); do
  insmod "/lib/modules/$m.ko" || echo "vnetbench-init: insmod $m failed"
done
arg() { for a in $(cat /proc/cmdline); do case "$a" in "$1="*) echo "\${a#*=}"; return;; esac; done; }
echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6
ip link set lo up
mtu=$(arg ${CMDLINE.mtu})
[ -n "$mtu" ] && ip link set eth0 mtu "$mtu"
ip addr add "$(arg ${CMDLINE.address})" dev eth0
ip link set eth0 up
ip route add default via "$(arg ${CMDLINE.gateway})"
mkdir -p /host
if mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=262144 hostroot /host; then
  mount -t proc proc /host/proc
  mount -t sysfs sysfs /host/sys
  mount -t devtmpfs devtmpfs /host/dev
  # /tmp stays the host's (read-only): the project may live under it. Scratch files go to /run.
  mount -t tmpfs tmpfs /host/run
  export TMPDIR=/run
  root=/host
else
  echo "vnetbench-init: no host root over 9p: commands run in the initramfs"
  root=/
fi
# The host root is read-only to the guest and cached (cache=loose): a command costs milliseconds, not a
# 9p round trip per file read.
# One command per line: "NONCE MODE LINE". The command (a POSIX shell line, base64-encoded when the
# mode is upper case) runs in the host's root; its PID, then its stdout, stream back on the port;
# then "\\001NONCE rc CODE ERRBYTES\\n" and its stderr. Mode s gives it the port as stdin (a control
# stream), x gives it /dev/null. Waiting uses read -t on a fifo nobody writes: no fork per wait.
mkfifo /tmp/idle
serve() {
  exec 3<>"$1" 4<>/tmp/idle
  err=/tmp/err.\${1##*/}
  while :; do
    IFS=' ' read -r nonce mode cmd <&3 || { read -t 0.3 _ <&4; continue; }
    case "$mode" in
      X|S) cmd=$(echo "$cmd" | base64 -d) ;;
      x|s) ;;
      *) continue ;;
    esac
    run='echo "$0 pid $$"; eval "$1"'
    if [ "$mode" = s ] || [ "$mode" = S ]; then
      chroot $root /bin/sh -c "$run" "$nonce" "$cmd" <&3 >&3 2>$err
    else
      chroot $root /bin/sh -c "$run" "$nonce" "$cmd" </dev/null >&3 2>$err
    fi
    rc=$?
    if [ -s $err ]; then
      printf '\\001%s rc %s %s\\n' "$nonce" "$rc" "$(wc -c <$err)" >&3
      cat $err >&3
    else
      printf '\\001%s rc %s 0\\n' "$nonce" "$rc" >&3
    fi
  done
}
for port in /dev/vport*p*; do serve "$port" & done
echo "${GUEST_READY} $(uname -r)"
while :; do sleep 3600; done
`;
