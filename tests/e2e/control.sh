#!/bin/bash
# control.sh: otgate status, sessions --active [--json] during a live session,
# reload with a good and a bad policy, a peer without rights refused, and the
# clear message once the broker is gone.
. "$(dirname "$0")/lib.sh"

e2e_init
asset_start plc1 127.0.0.2
policy_write
broker_start
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }

# --- status
out=$(O status); rc=$?
echo "$out"
check "status exits 0" [ $rc -eq 0 ]
check "status shows the version" grep -qx "version $("$OTGATE" --version | cut -d' ' -f2)" <<<"$out"
check "status shows no sessions" grep -qx "sessions 0" <<<"$out"
hash1=$(sed -n 's/^policy //p' <<<"$out")
check "status shows a policy hash" grep -Eqx '[0-9a-f]{64}' <<<"$hash1"
check "the loaded policy is kept under its hash" [ -f "$WORK/state/policies/$hash1.conf" ]
check "status is audited with the caller's uid" \
	audit_has control.command "\"verb\":\"status\",\"uid\":$(id -u)"

# --- sessions --active during a live session
# (it runs until told to end: the checks below may take seconds on a loaded machine)
vssh alice+plc1 "while [ ! -e $WORK/end ]; do sleep 0.1; done" >/dev/null 2>&1 &
live=$!
json=""
for _ in $(seq 1 100); do
	json=$(O sessions --active --json)
	grep -q '"recording":"' <<<"$json" && break
	sleep 0.1
done
echo "$json"
check "sessions --json lists the live session" grep -q '"user":"alice"' <<<"$json"
for f in id conn user company asset src kind start end exit bytes_in bytes_out recording; do
	check "sessions --json has field $f" grep -q "\"$f\":" <<<"$json"
done
check "sessions --json is valid JSON, one object a line" python3 -c '
import json, sys
lines = [l for l in sys.stdin.read().splitlines() if l]
assert len(lines) == 1, lines
o = json.loads(lines[0])
assert o["user"] == "alice" and o["asset"] == "plc1" and o["kind"] == "exec", o
assert len(o["id"]) == 32, o' <<<"$json"
# the recording field names the file being written; the audit's session.start
# names the file it becomes when the session ends
live_id=$(python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["id"])' <<<"$json")
live_rec=$(python3 -c 'import json, sys; print(json.loads(sys.stdin.read())["recording"])' <<<"$json")
echo "recording: $live_rec"
check "sessions --json: recording is STATE/recordings/Y/M/D/ID.stream.part" \
	grep -Eqx "$WORK/state/recordings/[0-9]{4}/[0-9]{2}/[0-9]{2}/$live_id\.stream\.part" <<<"$live_rec"
check "sessions --json: the recording it names exists while the session runs" [ -f "$live_rec" ]
text=$(O sessions --active)
check "sessions --active (text) lists it" grep -q "alice plc1 exec" <<<"$text"
check "status counts it" grep -qx "sessions 1" <<<"$(O status)"
O sessions --json >/dev/null 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "sessions without --active lists the recorded ones (exit 0)" [ $rc -eq 0 ]
O sessions --active --user alice >/dev/null 2>&1; rc=$?
check "an option --active does not take is a usage error" [ $rc -eq 2 ]
touch "$WORK/end"
wait $live
start_rec=$(grep '"event":"session.start"' "$WORK/audit.log" | grep "\"session\":\"$live_id\"" |
	python3 -c 'import json, sys; print(json.loads(sys.stdin.readline())["recording"])')
echo "session.start recording: $start_rec"
check "session.start names the recording (the live name without .part)" \
	[ "$start_rec.part" = "$live_rec" ]
check "the recording session.start names exists once the session ended" [ -f "$start_rec" ]

# --- reload: a good policy
echo "# edited for reload" >>"$WORK/policy.conf"
out=$(O reload); rc=$?
echo "$out"
check "good reload exits 0" [ $rc -eq 0 ]
hash2=$(sed -n 's/^policy \([0-9a-f]*\) loaded.*/\1/p' <<<"$out")
check "reload names the new policy" grep -Eqx '[0-9a-f]{64}' <<<"$hash2"
check "the new hash differs" [ "$hash2" != "$hash1" ]
check "status shows the new policy" grep -qx "policy $hash2" <<<"$(O status)"
check "the new policy is kept" [ -f "$WORK/state/policies/$hash2.conf" ]
check "reload is audited" audit_has policy.reload "\"result\":\"ok\""
check "sessions still go through" [ "$(vssh alice+plc1 echo hi 2>&1)" = hi ]

# --- reload: a bad policy keeps the old one, and says why
cp "$WORK/policy.conf" "$WORK/policy.good"
printf '[asset broken\nnonsense\n' >>"$WORK/policy.conf"
O reload >"$WORK/out" 2>"$WORK/err"; rc=$?
cat "$WORK/out" "$WORK/err"
check "bad reload exits 1" [ $rc -eq 1 ]
check "bad reload prints FILE:LINE:COL errors" grep -Eq 'policy\.conf:[0-9]+:[0-9]+: error:' "$WORK/err"
check "bad reload says the old policy is kept" grep -q "keeping policy $hash2" "$WORK/err"
check "status still shows the old policy" grep -qx "policy $hash2" <<<"$(O status)"
check "bad reload is audited" audit_has policy.reload "\"result\":\"invalid\""
check "sessions still go through after a bad reload" [ "$(vssh alice+plc1 echo hi 2>&1)" = hi ]
cp "$WORK/policy.good" "$WORK/policy.conf"

# --- the socket's mode, and peers without rights
mode=$(stat -c %a "$WORK/control.sock")
check "control socket is 0660 (is $mode)" [ "$mode" = 660 ]
if [ "$(id -u)" -eq 0 ]; then
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	nobody "$OTGATE" -f "$WORK/otgated.conf" status >"$WORK/out" 2>"$WORK/err"; rc=$?
	cat "$WORK/err"
	check "nobody is stopped by the socket's mode" [ $rc -eq 1 ]
	check "with a clear message" grep -q "permission denied" "$WORK/err"
	# wide open file mode: only the broker's SO_PEERCRED check stands
	chmod 0666 "$WORK/control.sock"
	nobody "$OTGATE" -f "$WORK/otgated.conf" reload >"$WORK/out" 2>"$WORK/err"; rc=$?
	cat "$WORK/err"
	check "the broker refuses a peer without rights" [ $rc -eq 1 ]
	check "and tells it why" grep -q "the broker refused: permission denied" "$WORK/err"
	check "the refusal is logged with the uid" grep -q "control: refused uid 65534" "$WORK/otgated.log"
	check "the refused reload did not run" [ "$(grep -c '"event":"policy.reload"' "$WORK/audit.log")" -eq 2 ]
	chmod 0660 "$WORK/control.sock"
else
	echo "not root: the refused-peer checks need another uid (skipped)"
fi

# --- a broker that is gone
kill "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
O status >/dev/null 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "status without a broker exits 1" [ $rc -eq 1 ]
check "and says the broker is not running" grep -q "the broker is not running" "$WORK/err"
check "the socket was removed at exit" [ ! -e "$WORK/control.sock" ]
check "the audit chain verifies" python3 - "$WORK/audit.log" <<'EOF'
import hashlib, json, sys
prev = "0" * 64
for n, line in enumerate(open(sys.argv[1], encoding="utf-8").read().splitlines(), 1):
    o = json.loads(line)
    assert o["seq"] == n and o["prev"] == prev, (n, o)
    prev = hashlib.sha256(line.encode()).hexdigest()
EOF
e2e_finish
