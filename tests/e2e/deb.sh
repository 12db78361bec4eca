#!/bin/bash
# The Debian package on a real system, in CI only (root, CI=true): `make deb`
# builds it with no lintian error, `dpkg -i` installs it, the user, groups,
# folders, host key and recording key are there with DESIGN section 2's owners
# and modes, `otgated -t` passes on the installed defaults as the service's
# user, the installed otgated starts with the installed config (under systemd
# where it runs), `otgate policy check` accepts the installed example, and
# purge removes keys, user and groups but keeps the recordings, the public
# recording keys and the audit log.
# tests/run: serial (it installs and purges the package system-wide)
set -u
TOP=${TOP:-$(pwd)}
BUILD=${BUILD:-$TOP/build}

if [ "$(id -u)" -ne 0 ] || [ "${CI:-}" != true ]; then
	echo "skip: installs a package system-wide: runs only as root with CI=true"
	exit 77
fi
case $BUILD in
*/san) echo "skip: the package is built and installed once, in the plain (non-SAN) run"; exit 77 ;;
esac
if dpkg-query -W -f='${Status}' otgate 2>/dev/null | grep -q 'installed' ||
	[ -e /etc/otgate ] || [ -e /var/lib/otgate ] || [ -e /var/log/otgate ]; then
	echo "skip: otgate is already installed here (or its folders exist); not touching it"
	exit 77
fi
for f in broker/main.c pam/pam_otgate.c; do
	[ -f "$TOP/$f" ] || { echo "skip: $f does not exist yet, nothing to package"; exit 77; }
done

FAILS=0
PID=
fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	if dpkg-query -W -f='${Status}' otgate 2>/dev/null | grep -q installed; then
		dpkg --purge otgate >/dev/null 2>&1
	fi
	# what purge keeps on purpose, made by this test
	rm -rf /var/lib/otgate /var/log/otgate
	[ -n "${NOTIFY_DIR:-}" ] && rm -rf "$NOTIFY_DIR"
}
trap cleanup EXIT

echo "--- make deb"
make -C "$TOP" --no-print-directory deb || { echo "FAIL: make deb"; exit 1; }
version=$(sed -n 's/^#define OTGATE_VERSION "\(.*\)"$/\1/p' "$TOP/common/common.h")
deb=$(ls "$TOP"/build/otgate_"${version}"_*.deb 2>/dev/null | head -n 1)
[ -f "$deb" ] || { echo "FAIL: make deb left no build/otgate_${version}_*.deb"; exit 1; }

echo "--- dpkg -i $deb"
dpkg -i "$deb" || { echo "FAIL: dpkg -i $deb"; exit 1; }

for g in otgate otgate-admin otgate-audit; do
	getent group "$g" >/dev/null || fail "no group $g after installation"
done
getent passwd otgate >/dev/null || fail "no user otgate after installation"
# path, octal mode, owner, group
while read -r path mode user group; do
	st=$(stat -c '%a %U %G' "$path" 2>/dev/null)
	[ "$st" = "$mode $user $group" ] || fail "$path is '$st', expected '$mode $user $group'"
done <<-EOF
	/etc/otgate 755 root root
	/etc/otgate/otgated.conf 644 root root
	/etc/otgate/policy.conf 644 root root
	/etc/otgate/banner 644 root root
	/etc/otgate/ssh_host_ed25519_key 600 otgate otgate
	/etc/otgate/vault 700 otgate otgate
	/var/lib/otgate 2750 otgate otgate-audit
	/var/lib/otgate/totp 700 otgate otgate
	/var/lib/otgate/recordings 2750 otgate otgate-audit
	/var/lib/otgate/keys 750 otgate otgate-audit
	/var/lib/otgate/keys/recording.key 600 otgate otgate
	/var/log/otgate 2750 otgate otgate-audit
	/run/otgate 2750 otgate otgate-admin
	/usr/sbin/otgated 755 root root
	/usr/bin/otgate 755 root root
EOF
ls /var/lib/otgate/keys/recording-*.pub >/dev/null 2>&1 ||
	fail "no public recording key in /var/lib/otgate/keys"
