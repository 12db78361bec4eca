#!/bin/bash
# ops_reason.sh: role `reason = required`: a pty session is asked `Reason for
# access (ticket): ` before anything connects; the answer is kept as typed
# minus control bytes, escaped wherever shown: session.start, the recording's
# header (title), and `otgate requests` when the role also needs approval.
# Without a terminal the session is refused saying how to give one.
. "$(dirname "$0")/lib.sh"

e2e_init
asset_start plc1 127.0.0.2
asset_start plc2 127.0.0.3
cat >"$WORK/extra.conf" <<EOT

[role ticketed]
assets = plc2
allow = shell exec
approval = required
reason = required
EOT
MAINT_ASSETS="plc1" policy_write "$WORK/extra.conf"
sed -i "/^\[role maint\]$/a reason = required" "$WORK/policy.conf"
sed -i 's/^roles = maint$/roles = maint ticketed/' "$WORK/policy.conf"
broker_start
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }

OG="$OTGATE -f $WORK/otgated.conf"

# --- the prompt, then the shell; the reason is audited and titles the recording
cat >"$WORK/s1" <<EOT
expect Reason for access (ticket): 
send INC-4711 \x1b[31mpump\x7f\x7f\x7fmp2 <b>"x"</b>\r
send echo ok-\$((40+2))\r
expect ok-42
send exit\r
status 0
EOT
check "a pty is asked for a reason, then gets its shell" pty_drive "$WORK/s1" "$WORK/alice_key" alice+plc1
want='INC-4711 [31mpmp2 <b>\"x\"</b>'
check "session.start carries the reason (control bytes dropped, edited)" \
	grep -qF "\"reason\":\"$want\"" <(grep '"event":"session.start"' "$WORK/audit.log")
cast=$(find "$WORK/state/recordings" -name '*.cast' | head -1)
check "the recording's header has it as its title" \
	grep -qF "\"title\": \"$want\"" <(head -1 "$cast")

# --- without a terminal: refused, saying how
vssh alice+plc1 'echo ran' >"$WORK/out" 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "an exec without a terminal is refused (exit $rc)" [ $rc -eq 1 ]
check "saying how to give a reason" grep -q "otgate: plc1: a reason for access is required: connect with a terminal (ssh -t)" "$WORK/err"

# --- Ctrl-C at the prompt leaves
cat >"$WORK/s2" <<EOT
expect Reason for access (ticket): 
send half\x03
expect otgate: plc1: no reason given
status 1
EOT
check "Ctrl-C at the prompt ends the session" pty_drive "$WORK/s2" "$WORK/alice_key" alice+plc1

# --- with approval: the approver sees the reason
cat >"$WORK/s3" <<EOT
expect Reason for access (ticket): 
send CHG-99 replace \x1b]0;title\x07valve\r
expect request 1 is waiting for a plant operator
run $OG requests >$WORK/req.txt; $OG requests --json >$WORK/req.json; $OG approve 1 >/dev/null
send echo ok-\$((40+3))\r
expect ok-43
send exit\r
status 0
EOT
check "reason, then the approval wait, then the shell" pty_drive "$WORK/s3" "$WORK/alice_key" alice+plc2
cat "$WORK/req.txt" "$WORK/req.json"
check "requests shows the reason to the approver" grep -q "reason: CHG-99 replace ]0;titlevalve" "$WORK/req.txt"
check "requests --json has it too" python3 -c '
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[0])
assert r["reason"] == "CHG-99 replace ]0;titlevalve", r' "$WORK/req.json"
check "approval.request carries the reason" audit_has approval.request '"reason":"CHG-99 replace'
e2e_finish
