# machine.sh -- a throwaway machine with systemd as PID 1 (systemd-nspawn),
# for the tests that need the packaged units run as systemd runs them:
# socket activation, Type=notify, User= and the sandboxing options. Source
# it.
#
# Its root is an overlay over this host's own /: it sees what is installed
# here, and what it writes stays in the overlay's upper directory, never
# on the host. It shares the host's network (so it reaches a Keystone on
# 127.0.0.1), and therefore boots only to basic.target: none of the host's
# network services (sshd, nginx, etcd, keystone, ...) start inside it.
#
#   machine_boot DIR   boots a machine kept in DIR (created); 0 once it is
#                      up, 77 when this host cannot run one (no
#                      systemd-nspawn, not root, no overlayfs), 1 when it
#                      did not come up (MACHINE_LOG says why)
#   machine CMD...     runs CMD inside, as root, with this environment
#   machine_halt       powers it off, unmounts and removes DIR; safe to
#                      call twice and from an EXIT trap

MACHINE_DIR=
MACHINE_NSPAWN=
MACHINE_PID=
MACHINE_LOG=
MACHINE_NAME=
machine_made_inaccessible=0

machine() { nsenter -t "$MACHINE_PID" -a "$@"; }

machine_boot() {
    local _ state
    command -v systemd-nspawn >/dev/null && command -v nsenter >/dev/null && [ "$(id -u)" = 0 ] || return 77
    grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || return 77
    MACHINE_DIR=$1
    MACHINE_LOG=$1/nspawn.log
    MACHINE_NAME=kaas-test-$$
    mkdir -p "$1/upper" "$1/work" "$1/root" || return 1
    mount -t overlay overlay -o "lowerdir=/,upperdir=$1/upper,workdir=$1/work" "$1/root" || return 77
    # what systemd as PID 1 would have made on the host, and nspawn needs
    if [ ! -e /run/systemd/inaccessible ]; then
        machine_made_inaccessible=1
        mkdir -p /run/systemd/inaccessible && (
            cd /run/systemd/inaccessible &&
                install -m 0000 /dev/null reg && mkdir -m 0000 dir && mkfifo -m 0000 fifo &&
                mknod -m 0000 chr c 0 0 && mknod -m 0000 blk b 0 0
        ) || return 1
    fi
    # --keep-unit and --register=no: no system bus here to ask for a scope
    systemd-nspawn -D "$1/root" -M "$MACHINE_NAME" --register=no --keep-unit --console=pipe \
        -b systemd.unit=basic.target >"$MACHINE_LOG" 2>&1 </dev/null &
    MACHINE_NSPAWN=$!
    for _ in $(seq 600); do
        MACHINE_PID=$(pgrep -P "$MACHINE_NSPAWN" -x systemd | head -n 1)
        [ -n "$MACHINE_PID" ] && break
        kill -0 "$MACHINE_NSPAWN" 2>/dev/null || return 1
        sleep 0.1
    done
    [ -n "$MACHINE_PID" ] || return 1
    # systemctl answers once systemd's private socket is up
    for _ in $(seq 1200); do
        state=$(nsenter -t "$MACHINE_PID" -a systemctl is-system-running 2>/dev/null)
        case $state in
        running | degraded) return 0 ;;
        esac
        kill -0 "$MACHINE_NSPAWN" 2>/dev/null || break
        sleep 0.1
    done
    echo "# the machine's systemd did not come up: ${state:-no answer}" >>"$MACHINE_LOG"
    return 1
}

machine_halt() {
    if [ -n "$MACHINE_NSPAWN" ]; then
        # nspawn turns SIGTERM into a clean poweroff of the machine
        kill -TERM "$MACHINE_NSPAWN" 2>/dev/null
        timeout 60 tail --pid="$MACHINE_NSPAWN" -f /dev/null
        kill -KILL "$MACHINE_NSPAWN" 2>/dev/null
        wait "$MACHINE_NSPAWN" 2>/dev/null
        MACHINE_NSPAWN=
    fi
    MACHINE_PID=
    if [ -n "$MACHINE_DIR" ]; then
        mountpoint -q "$MACHINE_DIR/root" && { umount "$MACHINE_DIR/root" 2>/dev/null || umount -l "$MACHINE_DIR/root"; }
        rm -rf --one-file-system "/run/systemd/nspawn/propagate/$MACHINE_NAME" "$MACHINE_DIR"
        MACHINE_DIR=
    fi
    if [ "$machine_made_inaccessible" = 1 ]; then
        rm -rf /run/systemd/inaccessible
        machine_made_inaccessible=0
    fi
}
