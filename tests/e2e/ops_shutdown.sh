#!/bin/bash
# ops_shutdown.sh: SIGTERM with live sessions: every vendor reads that the
# broker is going down, the sessions end (audited), their recordings are
# sealed and verify, and otgated exits 0 within a few seconds.
. "$(dirname "$0")/lib.sh"

e2e_init
asset_start plc1 127.0.0.2
policy_write
broker_start
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }

n_live() {
	O sessions --active | awk '$6 != "-"' | wc -l
}
for i in 1 2; do
	vssh alice+plc1 'sleep 30; echo not-ended' >"$WORK/v$i.out" 2>"$WORK/v$i.err" &
	eval "v$i=\$!"
done
for _ in $(seq 1 100); do [ "$(n_live)" -eq 2 ] && break; sleep 0.1; done
check "two sessions run" [ "$(n_live)" -eq 2 ]
ids=$(O sessions --active | awk '{print $1}')
start=$(date +%s)
kill -TERM "$BROKER_PID"
wait "$BROKER_PID"; rc=$?
took=$(($(date +%s) - start))
check "otgated exits 0 (is $rc) within 10 s (took $took s)" [ $rc -eq 0 ] && [ $took -le 10 ]
wait "$v1"; r1=$?
wait "$v2"; r2=$?
cat "$WORK/v1.err" "$WORK/v2.err"
for i in 1 2; do
	check "vendor $i is told the broker is going down" \
		grep -q "^otgate: plc1: the broker is shutting down" "$WORK/v$i.err"
	check "vendor $i's command did not finish" [ ! -s "$WORK/v$i.out" ]
done
check "both vendors' commands end with exit 1 ($r1 $r2)" [ $r1 -eq 1 ] && [ $r2 -eq 1 ]
for id in $ids; do
	check "session $id ends in the audit log" \
		audit_has session.end "\"session\":\"$id\".*the broker is shutting down"
	out=$(O verify "$id" 2>&1)
	echo "$out"
	check "its recording is sealed and verifies" grep -q verified <<<"$out"
done
check "the control socket is gone" [ ! -e "$WORK/control.sock" ]
check "nothing listens any more" bash -c "! (exec 3<>/dev/tcp/127.0.0.1/$BROKER_PORT) 2>/dev/null"
e2e_finish
