#!/bin/bash
# policy_verbs.sh: `otgate policy check|explain|dump` on the example plant
# (packaging/examples/policy.conf) and on broken files: output lines, the
# FILE:LINE:COL problem format, and exit codes 0 allow/OK, 1 deny/errors,
# 2 usage (a DST gap included), 3 needs approval. No broker needed.
set -u
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
TOP=${TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
OTGATE=$BUILD/otgate
[ -x "$OTGATE" ] || { echo "FAIL: $OTGATE was not built"; exit 1; }
WORK=$(mktemp -d /tmp/otgate-policy.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
unset OTGATE_CONF

check() {	# WHAT CMD... or WHAT 'SHELL EXPRESSION'
	local what=$1
	shift
	if { [ $# -eq 1 ] && eval "$1"; } || { [ $# -gt 1 ] && "$@"; }; then
		echo "ok: $what"
	else
		echo "FAIL: $what"
		FAILS=$((FAILS + 1))
	fi
}

# run: OUT, ERR and RC of otgate ARGS...
run() {
	"$OTGATE" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	OUT=$(cat "$WORK/out")
	ERR=$(cat "$WORK/err")
	echo "\$ otgate $* -> $RC"
	[ -z "$OUT" ] || sed 's/^/  out: /' "$WORK/out"
	[ -z "$ERR" ] || sed 's/^/  err: /' "$WORK/err"
}

# a private copy: the tree may be checked out group-writable, which check refuses
P=$WORK/etc/policy.conf
mkdir -p "$WORK/etc"
cp "$TOP/packaging/examples/policy.conf" "$P"
chmod 0644 "$P"
printf 'policy = policy.conf\n' >"$WORK/etc/otgated.conf"

# ---- check
run policy check "$P"
check "check of the example exits 0" [ $RC -eq 0 ]
check "it prints the counts" [ "$OUT" = "OK: 4 users, 5 roles, 5 assets, 3 windows" ]
check "the example has no warnings" [ -z "$ERR" ]
run -f "$WORK/etc/otgated.conf" policy check
check "check finds the policy through -f CONFIG" '[ $RC -eq 0 ] && [ "$OUT" = "OK: 4 users, 5 roles, 5 assets, 3 windows" ]'
OTGATE_CONF=$WORK/etc/otgated.conf run policy check
check "and through OTGATE_CONF" '[ $RC -eq 0 ] && [ "${OUT#OK: }" != "$OUT" ]'
run -f "$WORK/nowhere.conf" policy check "$P"
check "a FILE argument needs no config" [ $RC -eq 0 ]
run -f "$WORK/nowhere.conf" policy check
check "a missing config is an error (exit 1)" '[ $RC -eq 1 ] && grep -q "nowhere.conf:0:0: error:" "$WORK/err"'

printf 'policy = policy.conf\negress = 10.20.0.0/16\n' >"$WORK/etc/inside.conf"
run -f "$WORK/etc/inside.conf" policy check
check "assets inside the config's egress: no warning" '[ $RC -eq 0 ] && [ -z "$ERR" ]'
printf 'policy = policy.conf\negress = 10.20.3.0/24\n' >"$WORK/etc/outside.conf"
run -f "$WORK/etc/outside.conf" policy check
check "assets outside egress: exit 0 with a warning each" '[ $RC -eq 0 ] && [ "$(grep -c "warning: asset .* is outside the egress networks" "$WORK/err")" -eq 1 ]'
check "the warning names the asset's section" \
	grep -q "^$P:[0-9]*:1: warning: asset switch-core address 10.20.0.2 is outside" "$WORK/err"

mkdir -p "$WORK/etc/policy.d"
printf '[user erin]\nroles = network-audit\nauth = password totp\n' >"$WORK/etc/policy.d/50-erin.conf"
run policy check "$P"
check "policy.d/*.conf is read with it" [ "$OUT" = "OK: 5 users, 5 roles, 5 assets, 3 windows" ]
run policy explain --policy "$P" erin switch-core --channel exec
check "and decided on (exit 0)" '[ $RC -eq 0 ] && grep -qx "rule: network-audit" "$WORK/out"'
rm "$WORK/etc/policy.d/50-erin.conf"

W=$WORK/warn.conf
printf '[asset a]\naddress = 10.0.0.9\nlogin = x\n[user u]\nauth = password\n' >"$W"
chmod 0644 "$W"
run policy check "$W"
check "warnings alone exit 0 and still print OK" '[ $RC -eq 0 ] && [ "$OUT" = "OK: 1 users, 0 roles, 1 assets, 0 windows" ]'
check "a warning for the asset without hostkey, as FILE:LINE:COL" \
	grep -q "^$W:1:1: warning: asset a has no hostkey" "$WORK/err"
check "a warning for the user with no role" grep -q "^$W:4:1: warning: user u has no role" "$WORK/err"

B=$WORK/broken.conf
cat >"$B" <<'EOF'
top = 1
[asset plc1]
adress = 10.0.0.1
port = 99999
login = maint
[window w]
days = mon-fry
timezone = Mars/Base
[role r]
allow = shell telnet
window = weekdayz
[user u]
roles = nobody
EOF
chmod 0644 "$B"
run policy check "$B"
check "a broken policy exits 1" [ $RC -eq 1 ]
check "and prints no OK line" [ -z "$OUT" ]
for want in "1:1: error: key 'top' outside a section" \
	"3:1: error: unknown key 'adress' in \[asset\]; did you mean 'address'?" \
	"4:8: error: bad port '99999'" "2:1: error: asset plc1 has no address" \
	"7:8: error: bad days 'mon-fry'" "8:12: error: unknown timezone 'Mars/Base'" \
	"10:9: error: unknown channel kind 'telnet'" \
	"11:10: error: role r names unknown window 'weekdayz'" \
	"13:9: error: user u names unknown role 'nobody'"; do
	check "every problem is reported: $want" grep -q "^$B:$want" "$WORK/err"
done
printf '[user u]\nauth = password\nroles = r\xe2\x80\xae\n' >"$WORK/bidi.conf"
chmod 0644 "$WORK/bidi.conf"
run policy check "$WORK/bidi.conf"
check "text quoted from a file is escaped (a bidi override shows as \\u{202e})" \
	grep -q "unknown role 'r\\\\u{202e}'" "$WORK/err"
chmod 0664 "$P"
run policy check "$P"
check "a group-writable policy is refused (exit 1)" '[ $RC -eq 1 ] && grep -q "^$P:0:0: error: refusing policy file: mode 0664" "$WORK/err"'
chmod 0644 "$P"
run policy check "$WORK/missing.conf"
check "a missing policy file exits 1" '[ $RC -eq 1 ] && grep -q "missing.conf:0:0: error: cannot open policy" "$WORK/err"'

# ---- explain (Monday 2026-11-23; the example's windows are in Europe/Rome)
E() { run -f "$WORK/etc/otgated.conf" policy explain "$@"; }
expect() {	# RC DECISION RULE REASON
	check "exit $1" [ $RC -eq "$1" ]
	check "three lines: decision: $2 / rule: $3 / reason: $4" \
		[ "$OUT" = "$(printf 'decision: %s\nrule: %s\nreason: %s' "$2" "$3" "$4")" ]
}
E alice plc-line3 --at "2026-11-23 14:00" --tz Europe/Rome
expect 0 allow line3-maintenance "allowed by role line3-maintenance"
E alice plc-line3 --at "2026-11-23 18:00" --tz Europe/Rome
expect 1 deny line3-maintenance "outside window weekdays (mon-fri 07:00-18:00 Europe/Rome)"
E alice plc-line3 --at "2026-11-23 17:59" --tz Europe/Rome
expect 0 allow line3-maintenance "allowed by role line3-maintenance"
E alice plc-line3 --at "2026-11-23 16:59" --tz UTC
expect 0 allow line3-maintenance "allowed by role line3-maintenance"
E alice plc-line3 --at "2026-11-23 17:00" --tz UTC
expect 1 deny line3-maintenance "outside window weekdays (mon-fri 07:00-18:00 Europe/Rome)"
E alice plc-line3 --at "2026-11-24 05:30" --tz Europe/Rome
expect 3 needs-approval line3-night "role line3-night requires approval"
E alice plc-line3 --at "2026-11-23 23:00" --tz Europe/Rome --channel sftp
expect 1 deny line3-maintenance "outside window weekdays (mon-fri 07:00-18:00 Europe/Rome)"
E alice hmi-line3 --at 2026-11-23T13:00:00Z --channel forward
expect 0 allow line3-maintenance "allowed by role line3-maintenance"
E alice hmi-line3 --at "2026-11-23 14:00" --tz Europe/Rome
check "a reuse = yes asset: exit 0 and a fourth line on the warm connection" \
	eval '[ $RC -eq 0 ] && [ "$(printf "%s\n" "$OUT" | sed -n 4p)" = \
	"connection: warm, shared with other vendor sessions (reuse = yes, closed after 600s unused)" ]'
run policy explain --policy "$P" alice hmi-line3 --at "2026-11-23 14:00" --tz Europe/Rome --json
check "--json of a reuse = yes asset: reuse_idle 600" python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["decision"] == "allow" and o["reuse_idle"] == 600, o
' "$WORK/out"
E alice sis-line3 --at "2026-11-23 14:00" --tz Europe/Rome
expect 1 deny line3-maintenance "denied by role line3-maintenance: deny level:0"
E bob plc-line3
expect 1 deny - "no role of bob selects plc-line3"
E bob scada-01 --channel exec --at "2026-11-23 14:00" --tz Europe/Rome
expect 1 deny - "no role of bob allows exec on scada-01"
E bob scada-01 --at "2026-11-28 03:00" --tz Europe/Rome
expect 3 needs-approval scada-support "role scada-support requires approval"
E carol switch-core --channel exec --at 2026-11-23
expect 1 deny - "user carol expired 2026-10-31"
E dave plc-line3
expect 1 deny - "user dave is disabled"
E mallory plc-line3
expect 1 deny - "unknown user"
E alice plc-9 --at 2026-11-23
expect 1 deny - "unknown asset"
run policy explain --policy "$P" alice plc-line3 --at "2026-11-23 14:00" --tz Europe/Rome --json
check "--json: exit 0" [ $RC -eq 0 ]
check "--json prints one JSON object with the decision" python3 -c '
import json, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["decision"] == "allow" and o["rule"] == "line3-maintenance", o
assert o["at"] == "2026-11-23T13:00:00Z" and o["channel"] == "shell", o
assert o["max_session"] == 7200 and o["idle_timeout"] == 900 and o["reason_required"] is True, o
assert o["reuse_idle"] == 0, o
' "$WORK/out"
run policy explain --policy "$P" 'mallory"x' plc-line3 --json
check "--json of an unknown user: exit 1, escaped, rule null" python3 -c '
import json, sys
o = json.loads(open(sys.argv[1]).read())
assert o["user"] == "mallory\"x" and o["rule"] is None and o["reason"] == "unknown user", o
' "$WORK/out"

# DST in Rome: 02:30 on 2026-03-29 never happens, on 2026-10-25 twice
E alice plc-line3 --at "2026-03-29 02:30" --tz Europe/Rome
check "a time in the spring gap is a usage error (exit 2)" [ $RC -eq 2 ]
check "that says it is a DST gap" grep -q "DST gap" "$WORK/err"
check "and decides nothing" [ -z "$OUT" ]
E bob scada-01 --at "2026-10-25 02:30" --tz Europe/Rome
expect 3 needs-approval scada-support "role scada-support requires approval"

# usage errors
for args in "alice" "alice plc-line3 extra" "alice plc-line3 --channel telnet" \
	"alice plc-line3 --at yesterday" "alice plc-line3 --at 2026-13-01" \
	"alice plc-line3 --tz Mars/Base" "alice plc-line3 --bogus" "alice plc-line3 --at"; do
	# shellcheck disable=SC2086
	E $args
	check "usage error exits 2: explain $args" '[ $RC -eq 2 ] && [ -z "$OUT" ]'
done
run policy explain --help
check "explain --help exits 0 with the usage" '[ $RC -eq 0 ] && grep -q "policy explain USER ASSET" "$WORK/out"'

# ---- dump
run policy dump "$P"
check "dump exits 0" [ $RC -eq 0 ]
cp "$WORK/out" "$WORK/dump1.conf"
chmod 0644 "$WORK/dump1.conf"
check "dump sorts assets by name" [ "$(grep '^\[asset ' "$WORK/dump1.conf" | tr '\n' ' ')" = \
	"[asset hmi-line3] [asset plc-line3] [asset scada-01] [asset sis-line3] [asset switch-core] " ]
check "dump writes defaults out (port, credential)" grep -qx "credential = hmi-line3" "$WORK/dump1.conf"
check "dump normalises lists" grep -qx "tags = level:1 site:turin zone:cell-3" "$WORK/dump1.conf"
check "dump keeps the wrapping day range" grep -qx "days = fri-mon" "$WORK/dump1.conf"
check "dump writes reuse-idle in seconds" grep -qx "reuse-idle = 600s" "$WORK/dump1.conf"
run policy check "$WORK/dump1.conf"
check "the dump checks clean" '[ $RC -eq 0 ] && [ "$OUT" = "OK: 4 users, 5 roles, 5 assets, 3 windows" ] && [ -z "$ERR" ]'
run policy dump "$WORK/dump1.conf"
check "the dump of the dump is the same" cmp -s "$WORK/out" "$WORK/dump1.conf"
run -f "$WORK/etc/otgated.conf" policy dump
check "dump through the config is the same" cmp -s "$WORK/out" "$WORK/dump1.conf"
run policy dump "$B"
check "dump of a broken policy exits 1 with its errors" '[ $RC -eq 1 ] && [ -z "$OUT" ] && grep -q "error:" "$WORK/err"'

# ---- the verb itself
run policy
check "policy with no verb exits 2" [ $RC -eq 2 ]
run policy frobnicate
check "an unknown policy verb exits 2" '[ $RC -eq 2 ] && grep -q "unknown policy verb" "$WORK/err"'
run policy check "$P" "$B"
check "check takes one FILE at most (exit 2)" [ $RC -eq 2 ]
run policy --help
check "policy --help exits 0" '[ $RC -eq 0 ] && grep -q "policy check \[FILE\]" "$WORK/out"'
run policy dump --help
check "dump --help exits 0" [ $RC -eq 0 ]

echo "$FAILS failed"
[ $FAILS -eq 0 ]
