#!/bin/bash
# audit_full.sh: otgated fails closed when its audit log cannot be written
# (IEC 62443-3-3 SR 2.10). The audit log lives on a small tmpfs that only the
# broker's mount namespace sees; once it is full a running session ends with
# "audit log unavailable" (its own session.checkpoint, which the recorder
# thread writes, is what fails), logins are refused with that reason, and
# `otgate status` says so. After space is freed the broker writes
# audit.recovered, logins work again and `otgate verify --audit` accepts the
# chain. Needs root (mount, nsenter).
. "$(dirname "$0")/lib.sh"
[ "$(id -u)" -eq 0 ] || e2e_skip "needs root to mount a tmpfs"
unshare -m true 2>/dev/null || e2e_skip "cannot make a mount namespace"
command -v nsenter >/dev/null || e2e_skip "no nsenter"
e2e_init
asset_start plc1 127.0.0.2
policy_write
conf_write
sed -i 's|^audit-log = .*|audit-log = auditfs/audit.log|' "$WORK/otgated.conf"
mkdir -p "$WORK/auditfs"
e2e_own
owner=$(id -u "${E2E_USER:-root}")
cat >"$WORK/auditfs.sh" <<'EOT'
mount -t tmpfs -o size=256k,mode=0755,uid="$2" otgaudit "$1/auditfs" || exit 9
shift 2
exec "$@"
EOT
unshare -m --propagation private bash "$WORK/auditfs.sh" "$WORK" "$owner" \
	"$OTGATED" -D -f "$WORK/otgated.conf" >>"$WORK/otgated.log" 2>&1 &
BROKER_PID=$!
E2E_PIDS+=($BROKER_PID)
wait_port 127.0.0.1 "$BROKER_PORT" || {
	echo "FAIL: otgated did not start:"; cat "$WORK/otgated.log"; exit 1; }
# what the broker's namespace sees
IN() { nsenter -t "$BROKER_PID" -m "$@"; }
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }

out=$(vssh alice+plc1 echo before-full 2>&1)
check "a login works while the audit log can be written (got '$out')" \
	grep -qx before-full <<<"$out"
check "status says the audit log is ok" bash -c '"$1" -f "$2" status | grep -qx "audit ok"' \
	- "$OTGATE" "$WORK/otgated.conf"

# a running session that prints 70 KB twice a second: a seal, and so a
# session.checkpoint, each time (the recorder thread writes those)
(printf 'while :; do echo tick; head -c 70000 /dev/zero | tr "\\0" t; echo; sleep 0.5; done\n'
	sh -c 'echo $$ >"$1"; exec sleep 60' - "$WORK/feeder.pid") 2>/dev/null |
	VSSH_TIMEOUT=70 vssh alice+plc1 -tt >"$WORK/running.out" 2>&1 &
client=$!
for ((i = 0; i < 100; i++)); do grep -q tick "$WORK/running.out" && break; sleep 0.1; done

# fill the file system; a few events may still fit in the log's last page.
# Nothing but the running session's checkpoints is written until it ends:
# one the recorder thread cannot write must end it as any other event would.
IN dd if=/dev/zero of="$WORK/auditfs/fill" bs=4k 2>/dev/null
for ((i = 0; i < 300; i++)); do kill -0 "$client" 2>/dev/null || break; sleep 0.1; done
check "the running session was ended by its own checkpoints" \
	bash -c '! kill -0 "$1" 2>/dev/null' - "$client"
check "and told the vendor why" grep -q "otgate: plc1: audit log unavailable" "$WORK/running.out"
check "the broker named the event it could not write" \
	grep -q "audit log .*: cannot record session.checkpoint; refusing logins" "$WORK/otgated.log"
kill "$(cat "$WORK/feeder.pid")" 2>/dev/null
wait "$client" 2>/dev/null
refused=0
for ((i = 0; i < 15; i++)); do
	VSSH_LOGLEVEL=INFO vssh alice+plc1 echo must-not-run >"$WORK/full.out" 2>"$WORK/full.err"
	rc=$?
	if grep -q "audit log unavailable" "$WORK/full.err"; then refused=1; break; fi
done
check "with the audit log full a login is refused (status $rc): '$(tail -n 2 "$WORK/full.err")'" \
	[ $refused -eq 1 ] && [ $rc -ne 0 ]
check "nothing ran" [ ! -s "$WORK/full.out" ]
check "the vendor reads 'otgate: login refused: audit log unavailable'" \
	grep -q "otgate: login refused: audit log unavailable" "$WORK/full.err"
st=$(O status)
check "status says since when the audit log is unavailable ('$(grep audit <<<"$st")')" \
	grep -Eq '^audit unavailable since [0-9T:-]+Z, [0-9]+ event\(s\) not written$' <<<"$st"
check "the broker says so loudly in its log" \
	grep -q "audit log .*: cannot record .*refusing logins and ending sessions" "$WORK/otgated.log"

# space again: the broker recovers within a few seconds
IN rm -f "$WORK/auditfs/fill"
for ((i = 0; i < 50; i++)); do O status | grep -qx "audit ok" && break; sleep 0.1; done
check "status says ok again" bash -c '"$1" -f "$2" status | grep -qx "audit ok"' \
	- "$OTGATE" "$WORK/otgated.conf"
out=$(vssh alice+plc1 echo after-recovery 2>&1)
check "a login works again (got '$out')" grep -qx after-recovery <<<"$out"
IN cat "$WORK/auditfs/audit.log" >"$WORK/audit.copy"
check "audit.recovered says since when and how many events were lost" \
	grep -Eq '"event":"audit.recovered","since":"[0-9T:-]+Z","lost":[1-9]' "$WORK/audit.copy"
check "the login after recovery is audited" grep -q '"event":"auth.success"' \
	<(sed -n '/audit.recovered/,$p' "$WORK/audit.copy")
out=$(IN "$OTGATE" -f "$WORK/otgated.conf" verify --audit 2>&1)
check "the audit chain still verifies (got '$out')" grep -q "verified" <<<"$out"
IN "$OTGATE" -f "$WORK/otgated.conf" verify --audit >/dev/null 2>&1
check "verify --audit exits 0" [ $? -eq 0 ]
e2e_finish
