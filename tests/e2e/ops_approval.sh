#!/bin/bash
# ops_approval.sh: just-in-time approval with the real ssh client. An exec to
# a needs-approval asset is refused with the request number and goes through
# once approved (within --for); a pty shell shows the wait, holds without
# using CPU and gets its shell after `otgate approve`; deny shows the reason;
# an unanswered request expires; Ctrl-C cancels; `approvers = GROUP` keeps
# others out; requests [--json]; answering unknown, answered or malformed
# requests gives clear errors; everything is audited.
. "$(dirname "$0")/lib.sh"

e2e_init
asset_start plc1 127.0.0.2
asset_start plc2 127.0.0.3
asset_start plc3 127.0.0.4
mygroup=$(id -gn)
cat >"$WORK/extra.conf" <<EOT

[role strict]
assets = plc2
allow = shell exec
approval = required
approvers = nogroup

[user bob]
company = Other Vendor & Co
roles = maint strict
auth = publickey
pubkey = $(cat "$WORK/mallory_key.pub")
EOT
MAINT_ASSETS="plc1 plc3" policy_write "$WORK/extra.conf"
sed -i "/^\[role maint\]$/a approval = required\napprovers = $mygroup" "$WORK/policy.conf"
sed -i 's/^roles = maint$/roles = maint strict/' "$WORK/policy.conf"
conf_write
# long enough for the checks before each approve on a loaded machine (tests
# run side by side), short enough to wait out once for the expiry
echo "approval-timeout = 10s" >>"$WORK/otgated.conf"
# on-request: a hook that keeps what it was given (run as the broker's user)
printf '#!/bin/sh\ncat >"%s/hook.$$"\nenv >"%s/hook-env.$$"\n' "$WORK" "$WORK" >"$WORK/page.sh"
chmod 0755 "$WORK/page.sh"
echo "on-request = page.sh" >>"$WORK/otgated.conf"
broker_start
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }
not() { ! "$@" 2>/dev/null; }

OG="$OTGATE -f $WORK/otgated.conf"

# --- exec: refused with the request number, through once approved
vssh alice+plc1 'echo ran' >"$WORK/out" 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "an exec to a needs-approval asset is refused (exit $rc)" [ $rc -eq 1 ]
check "with the request number" grep -qx "otgate: plc1: request 1 is waiting for approval" "$WORK/err"
check "and did not run" not grep -q ran "$WORK/out"
out=$(O requests)
echo "$out"
check "requests lists it" grep -Eq "^1 [0-9T:-]+Z alice plc1 \(Test Automation\)" <<<"$out"
check "requests --json has id user company asset reason since" python3 -c '
import json, sys
rows = [json.loads(l) for l in sys.stdin.read().splitlines() if l]
assert len(rows) == 1, rows
r = rows[0]
assert r["id"] == 1 and r["user"] == "alice" and r["company"] == "Test Automation", r
assert r["asset"] == "plc1" and r["reason"] == "" and r["since"].endswith("Z"), r' <<<"$(O requests --json)"
check "approval.request is audited" audit_has approval.request '"request":1,.*"user":"alice".*"asset":"plc1"'
for _ in $(seq 1 50); do ls "$WORK"/hook.[0-9]* >/dev/null 2>&1 && break; sleep 0.1; done
check "on-request ran with the request as JSON on stdin" python3 -c '
import glob, json, sys
files = glob.glob(sys.argv[1] + "/hook.[0-9]*")
assert len(files) == 1, files
r = json.loads(open(files[0]).read())
assert r["id"] == 1 and r["user"] == "alice" and r["asset"] == "plc1", r
assert r["company"] == "Test Automation" and r["since"].endswith("Z"), r' "$WORK"
check "with an empty environment (PATH only)" \
	[ "$(cut -d= -f1 "$WORK"/hook-env.[0-9]* | grep -v '^PWD$' | sort | tr '\n' ' ')" = "PATH " ]
