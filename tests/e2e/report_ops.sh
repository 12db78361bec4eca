#!/bin/bash
# report_ops.sh: `otgate report incident` (issue 11) on a broker that ran the
# operator's work: an exec refused until `otgate approve`, an sftp upload and
# a session ended by `otgate kill`. The bundle's timeline.jsonl holds
# approval.request and approval.granted (with the operator's uid), the
# transfer.file close with the upload's SHA-256 as sha256sum computes it, and
# session.kill with its reason; indicators.json lists the uploaded file with
# that hash; the killed session's recording is in sessions/ and verifies.
. "$(dirname "$0")/lib.sh"
e2e_init
command -v sha256sum >/dev/null || e2e_skip "no sha256sum"
command -v sftp >/dev/null || e2e_skip "no sftp client"
[ -x /usr/lib/openssh/sftp-server ] || e2e_skip "no /usr/lib/openssh/sftp-server"
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }
asset_start plc1 127.0.0.2
# the asset serves sftp: restart its sshd with the subsystem
asset_stop plc1
echo "Subsystem sftp /usr/lib/openssh/sftp-server" >>"$WORK/asset-plc1/sshd_config"
/usr/sbin/sshd -D -e -f "$WORK/asset-plc1/sshd_config" 2>>"$WORK/asset-plc1/sshd.log" &
E2E_PIDS+=($!)
wait_port 127.0.0.2 "$ASSET_PORT_plc1" || { echo "FAIL: sshd did not restart"; exit 1; }
policy_write
sed -i "s/^allow = shell exec$/allow = shell exec sftp\napproval = required\napprovers = $(id -gn)/" \
	"$WORK/policy.conf"
broker_start
uid=$(id -u)

# --- approval: refused with the request number, approved, the retry runs
vssh alice+plc1 'echo ran' >"$WORK/out" 2>"$WORK/err"; rc=$?
check "an exec needing approval is refused (rc $rc: $(cat "$WORK/err"))" \
	grep -qx "otgate: plc1: request 1 is waiting for approval" "$WORK/err"
O approve 1 --for 5m >"$WORK/out" 2>&1; rc=$?
check "otgate approve 1 --for 5m exits 0 (rc $rc: $(cat "$WORK/out"))" [ $rc -eq 0 ]
out=$(vssh alice+plc1 'echo ran' 2>&1)
check "the retry runs once approved (said '$out')" [ "$out" = ran ]

# --- an sftp upload of a small random file
FILES=$WORK/files
mkdir -p "$FILES"
chmod 0777 "$FILES"
head -c 20000 /dev/urandom >"$WORK/up.bin"
want=$(sha256sum <"$WORK/up.bin" | cut -d' ' -f1)
printf 'put %s %s\n' "$WORK/up.bin" "$FILES/up.bin" >"$WORK/batch"
timeout 60 sftp -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes \
	-o StrictHostKeyChecking=no -o UserKnownHostsFile="$WORK/known_hosts" \
	-o LogLevel=ERROR -i "$WORK/alice_key" -P "$BROKER_PORT" -b "$WORK/batch" \
	alice+plc1@127.0.0.1 >"$WORK/sftp.out" 2>&1; rc=$?
got=$(sha256sum <"$FILES/up.bin" 2>/dev/null | cut -d' ' -f1)
check "sftp put through the broker arrived intact (rc $rc: $(tail -n 2 "$WORK/sftp.out"))" \
	[ "$got" = "$want" ]

# --- a long exec ended by otgate kill
vssh alice+plc1 'echo started; sleep 30; echo not-killed' >"$WORK/v.out" 2>"$WORK/v.err" &
live=$!
id=
for _ in $(seq 1 100); do
	id=$(O sessions --active | awk '$3 == "plc1" && $6 != "-" {print $1}')
	[ -n "$id" ] && break
	sleep 0.1
done
check "a long exec session runs ('$id')" [ -n "$id" ]
O kill "$id" --reason 'report-ops kill test' >"$WORK/out" 2>&1; rc=$?
check "otgate kill exits 0 (rc $rc: $(cat "$WORK/out"))" [ $rc -eq 0 ]
wait $live
check "the killed command did not finish" sh -c "! grep -q not-killed '$WORK/v.out'"
for _ in $(seq 1 50); do audit_has session.end "\"session\":\"$id\"" && break; sleep 0.1; done
check "the killed session ended in the audit log" audit_has session.end "\"session\":\"$id\""

# --- the incident bundle
B=$WORK/bundle
O report incident --since 1h --asset plc1 -o "$B" >"$WORK/rep" 2>&1; rc=$?
check "report incident exits 0 (rc $rc: $(tail -n 3 "$WORK/rep"))" [ $rc -eq 0 ]
T=$B/timeline.jsonl
ev() {	# EVENT PATTERN: a timeline line of EVENT matching PATTERN
	grep "\"event\":\"$1\"" "$T" | grep -q -- "$2"
}
check "timeline: approval.request 1 by alice on plc1" \
	ev approval.request '"request":1,.*"user":"alice".*"asset":"plc1"'
check "timeline: approval.granted 1 with the operator's uid $uid ($(grep approval.granted "$T"))" \
	ev approval.granted "\"request\":1,.*\"uid\":$uid[,}]"
check "timeline: the approved retry's session.start (exec 'echo ran')" \
	ev session.start '"command":"echo ran"'
check "timeline: transfer.file close of $FILES/up.bin with sha256_written $want ($(grep transfer.file "$T" | grep '"op":"close"'))" \
	ev transfer.file "\"op\":\"close\".*\"path\":\"$FILES/up.bin\".*\"sha256_written\":\"$want\""
check "timeline: session.kill of $id with uid and reason ($(grep session.kill "$T"))" \
	ev session.kill "\"session\":\"$id\".*\"uid\":$uid,\"reason\":\"report-ops kill test\""
check "timeline: the killed session's session.end" ev session.end "\"session\":\"$id\""
python3 - "$B/indicators.json" "$FILES/up.bin" "$want" >"$WORK/ind" 2>&1 <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
files = d["files"]
hit = [f for f in files if f["name"] == sys.argv[2] and f["sha256"] == sys.argv[3]]
assert hit, ("no file %s with sha256 %s in" % (sys.argv[2], sys.argv[3]), files)
assert all(f["direction"] == "upload" and f["user"] == "alice" and f["asset"] == "plc1"
           for f in hit), hit
assert all(f["sha256"] for f in files), ("a file without a hash", files)
PY
check "indicators.json lists $FILES/up.bin as an upload with sha256 $want ($(cat "$WORK/ind"))" \
	[ ! -s "$WORK/ind" ]
n=$(find "$B/sessions/$id" -name "$id.*" ! -name '*.seal' 2>/dev/null | wc -l)
check "the killed session's recording is in sessions/$id ($(ls "$B/sessions/$id" 2>&1 | tr '\n' ' '))" \
	[ "$n" -ge 1 ] && [ -f "$B/sessions/$id/$id.seal" ]
check "and verifies ($(cat "$B/sessions/$id/verify.txt" 2>&1))" \
	grep -q "^$id: verified" "$B/sessions/$id/verify.txt"
check "the bundle verifies" sh -c "'$OTGATE' verify --bundle '$B' >/dev/null"
e2e_finish
