#!/bin/bash
# The broker records what it relays: a pty session as asciicast (typed command
# and its output, found by `otgate search`, played by asciinema, verified), an
# exec as a stream that `otgate export` gives back byte for byte, listed by
# `otgate sessions` within a second of its end, checkpoints in the audit log.
# kill -9 of the broker mid-session leaves a verifiable prefix that the next
# start marks interrupted; after logrotate `otgate verify --audit` checks the
# rotated file and the log as one chain, and calls the current log given alone
# incomplete (exit 4); a
# recordings folder that cannot
# be written refuses new sessions with "recording failed" and audits
# recording.failed, and one that fills mid-session ends the session; `otgate purge` defaults to recording-retention; with
# recording-recipient recordings are encrypted to the auditor's key.
. "$(dirname "$0")/lib.sh"
e2e_init
asset_start plc1 127.0.0.2
policy_write
broker_start
# the CLI, retried while a concurrent build replaces the binary
O() {
	local i rc
	for ((i = 0; i < 50; i++)); do
		"$OTGATE" -f "$WORK/otgated.conf" "$@"
		rc=$?
		[ $rc -ne 126 ] && return $rc
		sleep 0.2
	done
	return $rc
}
# Start the broker again, as broker_start does, but leave the recording key
# root's: the broker refuses a key the user it drops to could read or replace.
# Args: a command to run the broker under (unshare ...), if any.
broker_again() {
	declare -F e2e_own >/dev/null && e2e_own
	[ -n "${E2E_USER:-}" ] && chown -R 0:0 "$WORK/state/keys"
	"$@" "$OTGATED" -D -f "$WORK/otgated.conf" >>"$WORK/otgated.log" 2>&1 &
	BROKER_PID=$!
	E2E_PIDS+=($BROKER_PID)
	wait_port 127.0.0.1 "$BROKER_PORT" || {
		echo "FAIL: otgated did not start:"; tail -n 20 "$WORK/otgated.log"; exit 1; }
}

# --- a pty session: the typed command and its output
printf 'echo rec-probe-$((6*7))\nexit 3\n' |
	vssh alice+plc1 -tt >"$WORK/pty.out" 2>&1
rc=$?
check "pty session ran (exit 3 relayed, got $rc)" [ $rc -eq 3 ]
check "pty session printed the probe" grep -q "rec-probe-42" "$WORK/pty.out"
sleep 1
O sessions --json >"$WORK/sessions.json" 2>&1
check "otgate sessions lists the shell within a second of its end" \
	grep -q '"kind":"shell"' "$WORK/sessions.json"