out=$(O approve 1 --for 2m); rc=$?
echo "$out"
check "approve 1 --for 2m exits 0" [ $rc -eq 0 ] && grep -q "request 1 approved: alice on plc1 for 120s" <<<"$out"
check "approval.granted is audited with the operator's uid" \
	audit_has approval.granted "\"request\":1,.*\"uid\":$(id -u)"
check "the retry goes through" [ "$(vssh alice+plc1 'echo ran' 2>&1)" = ran ]
check "so does the next session within --for" [ "$(vssh alice+plc1 'echo again' 2>&1)" = again ]
check "no request waits any more" [ -z "$(O requests)" ]

# --- bad answers
O approve 1 2>"$WORK/err"; rc=$?
check "approving an answered request fails (exit $rc)" [ $rc -eq 1 ] && grep -q "request 1 is approved already" "$WORK/err"
O deny 99 2>"$WORK/err"; rc=$?
check "denying an unknown request fails" [ $rc -eq 1 ] && grep -q "no request 99" "$WORK/err"
O approve abc 2>/dev/null; rc=$?
check "a request that is not a number is a usage error" [ $rc -eq 2 ]
O approve 1 --for 2x 2>/dev/null; rc=$?
check "a bad --for is refused" [ $rc -eq 1 ]

# --- pty: the wait, then the shell after approve
cat >"$WORK/s1" <<EOT
expect Access to plc3 needs approval: request 2 is waiting for a plant operator (Ctrl-C to cancel)
run $OG requests | grep -q '^2 .* alice plc3 '
sleep 2
run cat /proc/$BROKER_PID/stat | awk '{print \$14 + \$15}' >$WORK/cpu1
sleep 2
run cat /proc/$BROKER_PID/stat | awk '{print \$14 + \$15}' >$WORK/cpu2
run $OG approve 2 >/dev/null
send echo ok-\$((40+2))\r
expect ok-42
send exit 3\r
status 3
EOT
check "a pty waits, and gets its shell once approved" pty_drive "$WORK/s1" "$WORK/alice_key" alice+plc3
cpu=$(( $(cat "$WORK/cpu2") - $(cat "$WORK/cpu1") ))
check "the broker used no CPU while it waited ($cpu ticks in 2 s)" [ "$cpu" -le 10 ]

# --- deny shows the reason
cat >"$WORK/s2" <<EOT
expect request 3 is waiting for a plant operator
run $OG deny 3 --reason 'line 3 is running, try after 16:00' >/dev/null
expect otgate: plc3: request 3 was denied: line 3 is running, try after 16:00
status 1
EOT
check "deny ends the wait with the reason" pty_drive "$WORK/s2" "$WORK/mallory_key" bob+plc3
check "approval.denied is audited" audit_has approval.denied '"request":3,.*"reason":"line 3 is running'

# --- approvers: outside the group, refused; unanswered, the request expires
cat >"$WORK/s3" <<EOT
expect request 4 is waiting for a plant operator
run ! $OG approve 4 2>$WORK/err4
expect otgate: plc2: request 4 expired unanswered
status 1
EOT
start=$(date +%s)
check "an unanswered request ends the wait when it expires" pty_drive "$WORK/s3" "$WORK/mallory_key" bob+plc2
took=$(($(date +%s) - start))
cat "$WORK/err4"
check "after approval-timeout (10 s; took $took s)" [ $took -ge 9 ] && [ $took -le 17 ]
check "approving from outside approvers is refused" grep -q "only members of group nogroup may answer request 4" "$WORK/err4"
check "and audited" audit_has approval.refused '"request":4,'
check "the expiry is audited" audit_has approval.expired '"request":4,'

# --- Ctrl-C cancels the wait
cat >"$WORK/s4" <<EOT
expect request 5 is waiting for a plant operator
send \x03
expect otgate: plc2: cancelled while waiting for approval
status 1
EOT
check "Ctrl-C cancels the wait" pty_drive "$WORK/s4" "$WORK/mallory_key" bob+plc2
check "the broker still answers" O status >/dev/null
e2e_finish
