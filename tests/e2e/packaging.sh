#!/bin/bash
# What the package ships, checked without installing it: the systemd unit
# parses cleanly and scores <= 2.0 on `systemd-analyze security --offline`;
# sysusers/tmpfiles create the user, groups and folders of DESIGN section 2
# (in a scratch root); the default otgated.conf uses only keys that exist with
# common/conf.c's defaults and passes `otgated -t`; the shipped and example
# policies pass `otgate policy check`; logrotate rotates the audit log without
# recreating it and asks the broker to reopen; the changelog's version is the
# code's. A missing tool skips only its own part.
set -u
BUILD=${BUILD:-$(pwd)/build}
TOP=${TOP:-$(pwd)}
PKG=$TOP/packaging
UNIT=$PKG/otgate.service
MAX_EXPOSURE=2.0
WORK=$(mktemp -d /tmp/otgate-packaging.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
SKIPPED=()

fail() {
	echo "FAIL: $*"
	FAILS=$((FAILS + 1))
}

skip_part() {
	echo "skip part: $*"
	SKIPPED+=("$*")
}

# --- the unit ----------------------------------------------------------------
for want in '^Type=notify$' '^User=otgate$' '^ExecStartPre=/usr/sbin/otgated -t -f ' \
	'^ExecReload=/bin/kill -HUP \$MAINPID$' '^Restart=on-failure$' \
	'^CapabilityBoundingSet=$' '^ProtectSystem=strict$' '^NoNewPrivileges=yes$' \
	'^SystemCallFilter=@system-service$' '^RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6$' \
	'^ReadWritePaths=/var/lib/otgate /var/log/otgate /run/otgate$'; do
	grep -Eq "$want" "$UNIT" || fail "otgate.service has no line matching /$want/"
done

if command -v systemd-analyze >/dev/null; then
	# verify resolves ExecStart= binaries and dependencies inside --root, so
	# it needs no installed package and no running systemd
	root=$WORK/root
	mkdir -p "$root/usr/sbin" "$root/bin" "$root/usr/lib/systemd"
	cp -r /usr/lib/systemd/system "$root/usr/lib/systemd/system"
	cp "$UNIT" "$root/usr/lib/systemd/system/otgate.service"
	printf '#!/bin/sh\n' >"$root/usr/sbin/otgated"
	chmod 755 "$root/usr/sbin/otgated"
	cp /bin/kill "$root/bin/kill"
	out=$(systemd-analyze verify --man=no --root="$root" otgate.service 2>&1)
	rc=$?
	if [ $rc -ne 0 ] || [ -n "$out" ]; then
		fail "systemd-analyze verify otgate.service (exit $rc): $out"
	else
		echo "ok: systemd-analyze verify: no warnings"
	fi

	sec=$(systemd-analyze security --offline=true "$UNIT" 2>&1)
	score=$(echo "$sec" | sed -n 's/.*Overall exposure level for [^:]*: \([0-9][0-9.]*\).*/\1/p')
	if [ -z "$score" ]; then
		fail "no exposure level in systemd-analyze security output: $(echo "$sec" | tail -n 3)"
	elif awk -v s="$score" -v m="$MAX_EXPOSURE" 'BEGIN { exit !(s <= m) }'; then
		echo "ok: offline security exposure $score <= $MAX_EXPOSURE"
	else
		fail "offline security exposure $score > $MAX_EXPOSURE; the unhardened settings:"
		echo "$sec" | grep '✗'
	fi
else
	skip_part "systemd-analyze is not installed: unit not verified or scored"
fi

# --- user, groups, folders ---------------------------------------------------
if command -v systemd-sysusers >/dev/null && command -v systemd-tmpfiles >/dev/null &&
	[ "$(id -u)" -eq 0 ]; then
	before=$FAILS
	root=$WORK/sysroot
	mkdir -p "$root/etc" "$root/usr/lib/sysusers.d" "$root/usr/lib/tmpfiles.d"
	cp "$PKG/otgate.sysusers" "$root/usr/lib/sysusers.d/otgate.conf"
	cp "$PKG/otgate.tmpfiles" "$root/usr/lib/tmpfiles.d/otgate.conf"
	systemd-sysusers --root="$root" otgate.conf >/dev/null 2>&1 ||
		fail "systemd-sysusers on otgate.sysusers"
	systemd-tmpfiles --create --root="$root" otgate.conf ||
		fail "systemd-tmpfiles --create on otgate.tmpfiles"
	id_of() { awk -F: -v n="$2" '$1 == n { print $3 }' "$root/etc/$1"; }
	uid=$(id_of passwd otgate)
	[ -n "$uid" ] || fail "sysusers made no otgate user"
	for g in otgate otgate-admin otgate-audit; do
		[ -n "$(id_of group $g)" ] || fail "sysusers made no group $g"
	done
	awk -F: '$1 == "otgate" && $7 !~ /nologin$/ { exit 1 }' "$root/etc/passwd" ||
		fail "the otgate user has a login shell"
	# path, octal mode, user, group
	while read -r path mode user group; do
		st=$(stat -c '%a %u %g' "$root$path" 2>/dev/null)
		want="$mode $(id_of passwd "$user") $(id_of group "$group")"
		[ "$st" = "$want" ] || fail "$path is '$st' (mode uid gid), expected '$want'"
	done <<-EOF
		/etc/otgate/vault 700 otgate otgate
		/var/lib/otgate 2750 otgate otgate-audit
		/var/lib/otgate/totp 700 otgate otgate
		/var/lib/otgate/recordings 2750 otgate otgate-audit
		/var/lib/otgate/policies 750 otgate otgate
		/var/lib/otgate/keys 750 otgate otgate-audit
		/var/log/otgate 2750 otgate otgate-audit
		/run/otgate 2750 otgate otgate-admin
	EOF
	[ $FAILS -eq "$before" ] && echo "ok: sysusers and tmpfiles in a scratch root"
else
	skip_part "sysusers/tmpfiles need systemd-sysusers, systemd-tmpfiles and root (for chown)"
fi

# --- otgated.conf ------------------------------------------------------------
# every key is one common/conf.c knows, and one with a default keeps it
defaults=$(sed -n 's/^[[:space:]]*{ "\([a-z-]*\)", CONF_[A-Z]*, [^"]*\("[^"]*"\|NULL\).*/\1 \2/p' \
	"$TOP/common/conf.c" | tr -d '"')
[ -n "$defaults" ] || fail "cannot read the key table of common/conf.c"
nkeys=0
while IFS= read -r line; do
	key=${line%%=*}; key=${key%"${key##*[![:space:]]}"}
	value=${line#*=}; value=${value#"${value%%[![:space:]]*}"}
	def=$(echo "$defaults" | awk -v k="$key" '$1 == k { print $2; f = 1 } END { if (!f) print "?" }')
	nkeys=$((nkeys + 1))
	if [ "$def" = "?" ]; then
		fail "otgated.conf: key '$key' is not in common/conf.c"
	elif [ "$def" != NULL ] && [ "$def" != "$value" ]; then
		fail "otgated.conf: $key = $value, but the built-in default is $def"
	fi
done < <(grep -E '^[a-z-]+[[:space:]]*=' "$PKG/otgated.conf")
[ $nkeys -ge 10 ] || fail "otgated.conf sets only $nkeys keys"
grep -q '^user = otgate$' "$PKG/otgated.conf" || fail "otgated.conf does not drop to user otgate"
grep -q "^banner = /etc/otgate/banner$" "$PKG/otgated.conf" || fail "otgated.conf shows no banner"
[ -s "$PKG/banner" ] || fail "packaging/banner is empty"

# the installed layout, moved under a scratch folder, passes the broker's check
if [ -x "$BUILD/otgated" ]; then
	etc=$WORK/etc/otgate
	mkdir -p "$etc/vault" "$WORK/state" "$WORK/log" "$WORK/run"
	chmod 700 "$etc/vault"
	sed -e "s#/etc/otgate#$etc#g" -e "s#/var/lib/otgate#$WORK/state#g" \
		-e "s#/var/log/otgate#$WORK/log#g" -e "s#/run/otgate#$WORK/run#g" \
		-e "s#^user = otgate#user = $(id -un)#" \
		"$PKG/otgated.conf" >"$etc/otgated.conf"
	cp "$PKG/policy.conf" "$PKG/banner" "$etc/"
	ssh-keygen -q -t ed25519 -N '' -f "$etc/ssh_host_ed25519_key"
	if out=$("$BUILD/otgated" -t -f "$etc/otgated.conf" 2>&1); then
		echo "ok: otgated -t on the default otgated.conf${out:+ (said: $out)}"
	else
		fail "otgated -t on the default otgated.conf: $out"
	fi
else
	skip_part "no $BUILD/otgated yet: the default otgated.conf is not checked by otgated -t"
fi

# --- policies ----------------------------------------------------------------
# (copied at the mode they are installed with: the checker refuses a policy
# that others may write, and a checkout's umask may have made it so)
if [ -x "$BUILD/otgate" ]; then
	mkdir -p "$WORK/policy"
	install -m 0644 "$PKG/policy.conf" "$WORK/policy/policy.conf"
	out=$("$BUILD/otgate" policy check "$WORK/policy/policy.conf" 2>&1)
	[ "$out" = "OK: 0 users, 0 roles, 0 assets, 0 windows" ] ||
		fail "otgate policy check packaging/policy.conf: $out"
	for ex in "$PKG"/examples/*.conf; do
		[ -f "$ex" ] || continue
		mkdir -p "$WORK/example"
		install -m 0644 "$ex" "$WORK/example/policy.conf"
		if out=$("$BUILD/otgate" policy check "$WORK/example/policy.conf" 2>&1); then
			echo "ok: example $(basename "$ex"): $out"
		else
			fail "otgate policy check $ex: $out"
		fi
	done
else
	fail "no $BUILD/otgate: build it first"
fi

# --- logrotate ---------------------------------------------------------------
if command -v logrotate >/dev/null; then
	before=$FAILS
	logs=$WORK/logrotate
	mkdir -p "$logs"
	chmod 750 "$logs"
	printf '{"seq":1}\n' >"$logs/audit.log"
	sed -e "s#/var/log/otgate/audit.log#$logs/audit.log#" \
		-e "s#systemctl reload otgate.service.*#touch $logs/reopened#" \
		"$PKG/otgate.logrotate" >"$logs/conf"
	grep -q "touch $logs/reopened" "$logs/conf" || fail "otgate.logrotate has no reload in postrotate"
	if out=$(logrotate -f -s "$logs/state" "$logs/conf" 2>&1); then
		rotated=$(ls "$logs" | grep -c '^audit\.log-[0-9]\{8\}$')
		[ "$rotated" -eq 1 ] || fail "logrotate left no audit.log-YYYYMMDD: $(ls "$logs")"
		[ ! -e "$logs/audit.log" ] || fail "logrotate recreated audit.log (otgated must create it)"
		[ -e "$logs/reopened" ] || fail "logrotate did not run its postrotate reload"
		[ $FAILS -eq "$before" ] && echo "ok: logrotate rotates the audit log and asks for a reopen"
	else
		fail "logrotate on otgate.logrotate: $out"
	fi
else
	skip_part "logrotate is not installed: its configuration is not exercised"
fi

# --- version -----------------------------------------------------------------
code=$(sed -n 's/^#define OTGATE_VERSION "\(.*\)"$/\1/p' "$TOP/common/common.h")
deb=$(sed -n '1s/^otgate (\([^)]*\)).*/\1/p' "$PKG/debian/changelog")
[ "$code" = "$deb" ] || fail "debian/changelog is $deb, OTGATE_VERSION is $code"

# --- man pages that exist render without warnings ----------------------------
if command -v man >/dev/null; then
	for m in "$PKG"/man/*.[158]; do
		[ -f "$m" ] || continue
		warn=$(MANWIDTH=80 man --warnings -l "$m" 2>&1 >/dev/null)
		[ -z "$warn" ] || fail "man -l $(basename "$m") warns: $warn"
	done
else
	skip_part "man is not installed: man pages not rendered"
fi

echo
if [ $FAILS -ne 0 ]; then
	echo "$FAILS packaging check(s) failed"
	exit 1
fi
echo "packaging: all checks passed${SKIPPED[*]:+ (skipped: ${SKIPPED[*]})}"
exit 0