pam=/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/security/pam_otgate.so
[ -f "$pam" ] || fail "no $pam"
for m in "$TOP"/packaging/man/*.[158]; do
	[ -f "$m" ] || continue
	page=$(basename "$m")
	[ -f "/usr/share/man/man${page##*.}/$page.gz" ] || fail "man page $page not installed"
done

echo "--- otgated -t on the installed defaults, as the service runs it"
out=$(runuser -u otgate -- /usr/sbin/otgated -t -f /etc/otgate/otgated.conf 2>&1) ||
	fail "otgated -t -f /etc/otgate/otgated.conf as otgate: $out"
echo "$out"

echo "--- otgate policy check on the installed example"
ex=$(ls /usr/share/doc/otgate/examples/policy.conf* 2>/dev/null | head -n 1)
if [ -z "$ex" ]; then
	fail "no /usr/share/doc/otgate/examples/policy.conf"
else
	work=$(mktemp -d)
	case $ex in
	*.gz) zcat "$ex" >"$work/policy.conf" ;;
	*) cp "$ex" "$work/policy.conf" ;;
	esac
	chmod 644 "$work/policy.conf"
	out=$(otgate policy check "$work/policy.conf" 2>&1) || fail "otgate policy check $ex: $out"
	echo "$out"
	rm -rf "$work"
	out=$(otgate policy check 2>&1) || fail "otgate policy check (installed policy): $out"
fi

echo "--- the installed broker starts with the installed config"
if [ -d /run/systemd/system ]; then
	systemctl start otgate.service || fail "systemctl start otgate"
	systemctl is-active --quiet otgate.service || fail "otgate.service is not active"
	systemctl stop otgate.service
elif timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/2222' 2>/dev/null; then
	echo "skip part: 127.0.0.1:2222 is taken here, the default listen address"
else
	# no systemd here: start it as the unit would, with a notify socket of our own
	NOTIFY_DIR=$(mktemp -d)
	python3 - "$NOTIFY_DIR/notify" >"$NOTIFY_DIR/got" 2>&1 <<-'PY' &
		import socket, sys
		s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
		s.bind(sys.argv[1])
		s.settimeout(15)
		try:
		    while True:
		        msg = s.recv(4096).decode()
		        print(msg, flush=True)
		        if "READY=1" in msg.split("\n"):
		            break
		except socket.timeout:
		    pass
	PY
	listener=$!
	for _ in $(seq 50); do [ -S "$NOTIFY_DIR/notify" ] && break; sleep 0.1; done
	chmod 777 "$NOTIFY_DIR" "$NOTIFY_DIR/notify"
	NOTIFY_SOCKET=$NOTIFY_DIR/notify runuser -u otgate -- \
		/usr/sbin/otgated -D -f /etc/otgate/otgated.conf >"$NOTIFY_DIR/log" 2>&1 &
	PID=$!
	banner=
	for _ in $(seq 50); do
		banner=$(timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/2222 && head -c 7 <&3' 2>/dev/null)
		[ "$banner" = "SSH-2.0" ] && break
		sleep 0.2
	done
	[ "$banner" = "SSH-2.0" ] ||
		fail "installed otgated does not answer SSH on 127.0.0.1:2222: $(tail -n 5 "$NOTIFY_DIR/log")"
	wait "$listener"
	grep -qx 'READY=1' "$NOTIFY_DIR/got" ||
		fail "otgated sent no READY=1 to NOTIFY_SOCKET: $(cat "$NOTIFY_DIR/got")"
	# the folders' set-group-ID bits hand what otgated creates to the right group
	st=$(stat -c '%a %U %G' /run/otgate/control.sock 2>/dev/null)
	[ "$st" = "660 otgate otgate-admin" ] ||
		fail "/run/otgate/control.sock is '$st', expected '660 otgate otgate-admin'"
	kill "$PID" 2>/dev/null
	wait "$PID" 2>/dev/null
	PID=
	st=$(stat -c '%a %U %G' /var/log/otgate/audit.log 2>/dev/null)
	[ "$st" = "640 otgate otgate-audit" ] ||
		fail "/var/log/otgate/audit.log is '$st', expected '640 otgate otgate-audit'"
fi

echo "--- purge keeps the evidence"
day=/var/lib/otgate/recordings/2026/11/23
install -d -o otgate -g otgate-audit -m 2750 /var/lib/otgate/recordings/2026 \
	/var/lib/otgate/recordings/2026/11 "$day"
echo '{"version": 2, "width": 80, "height": 24}' >"$day/0123456789abcdef0123456789abcdef.cast"
touch /var/log/otgate/audit.log
dpkg --purge otgate || fail "dpkg --purge otgate"
[ -f "$day/0123456789abcdef0123456789abcdef.cast" ] || fail "purge removed a recording"
[ -d /var/lib/otgate/recordings ] || fail "purge removed /var/lib/otgate/recordings"
[ -f /var/log/otgate/audit.log ] || fail "purge removed the audit log"
[ ! -e /etc/otgate/ssh_host_ed25519_key ] || fail "purge kept the host key"
[ ! -e /etc/otgate/vault ] || fail "purge kept the vault"
[ ! -e /var/lib/otgate/keys/recording.key ] || fail "purge kept the private recording key"
ls /var/lib/otgate/keys/recording-*.pub >/dev/null 2>&1 ||
	fail "purge removed the public recording keys that verify the kept recordings"
getent passwd otgate >/dev/null && fail "purge kept the otgate user"
for g in otgate otgate-admin otgate-audit; do
	getent group "$g" >/dev/null && fail "purge kept group $g"
done
left=$(find /var/lib/otgate /var/log/otgate ! -user root 2>/dev/null | head -n 3)
[ -z "$left" ] || fail "kept evidence is not handed to root: $left"

echo
if [ $FAILS -ne 0 ]; then
	echo "$FAILS package check(s) failed"
	exit 1
fi
echo "deb: built, installed, checked and purged"
exit 0
