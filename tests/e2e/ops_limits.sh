#!/bin/bash
# ops_limits.sh: an asset's max-sessions = 1 turns a second vendor away with
# who holds it and since when; a role's idle-timeout ends an idle session but
# not a busy one; max-session ends even a busy one; the vendor is warned before
# either end, and the ends are audited.
. "$(dirname "$0")/lib.sh"

e2e_init
asset_start plc1 127.0.0.2
echo "max-sessions = 1" >"$WORK/extra"	# lands in [asset plc1], the last section
policy_write "$WORK/extra"
broker_start
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }

role_set() {	# KEY = VALUE lines for role maint, then reload
	cp "$WORK/policy.base" "$WORK/policy.conf"
	sed -i "/^\[role maint\]$/a $1" "$WORK/policy.conf"
	O reload >/dev/null || echo "(test bug: reload with '$1' failed)"
}
cp "$WORK/policy.conf" "$WORK/policy.base"

# --- max-sessions = 1
vssh alice+plc1 'sleep 20' >/dev/null 2>&1 &
first=$!
id=$(session_live plc1)
check "the first vendor is on plc1" [ -n "$id" ]
vssh alice+plc1 'echo second' >"$WORK/out" 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "the second vendor is turned away (exit $rc)" [ $rc -eq 1 ]
check "and told who holds it and since when" grep -Eq \
	'^otgate: plc1: in use by alice \(Test Automation\) since [0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2} .*\(max-sessions 1\)' "$WORK/err"
check "the command did not run" [ ! -s "$WORK/out" ]
check "session.busy is audited" audit_has session.busy "in use by alice"
O kill "$id" >/dev/null
wait $first
check "once it is free the next vendor gets in" [ "$(vssh alice+plc1 echo hi 2>&1)" = hi ]

# --- idle-timeout: an idle session ends, a busy one goes on
role_set "idle-timeout = 3s"
start=$(date +%s)
vssh alice+plc1 'sleep 30; echo not-ended' >"$WORK/out" 2>"$WORK/err"; rc=$?
took=$(($(date +%s) - start))
cat "$WORK/err"
check "an idle session ends after about 3 s (took $took s, exit $rc)" \
	[ $rc -eq 1 ] && [ $took -ge 3 ] && [ $took -le 8 ]
check "the vendor was warned first" grep -q "^otgate: plc1: idle: this session ends in 1s without activity (idle-timeout 3s)" "$WORK/err"
check "then told why it ended" grep -q "^otgate: plc1: idle-timeout 3s reached" "$WORK/err"
check "session.limit is audited" audit_has session.limit "idle-timeout 3s reached"
out=$(vssh alice+plc1 'for i in 1 2 3 4 5 6; do echo $i; sleep 1; done' 2>&1); rc=$?
check "a session with output every second outlives the idle-timeout (exit $rc)" \
	[ $rc -eq 0 ] && [ "$(tail -1 <<<"$out")" = 6 ]

# --- max-session ends even a busy session
role_set "max-session = 4s"
start=$(date +%s)
vssh alice+plc1 'while :; do echo tick; sleep 0.5; done' >"$WORK/out" 2>"$WORK/err"; rc=$?
took=$(($(date +%s) - start))
cat "$WORK/err"
check "a busy session ends at max-session (took $took s, exit $rc)" \
	[ $rc -eq 1 ] && [ $took -ge 4 ] && [ $took -le 9 ]
check "the vendor was warned first" grep -q "^otgate: plc1: this session ends in 2s (max-session 4s)" "$WORK/err"
check "then told why it ended" grep -q "^otgate: plc1: max-session 4s reached" "$WORK/err"
check "the session had relayed meanwhile" grep -q tick "$WORK/out"

e2e_finish
