#!/bin/bash
# otgated under load and while the admin works: 30 concurrent sessions all
# complete intact; the control socket answers status and sessions --active
# (text and JSON) during sessions; a good reload (SIGHUP and otgate reload)
# swaps the policy, keeps it in STATE/policies and ends sessions it no longer
# allows; a bad reload keeps the old policy; the audit chain verifies.
. "$(dirname "$0")/lib.sh"
e2e_init
asset_start plc1 127.0.0.2
asset_start plc2 127.0.0.3
policy_write
broker_start
otg() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }

# 30 at once, each with its own data both ways
for i in $(seq 1 30); do
	( seq "$i" 40000 | vssh "alice+plc$((i % 2 + 1))" "sha256sum; exit $((i % 7))" \
		>"$WORK/out.$i" 2>&1; echo $? >"$WORK/rc.$i" ) &
done
wait_all=0
for i in $(seq 1 30); do
	for ((t = 0; t < 600; t++)); do [ -s "$WORK/rc.$i" ] && break; sleep 0.1; done
done
bad=0
for i in $(seq 1 30); do
	want=$(seq "$i" 40000 | sha256sum)
	[ "$(cat "$WORK/out.$i")" = "$want" ] && [ "$(cat "$WORK/rc.$i")" = $((i % 7)) ] ||
		{ bad=$((bad + 1)); echo "session $i: rc $(cat "$WORK/rc.$i"), out $(head -c 200 "$WORK/out.$i")"; }
done
check "30 concurrent sessions, all intact with their exit status ($bad bad)" [ $bad -eq 0 ]

# control socket while a session runs
vssh alice+plc1 'sleep 20' >/dev/null 2>&1 &
for ((t = 0; t < 100; t++)); do otg sessions --active | grep -q plc1 && break; sleep 0.1; done
st=$(otg status)
check "otgate status: version, uptime, sessions, policy hash ('$(echo $st)')" \
	eval 'echo "$st" | grep -q "^version 0.1.0" && echo "$st" | grep -q "^sessions 1" &&
	echo "$st" | grep -q "^policy [0-9a-f]\{64\}" && echo "$st" | grep -q "^uptime "'
json=$(otg sessions --active --json)
check "otgate sessions --active --json has the DESIGN fields" \
	eval 'echo "$json" | "$E2E_PY" -c "import json,sys
o = json.loads(sys.stdin.readline())
need = \"id conn user company asset src kind start end exit bytes_in bytes_out recording\".split()
sys.exit(0 if all(k in o for k in need) and o[\"user\"] == \"alice\" and o[\"asset\"] == \"plc1\" and len(o[\"id\"]) == 32 else 1)"'
old=$(otg status | sed -n 's/^policy //p')

# bad reload: the old policy stays
cp "$WORK/policy.conf" "$WORK/policy.good"
echo "[role broken" >>"$WORK/policy.conf"
out=$("$OTGATED" -t -f "$WORK/otgated.conf" 2>&1); rc=$?
check "otgated -t refuses the broken policy with FILE:LINE:COL (rc $rc)" \
	eval '[ $rc -eq 1 ] && echo "$out" | grep -q "policy.conf:[0-9]*:[0-9]*: error"'
out=$(otg reload 2>&1); rc=$?
check "otgate reload of a broken policy fails and says why (rc $rc)" \
	eval '[ $rc -ne 0 ] && echo "$out" | grep -q "policy.conf:"'
kill -HUP "$BROKER_PID"
sleep 0.5
check "SIGHUP with a broken policy keeps the old one" \
	eval '[ "$(otg status | sed -n "s/^policy //p")" = "$old" ]'
check "the broken policy's errors are logged" grep -q "policy.conf:.*error" "$WORK/otgated.log"
check "audit: policy.reload invalid" audit_has policy.reload '"result":"invalid"'
out=$(vssh alice+plc1 'echo alive')
check "sessions still work on the old policy ($out)" [ "$out" = alive ]

# good reload that no longer allows plc1: the running session there ends
sed 's/^assets = \*$/assets = plc2/' "$WORK/policy.good" >"$WORK/policy.conf"
kill -HUP "$BROKER_PID"
for ((t = 0; t < 50; t++)); do otg sessions --active | grep -q plc1 || break; sleep 0.1; done
new=$(otg status | sed -n 's/^policy //p')
check "SIGHUP swaps in the new policy" [ -n "$new" -a "$new" != "$old" ]
check "every loaded policy is kept in STATE/policies" \
	eval '[ -f "$WORK/state/policies/$old.conf" ] && [ -f "$WORK/state/policies/$new.conf" ]'
check "the running plc1 session was ended by the new policy" \
	eval '! otg sessions --active | grep -q plc1'
out=$(vssh alice+plc1 true 2>&1); rc=$?
check "plc1 is now refused (rc $rc: $out)" [ $rc -eq 1 ]
out=$(vssh alice+plc2 'echo ok2')
check "plc2 still allowed ($out)" [ "$out" = ok2 ]
cp "$WORK/policy.good" "$WORK/policy.conf"
out=$("$OTGATED" -t -f "$WORK/otgated.conf" 2>&1); rc=$?
check "otgated -t accepts the good configuration (rc $rc: $out)" [ $rc -eq 0 ]
out=$(otg reload 2>&1); rc=$?
check "otgate reload of a good policy (rc $rc: $out)" [ $rc -eq 0 ]
check "audit: policy.reload ok" audit_has policy.reload '"result":"ok"'

for e in auth.success session.start session.end policy.deny policy.reload; do
	check "audit has $e" audit_has $e
done
out=$(otg verify --audit "$WORK/audit.log" 2>&1); rc=$?
check "the audit chain verifies (rc $rc: $out)" [ $rc -eq 0 ]
check "broker still running" kill -0 "$BROKER_PID"
e2e_finish
