#!/bin/bash
# logrotate.sh: the packaged logrotate configuration on a running broker. The
# audit log is rotated (renamed, not recreated), the postrotate SIGHUP makes
# otgated open a fresh file, and the chain goes on across the two files: the
# first line of the new file has the next seq and the SHA-256 of the old file's
# last line, and the old file still verifies on its own.
. "$(dirname "$0")/lib.sh"

command -v logrotate >/dev/null || e2e_skip "logrotate is not installed"
e2e_init
policy_write
broker_start
LOG=$WORK/audit.log

lines() { [ -f "$1" ] && wc -l <"$1" || echo 0; }
wait_lines() {	# FILE N: until FILE has at least N lines, at most 5 s
	local i
	for ((i = 0; i < 100; i++)); do
		[ "$(lines "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

# an event before the rotation (SIGHUP audits a policy reload)
n=$(lines "$LOG")
kill -HUP "$BROKER_PID"
wait_lines "$LOG" $((n + 1)) || {
	echo "FAIL: SIGHUP added no audit event to $LOG"; cat "$WORK/otgated.log"; exit 1; }
before=$(lines "$LOG")

# the packaged file, pointed at this broker
sed -e "s#/var/log/otgate/audit.log#$LOG#" \
	-e "s#systemctl reload otgate.service.*#kill -HUP $BROKER_PID#" \
	"$TOP/packaging/otgate.logrotate" >"$WORK/logrotate.conf"
check "the postrotate of otgate.logrotate was rewritten to signal this broker" \
	grep -q "kill -HUP $BROKER_PID" "$WORK/logrotate.conf"
check "logrotate -f succeeds" logrotate -f -s "$WORK/logrotate.state" "$WORK/logrotate.conf"
old=$(ls "$WORK"/audit.log-[0-9]* 2>/dev/null | head -n 1)
check "the audit log was renamed to audit.log-YYYYMMDD" [ -n "$old" ]
[ -n "$old" ] || e2e_finish

if ! wait_lines "$LOG" 1; then
	if [ "$(lines "$old")" -gt "$before" ]; then
		check "otgated opened a new audit log on SIGHUP (it kept writing to $old)" false
	else
		check "otgated audited its SIGHUP" false
	fi
	e2e_finish
fi
# one more event, so the new file has a line after the reopen's own
kill -HUP "$BROKER_PID"
wait_lines "$LOG" 2

out=$("$OTGATE" -f "$WORK/otgated.conf" verify --audit "$old" 2>&1)
check "the rotated file verifies on its own ($out)" [ $? -eq 0 ]
check "the rotated file kept every line written before the rotation" \
	[ "$(lines "$old")" -ge "$before" ]
check "the new file is 0640" [ "$(stat -c %a "$LOG")" = 640 ]
check "the new file's first line continues the old file's chain" python3 - "$old" "$LOG" <<'EOF'
import hashlib, json, sys
old = open(sys.argv[1], "rb").read().split(b"\n")[:-1]
new = open(sys.argv[2], "rb").read().split(b"\n")[:-1]
last, first = json.loads(old[-1]), json.loads(new[0])
want_prev = hashlib.sha256(old[-1]).hexdigest()
ok = first["seq"] == last["seq"] + 1 and first["prev"] == want_prev
if not ok:
    print("old last seq %d; new first seq %d prev %s, expected %s"
          % (last["seq"], first["seq"], first["prev"], want_prev))
for a, b in zip(new, new[1:]):
    if json.loads(b)["prev"] != hashlib.sha256(a).hexdigest():
        print("the new file's own chain breaks")
        ok = False
sys.exit(0 if ok else 1)
EOF
e2e_finish