shell_id=$(python3 -c 'import json,sys
for l in open(sys.argv[1]):
    l = l.strip()
    if not l: continue
    try: o = json.loads(l)
    except ValueError: continue
    for s in (o if isinstance(o, list) else [o]):
        if s.get("kind") == "shell": print(s["id"]); sys.exit(0)' "$WORK/sessions.json")
check "the shell session has an ID" [ -n "$shell_id" ]
cast=$(find "$WORK/state/recordings" -name "$shell_id.cast")
check "its recording is STATE/recordings/Y/M/D/ID.cast" [ -n "$cast" ]
check "the recording holds the output" grep -q 'rec-probe-42' "$cast"
check "the recording holds the typed command (record-input yes)" \
	grep -q '"i", *"echo rec' "$cast"
check "login and end markers" grep -q '"m", *"login"' "$cast"
grep -q '"m", *"end"' "$cast" || { echo "FAIL: no end marker"; FAILS=$((FAILS + 1)); }
head -n1 "$cast" >"$WORK/header"
check "the header names user, asset, kind and policy" python3 -c 'import json,sys
h = json.load(open(sys.argv[1]))["otgate"]
assert h["user"] == "alice" and h["asset"] == "plc1" and h["kind"] == "shell", h
assert len(h["policy"]) == 64 and h["company"] == "Test Automation", h
for k in ("session", "conn", "src"): assert h[k], k' "$WORK/header"
out=$(O verify "$shell_id" 2>&1)
check "otgate verify says verified (got '$out')" grep -q "verified" <<<"$out"
out=$(O search rec-probe-42 2>&1)
check "otgate search finds the output (got '$out')" grep -q "${shell_id:0:8}" <<<"$out"
timeout 20 asciinema play "$cast" </dev/null >"$WORK/play" 2>&1
check "asciinema play exits 0 on it" [ $? -eq 0 ]
check "session.checkpoint events in the audit log" \
	audit_has session.checkpoint "\"session\":\"$shell_id\".*\"seal\":[0-9]"
check "the final checkpoint too" audit_has session.checkpoint "\"session\":\"$shell_id\".*\"final\":1"

# --- exec: a stream, exported byte for byte
head -c 300000 /dev/urandom >"$WORK/blob"
chmod 0644 "$WORK/blob"
vssh alice+plc1 cat "$WORK/blob" >"$WORK/blob.got"
check "exec output relayed" cmp -s "$WORK/blob" "$WORK/blob.got"
sleep 1
exec_id=$(O sessions --json 2>/dev/null | python3 -c 'import json,sys
for l in sys.stdin:
    l = l.strip()
    if not l: continue
    try: o = json.loads(l)
    except ValueError: continue
    for s in (o if isinstance(o, list) else [o]):
        if s.get("kind") == "exec": print(s["id"]); sys.exit(0)')
check "the exec is listed" [ -n "$exec_id" ]
check "recorded as a stream" [ -n "$(find "$WORK/state/recordings" -name "$exec_id.stream")" ]
O export "$exec_id" -o "$WORK/blob.export" >/dev/null 2>&1
check "otgate export gives the output back byte for byte" cmp -s "$WORK/blob" "$WORK/blob.export"
out=$(O verify "$exec_id" 2>&1)
check "the stream verifies (got '$out')" grep -q "verified" <<<"$out"

# --- kill -9 mid-session: a verifiable prefix, interrupted at the next start
(echo $BASHPID >"$WORK/feeder"; printf 'while :; do echo crash-tick; sleep 0.2; done\n'
	exec sleep 30) | VSSH_TIMEOUT=40 vssh alice+plc1 -tt >/dev/null 2>&1 &
client=$!
sleep 3
kill -9 "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
kill "$client" "$(cat "$WORK/feeder")" 2>/dev/null	# wait waits for the whole pipe
wait "$client" 2>/dev/null
part=$(find "$WORK/state/recordings" -name '*.cast.part' | head -n1)
check "the crashed session left ID.cast.part" [ -n "$part" ]
check "its prefix holds output" grep -q crash-tick "$part"
out=$(O verify "$part" 2>&1)
rc=$?
check "the prefix verifies as interrupted or unsealed tail (got '$out', $rc)" \
	python3 -c 'import sys; s = sys.argv[1]; sys.exit(0 if int(sys.argv[2]) == 0 and
("interrupted" in s or "unsealed tail" in s) else 1)' "$out" "$rc"
crash_id=$(basename "$part" .cast.part)
broker_again
sleep 0.5
check "the restarted broker renamed it" [ -f "${part%.part}" ] && [ ! -e "$part" ]
check "and audited it as interrupted" audit_has recording.interrupted "$crash_id"
check "and re-indexed it: listed with an end, no longer active" bash -c '
	"$1" -f "$2" sessions --json | grep "\"$3\"" | grep -q "\"end\":\"[0-9]"' \
	- "$OTGATE" "$WORK/otgated.conf" "$crash_id"
out=$(O verify "$crash_id" 2>&1)
check "which verifies as interrupted or unsealed tail (got '$out')" \
	grep -Eq "interrupted|unsealed tail" <<<"$out"
check "the audit chain holds across the crash" O verify --audit

# --- logrotate: the new file continues the rotated one
mv "$WORK/audit.log" "$WORK/audit.log.1"
kill -HUP "$BROKER_PID"
sleep 0.5
vssh alice+plc1 true
out=$(O verify --audit 2>&1); rc=$?
check "after rotation verify --audit checks audit.log.1, then audit.log (got $rc: '$out')" \
	eval '[ $rc -eq 0 ] && [ "$(sed "s/: verified ([0-9]* events)$//" <<<"$out")" = "$WORK/audit.log.1
$WORK/audit.log" ]'
out=$(O verify --audit "$WORK/audit.log" 2>&1); rc=$?
check "the current log given alone is incomplete, exit 4 (got $rc: '$out')" \
	eval '[ $rc -eq 4 ] && grep -q "incomplete: the chain starts at seq [0-9]*, the events before it were not checked (give the rotated files first)" <<<"$out"'
check "and both files in order" O verify --audit "$WORK/audit.log.1" "$WORK/audit.log"
O verify --audit "$WORK/audit.log" "$WORK/audit.log.1" >/dev/null
check "but not out of order" [ $? -eq 1 ]

# --- record-input = no: the output is recorded, the keystrokes are not
sed -i 's/^allow = shell exec$/&\nrecord-input = no/' "$WORK/policy.conf"
kill -HUP "$BROKER_PID"
sleep 0.5
printf 'echo quiet-$((2+3))\nexit\n' | vssh alice+plc1 -tt >/dev/null 2>&1
sleep 1
quiet=$(grep -l 'quiet-5' $(find "$WORK/state/recordings" -name '*.cast') /dev/null | head -n1)
check "record-input = no: the output is recorded" [ -n "$quiet" ]
check "record-input = no: no input events" bash -c '! grep -q "^\[[0-9.]*, *\"i\"" "$1"' - "$quiet"

# --- recording-recipient: encrypted at rest, readable with the auditor's key
kill "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
O recording auditor-keygen "$WORK/auditor" >/dev/null
cp "$WORK/otgated.conf" "$WORK/otgated.conf.plain"
echo "recording-recipient = $WORK/auditor.pub" >>"$WORK/otgated.conf"
broker_again
vssh alice+plc1 cat "$WORK/blob" >/dev/null
sleep 1
enc=$(find "$WORK/state/recordings" -name '*.stream.enc' | head -n1)
check "with recording-recipient the exec is recorded encrypted" [ -n "$enc" ]
enc_id=$(basename "$enc" .stream.enc)
O export "$enc_id" -o "$WORK/enc.export" >/dev/null 2>&1
check "export without the auditor key refuses" [ $? -ne 0 ]
O export "$enc_id" -o "$WORK/enc.export" --key "$WORK/auditor" >/dev/null 2>&1
check "export with the auditor key gives the bytes back" cmp -s "$WORK/blob" "$WORK/enc.export"
out=$(O verify "$enc_id" 2>&1)
check "the encrypted recording verifies (got '$out')" grep -q "verified" <<<"$out"
mv "$WORK/otgated.conf.plain" "$WORK/otgated.conf"

# --- a recordings folder that cannot be written refuses new sessions
kill "$BROKER_PID"
wait "$BROKER_PID" 2>/dev/null
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
	# a full tmpfs over STATE/recordings, seen by the broker only
	how="full tmpfs"
	cat >"$WORK/fullfs.sh" <<'EOT'
mount -t tmpfs -o size=64k,mode=0777 otgtest "$1/state/recordings" || exit 9
dd if=/dev/zero of="$1/state/recordings/fill" bs=4k count=64 2>/dev/null
shift
exec "$@"
EOT
	broker_again unshare -m --propagation private bash "$WORK/fullfs.sh" "$WORK"
else
	# not root: folders the broker may not write to
	how="read-only folders"
	find "$WORK/state/recordings" -type d -exec chmod 0500 {} +
	broker_again
fi
vssh alice+plc1 echo must-not-run >"$WORK/full.out" 2>"$WORK/full.err"
rc=$?
check "$how: the session is refused (status $rc)" [ $rc -ne 0 ]
check "$how: nothing was relayed" [ ! -s "$WORK/full.out" ]
check "$how: the vendor is told 'recording failed' (got '$(cat "$WORK/full.err")')" \
	grep -q "otgate: plc1: recording failed" "$WORK/full.err"
check "$how: audited as recording.failed" audit_has recording.failed "recording failed"
kill -0 "$BROKER_PID" 2>/dev/null
check "broker still running" [ $? -eq 0 ]

# --- a disk that fills mid-session ends the session: the recorder thread's
# write failure reaches the relay, which stops within the 256 KiB the
# recorder may be behind (fail closed)
if [ "$how" = "full tmpfs" ]; then
	kill "$BROKER_PID"
	wait "$BROKER_PID" 2>/dev/null
	cat >"$WORK/smallfs.sh" <<'EOT'
mount -t tmpfs -o size=2m,mode=0777 otgtest "$1/state/recordings" || exit 9
shift
exec "$@"
EOT
	broker_again unshare -m --propagation private bash "$WORK/smallfs.sh" "$WORK"
	vssh alice+plc1 'head -c 32M /dev/zero' >"$WORK/mid.out" 2>"$WORK/mid.err"
	rc=$?
	got=$(stat -c %s "$WORK/mid.out")
	check "disk full mid-session: the session ends (status $rc)" [ $rc -ne 0 ]
	check "disk full mid-session: the relay stopped with the recording ($got of 32 MiB relayed)" \
		[ "$got" -lt $((3 * 1024 * 1024)) ]
	check "disk full mid-session: the vendor is told (got '$(cat "$WORK/mid.err")')" \
		grep -q "otgate: plc1: recording failed" "$WORK/mid.err"
	check "disk full mid-session: audited as recording.failed" \
		audit_wait recording.failed "writing the recording"
	kill -0 "$BROKER_PID" 2>/dev/null
	check "broker still running after a recording failed mid-session" [ $? -eq 0 ]
fi

out=$(O purge --dry-run 2>&1)
check "purge defaults to the built-in recording-retention (got '$out')" \
	grep -q "older than 400 days" <<<"$out"
echo "recording-retention = 3d" >>"$WORK/otgated.conf"
out=$(O purge --dry-run 2>&1)
check "and follows recording-retention (got '$out')" grep -q "older than 3 days" <<<"$out"
e2e_finish
