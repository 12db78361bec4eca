#!/bin/bash
# logrotate.sh: the packaged logrotate configuration on a running broker. The
# audit log is rotated (renamed, not recreated), the postrotate SIGHUP makes
# otgated open a fresh file, and the chain goes on across the two files: the
# first line of the new file has the next seq and the SHA-256 of the old file's
# last line, and the old file still verifies on its own. `otgate verify --audit`
# with no FILE checks the rotated files (gzip ones too) and the log as one
# chain: exit 0 over two more real rotations, 1 naming the .gz file after a
# byte in it is flipped, 4 saying so once the oldest file is gone.
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

OG() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }
out=$(OG verify --audit 2>&1); rc=$?
check "verify --audit with no FILE checks the rotated file, then the log (got $rc: '$out')" \
	eval '[ $rc -eq 0 ] && [ "$(sed "s/: verified ([0-9]* events)$//" <<<"$out")" = "$old
$LOG" ]'

# two more rotations as if a month had passed before each (the dateformat
# allows one a day): the previous file gets an older date, logrotate renames
# the log, delaycompress gzips the one before, the SIGHUP opens a new log
rotate_as() {	# DATE: the newest rotated file becomes audit.log-DATE, then rotate
	mv "$old" "$WORK/audit.log-$1"
	logrotate -f -s "$WORK/logrotate.state" "$WORK/logrotate.conf" &&
		wait_lines "$LOG" 1 && kill -HUP "$BROKER_PID" && wait_lines "$LOG" 2
}
check "a second rotation" rotate_as 20000101
check "a third rotation" rotate_as 20000201
check "delaycompress gzipped the two older files" \
	eval '[ -f "$WORK/audit.log-20000101.gz" ] && [ -f "$WORK/audit.log-20000201.gz" ] &&
	[ -f "$old" ]'
out=$(OG verify --audit 2>&1); rc=$?
check "verify --audit links the gzip files, the rotated one and the log, oldest first (got $rc: '$out')" \
	eval '[ $rc -eq 0 ] && [ "$(sed "s/: verified ([0-9]* events)$//" <<<"$out")" = "$WORK/audit.log-20000101.gz
$WORK/audit.log-20000201.gz
$old
$LOG" ]'

flip() {	# FILE: flip one bit of the byte in the middle
	python3 -c 'import sys
with open(sys.argv[1], "r+b") as f:
    b = bytearray(f.read()); b[len(b) // 2] ^= 1; f.seek(0); f.write(b)' "$1"
}
gz=$WORK/audit.log-20000201.gz
flip "$gz"
out=$(OG verify --audit 2>&1); rc=$?
check "a byte flipped in a rotated .gz: exit 1 naming it (got $rc: '$out')" \
	eval '[ $rc -eq 1 ] && grep -Eq "^$gz: (tampered at line [0-9]+|the compressed data is damaged)" <<<"$out"'
check "and the files after it are not called verified" \
	grep -qx "$LOG: not checked (an earlier file failed)" <<<"$out"
flip "$gz"
check "flipped back, the set verifies again" OG verify --audit

rm "$WORK/audit.log-20000101.gz"	# what rotate 24 does to the oldest
out=$(OG verify --audit 2>&1); rc=$?
check "the oldest file gone: exit 4, incomplete, naming the oldest left (got $rc: '$out')" \
	eval '[ $rc -eq 4 ] && grep -q "^$gz: incomplete: the chain starts at seq [0-9]*, the events before it were not checked (no older file found next to the log: deleted by logrotate, or lines removed)" <<<"$out"'
e2e_finish
