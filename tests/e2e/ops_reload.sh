#!/bin/bash
# ops_reload.sh: a reload re-decides every live session. One that removes the
# user's role ends the running session with the reason on the vendor's stderr;
# a broken policy is refused (FILE:LINE:COL), the old one stays in force, the
# live session goes on and new logins work; policy.reload carries both hashes.
. "$(dirname "$0")/lib.sh"

e2e_init
asset_start plc1 127.0.0.2
policy_write
broker_start
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }
not() { ! "$@" 2>/dev/null; }

wait_live() {	# wait until a session on plc1 has started (relays)
	local _
	for _ in $(seq 1 100); do
		O sessions --active | awk '$3 == "plc1" && $6 != "-" {f = 1} END {exit !f}' &&
			return 0
		sleep 0.1
	done
	return 1
}
hash0=$(O status | sed -n 's/^policy //p')

# --- a broken policy: old one kept, the session goes on, new logins work
vssh alice+plc1 'sleep 4; echo survived' >"$WORK/live1.out" 2>"$WORK/live1.err" &
live=$!
check "a session runs" wait_live
cp "$WORK/policy.conf" "$WORK/policy.good"
printf '\n[role broken]\nallow = shell teleport\n' >>"$WORK/policy.conf"
O reload >"$WORK/out" 2>"$WORK/err"; rc=$?
cat "$WORK/out" "$WORK/err"
check "the broken reload exits 1" [ $rc -eq 1 ]
check "it names the file, line and column" \
	grep -Eq "policy\.conf:$(grep -c '' "$WORK/policy.good" | awk '{print $1 + 3}'):[0-9]+: error:" "$WORK/err"
check "the daemon logs it as FILE:LINE:COL too" grep -Eq 'policy\.conf:[0-9]+:[0-9]+: error' "$WORK/otgated.log"
check "the old policy stays in force" grep -qx "policy $hash0" <<<"$(O status)"
check "a new login works meanwhile" [ "$(vssh alice+plc1 echo hi 2>&1)" = hi ]
wait $live; rc=$?
check "the live session went on to its end (exit $rc)" [ $rc -eq 0 ]
check "and printed its output" grep -qx survived "$WORK/live1.out"
cp "$WORK/policy.good" "$WORK/policy.conf"

# --- SIGHUP with a policy that no longer gives alice the role
vssh alice+plc1 'sleep 30; echo not-ended' >"$WORK/live2.out" 2>"$WORK/live2.err" &
live=$!
check "a second session runs" wait_live
sid=$(O sessions --active | awk '$3 == "plc1" {print $1}')
sed -i 's/^roles = maint$/roles = elsewhere/' "$WORK/policy.conf"
grep -q '^roles = elsewhere$' "$WORK/policy.conf" || echo "(test bug: the role line was not found)"
printf '\n[role elsewhere]\nassets = zone:other-plant\nallow = shell exec\n' >>"$WORK/policy.conf"
start=$(date +%s)
kill -HUP "$BROKER_PID"
wait $live; rc=$?
took=$(($(date +%s) - start))
cat "$WORK/live2.err"
check "the session ended at once ($took s) with exit 1 (is $rc)" [ $rc -eq 1 ] && [ $took -lt 10 ]
check "the vendor was told why" grep -q "otgate: plc1: ended by a policy reload: " "$WORK/live2.err"
check "the command did not finish" not grep -q not-ended "$WORK/live2.out"
hash1=$(O status | sed -n 's/^policy //p')
check "the new policy is in force" [ "$hash1" != "$hash0" ]
check "policy.reload carries the old and new hashes" \
	audit_has policy.reload "\"policy\":\"$hash1\",\"old\":\"$hash0\""
check "the ended session is audited with the reason" \
	audit_has session.end "\"session\":\"$sid\".*ended by a policy reload"
check "no session is left" [ -z "$(O sessions --active)" ]
check "a new login is refused by the new policy" not vssh alice+plc1 true

e2e_finish
