#!/bin/bash
# report.sh: `otgate report incident` on a broker that ran real sessions (a
# recorded exec, a refused login, a policy reload) plus more recordings made
# through the recorder library (tests/e2e/recgen.c: a shell with typed input,
# an exec stream, one encrypted to an auditor; their session.start/.end events
# are appended to the audit log with a valid chain): the bundle holds each
# event byte for byte, the policies by hash,
# the recordings with their verdicts (one edited before export: tampered),
# indicators and drafts; MANIFEST.sha256 checks with sha256sum -c and its
# signature with ssh-keygen -Y verify and otgate verify --bundle, and both
# fail after any byte changes. Bad input: ranges, unknown names, existing
# output folder. `otgate report access` lists reach, unused accounts and MFA.
. "$(dirname "$0")/lib.sh"
e2e_init
command -v sha256sum >/dev/null || e2e_skip "no sha256sum"
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }
VB() { "$OTGATE" verify --bundle "$@" >/dev/null; }

asset_start plc-line3 127.0.0.2
cat >"$WORK/extra.conf" <<EOT

[user bob]
company = Idle Services Ltd
roles = maint
auth = publickey totp
pubkey = $(cat "$WORK/mallory_key.pub")

[asset hmi-nokey]
address = 127.0.0.9
login = nobody
EOT
policy_write "$WORK/extra.conf"
sed -i 's/^\[asset plc-line3\]$/&\ntags = zone:cell-3 level:1/' "$WORK/policy.conf"
broker_start
check "an auditor key for encrypted recordings" O recording auditor-keygen "$WORK/auditor"

# --- real sessions through the broker
out=$(vssh alice+plc-line3 'echo hello-from-plc' 2>&1)
check "an exec session through the broker (said '$out')" audit_has session.start '"kind":"exec"'
VKEY=$WORK/alice_key vssh mallory+plc-line3 true 2>/dev/null
check "a refused login is audited" audit_wait auth.failure mallory
echo "# reloaded for the report test" >>"$WORK/policy.conf"
kill -HUP "$BROKER_PID"
for _ in $(seq 50); do audit_has policy.reload '"result":"ok"' && break; sleep 0.1; done
check "a policy reload is audited" audit_has policy.reload '"result":"ok"'
newhash=$(grep '"event":"policy.reload"' "$WORK/audit.log" | tail -1 |
	sed 's/.*"policy":"\([0-9a-f]*\)".*/\1/')
real=$(grep '"event":"session.start"' "$WORK/audit.log" | head -1 |
	sed 's/.*"session":"\([0-9a-f]*\)".*/\1/')
kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
# the broker makes its recording key at start; recgen signs with the same one
[ -f "$WORK/state/keys/recording.key" ] || O recording keygen >/dev/null
check "the broker's recording key is there" [ -f "$WORK/state/keys/recording.key" ]

# --- recordings as the broker makes them, tied into the audit chain
san=""
case $BUILD in */san) san="-fsanitize=address,undefined -fno-omit-frame-pointer" ;; esac
# shellcheck disable=SC2046,SC2086
cc -std=c11 -D_GNU_SOURCE -I"$TOP" $san -o "$WORK/recgen" "$TOP/tests/e2e/recgen.c" \
	"$BUILD/libotg.a" $(pkg-config --libs libssh libevent liboath libcrypto libsodium sqlite3 \
	libqrencode) $(pkg-config --libs libseccomp 2>/dev/null) -lpam -lcrypt -lpthread ||
	{ echo "FAIL: cannot build recgen"; exit 1; }
"$WORK/recgen" "$WORK/state" "$WORK/auditor.pub" >"$WORK/ids" || { echo "FAIL: recgen"; exit 1; }
shell=$(awk '$1 == "shell" { print $2 }' "$WORK/ids")
exec=$(awk '$1 == "exec" { print $2 }' "$WORK/ids")
enc=$(awk '$1 == "encrypted" { print $2 }' "$WORK/ids")
python3 - "$WORK/audit.log" "$newhash" "$shell" "$exec" "$enc" <<'PY'
import hashlib, json, sys, datetime
path, policy, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
last = open(path, 'rb').read().rstrip(b'\n').split(b'\n')[-1]
seq = json.loads(last)['seq']
with open(path, 'ab') as f:
    for i, sid in enumerate(ids):
        kind, cmd = ('exec', 'show version') if i == 1 else ('shell', '')
        for ev, extra in (('session.start', ',"company":"Example Automation GmbH","src":"127.0.0.1","kind":"%s","pty":%d,"command":"%s","policy":"%s","role":"maint"' % (kind, kind == 'shell', cmd, policy)),
                          ('session.end', ',"kind":"%s","exit":0,"reason":"vendor disconnected"' % kind)):
            seq += 1
            ts = datetime.datetime.utcnow().strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z'
            line = ('{"ts":"%s","seq":%d,"prev":"%s","event":"%s","session":"%s","conn":"%s","user":"alice","asset":"plc-line3"%s}'
                    % (ts, seq, hashlib.sha256(last).hexdigest(), ev, sid, 'c' * 32, extra)).encode()
            f.write(line + b'\n')
            last = line
    # a forged session ID that would climb out of the bundle's sessions/ into
    # this test's own folder (never a shared path: tests run side by side)
    seq += 1
    line = ('{"ts":"%s","seq":%d,"prev":"%s","event":"session.start","session":"%s","user":"alice","asset":"plc-line3"}'
            % (ts, seq, hashlib.sha256(last).hexdigest(), "../../" + "z" * 26)).encode()
    f.write(line + b'\n')
PY
check "the audit chain still verifies" O verify --audit
# the exec recording is edited before anyone exports it
day=$(date -u +%Y/%m/%d)
printf 'X' | dd of="$WORK/state/recordings/$day/$exec.stream" bs=1 seek=200 conv=notrunc 2>/dev/null

# --- the incident bundle
B=$WORK/bundle
O report incident --since 1h --asset plc-line3 --key "$WORK/auditor" -o "$B" >"$WORK/out" 2>&1; rc=$?
cat "$WORK/out"
check "report incident exits 1: a recording is tampered (got $rc)" [ $rc -eq 1 ]
for f in timeline.jsonl timeline.md indicators.json report-24h.md report-72h.md \
	MANIFEST.sha256 MANIFEST.sha256.sig audit-verify.txt keys/allowed_signers; do
	check "the bundle has $f" [ -s "$B/$f" ]
done
n=0
while IFS= read -r line; do
	grep -qxF -- "$line" "$WORK/audit.log" || n=$((n + 1))
done <"$B/timeline.jsonl"
check "every timeline line is byte for byte an audit line, hashes intact ($n not)" [ $n -eq 0 ]
check "a forged session ID writes nothing outside the bundle" [ ! -e "$WORK/zzzzzzzzzzzzzzzzzzzzzzzzzz" ]
check "the timeline holds the refused login" grep -q '"event":"auth.failure".*mallory' "$B/timeline.jsonl"
check "the timeline holds the real exec session" grep -q "\"session.start\",\"session\":\"$real\"" "$B/timeline.jsonl"
check "the timeline holds the reload with the new policy hash" \
	grep -q "\"policy.reload\".*\"policy\":\"$newhash\"" "$B/timeline.jsonl"
check "the timeline in time order" sh -c "grep -o '\"seq\":[0-9]*' '$B/timeline.jsonl' | cut -d: -f2 | sort -nc"
check "the policy in force is in policies/ by its hash" [ -f "$B/policies/$newhash.conf" ]
check "and its hash is its content's" \
	[ "$(sha256sum "$B/policies/$newhash.conf" | cut -d' ' -f1)" = "$newhash" ]
check "the shell recording verifies" grep -q "^$shell: verified" "$B/sessions/$shell/verify.txt"
check "the edited exec recording is tampered" grep -q "^$exec: tampered at" "$B/sessions/$exec/verify.txt"
check "the original recording is copied as it is" \
	cmp "$B/sessions/$exec/$exec.stream" "$WORK/state/recordings/$day/$exec.stream"
check "with its seal" cmp "$B/sessions/$shell/$shell.seal" "$WORK/state/recordings/$day/$shell.seal"
check "a plain asciicast export of the stream" \
	sh -c "head -1 '$B/sessions/$exec/export.cast' | grep -q '\"version\": *2'"
check "the encrypted recording exported decrypted with --key" \
	grep -q 'secret setpoint 42' "$B/sessions/$enc/export.cast"
check "the real session's recording verifies in the bundle ($(cat "$B/sessions/$real/verify.txt"))" \
	grep -q "^$real: verified" "$B/sessions/$real/verify.txt"
check "the 24h draft opens with the audit chain verdict" \
	sh -c "head -1 '$B/report-24h.md' | grep -q '^Audit log chain: verified'"
check "the drafts mark the blanks" grep -q 'TO BE COMPLETED' "$B/report-72h.md"
check "the drafts name the asset's zone and level" grep -q 'zone:cell-3' "$B/report-24h.md"
check "the drafts say a recording does not verify" grep -q "tampered at" "$B/report-24h.md"
python3 - "$B/indicators.json" "$shell" <<'PY' >"$WORK/ind" 2>&1
import json, sys
d = json.load(open(sys.argv[1]))
assert "127.0.0.1" in d["sources"], d["sources"]
assert "alice" in d["users"] and "mallory" in d["users"], d["users"]
assert "Example Automation GmbH" in d["companies"], d["companies"]
assert d["assets"][0]["name"] == "plc-line3" and "level:1" in d["assets"][0]["tags"], d["assets"]
cmds = [c["command"] for c in d["commands"]]
assert "show version" in cmds and "rm -rf /tmp/old-firmware" in cmds, cmds
assert d["audit_chain"] == "verified"
PY
check "indicators.json: sources, users, companies, assets+tags, commands ($(cat "$WORK/ind"))" [ ! -s "$WORK/ind" ]

# --- the manifest and its signature
check "sha256sum -c MANIFEST.sha256" sh -c "cd '$B' && sha256sum --quiet -c MANIFEST.sha256"
check "the manifest lists every other file" \
	[ "$(cd "$B" && find . -type f ! -name 'MANIFEST.sha256*' | wc -l)" -eq "$(wc -l <"$B/MANIFEST.sha256")" ]
sshverify() {
	ssh-keygen -Y verify -f "$B/keys/allowed_signers" -I otgate-recording -n otgate-report \
		-s "$B/MANIFEST.sha256.sig" <"$B/MANIFEST.sha256" >/dev/null 2>&1
}
check "ssh-keygen -Y verify accepts the signature" sshverify
check "otgate verify --bundle with the broker's keys" VB "$B" --keys "$WORK/state/keys"
check "otgate verify --bundle with the bundle's own key" VB "$B"
O verify --bundle "$B" >"$WORK/vb" 2>&1
check "verify --bundle reports the tampered recording" grep -q "recording $exec: tampered" "$WORK/vb"
cp "$B/timeline.md" "$WORK/saved"
printf '!' | dd of="$B/timeline.md" bs=1 seek=10 conv=notrunc 2>/dev/null
check "one changed byte: sha256sum -c fails" sh -c "! (cd '$B' && sha256sum --quiet -c MANIFEST.sha256 >/dev/null 2>&1)"
O verify --bundle "$B" >"$WORK/vb" 2>&1; rc=$?
check "one changed byte: verify --bundle fails and names the file (rc $rc)" \
	sh -c "[ $rc -eq 1 ] && grep -q 'timeline.md: changed' '$WORK/vb'"
cp "$WORK/saved" "$B/timeline.md"
check "restored: verify --bundle passes again" VB "$B"
echo extra >"$B/planted.txt"
O verify --bundle "$B" >"$WORK/vb" 2>&1; rc=$?
check "a planted file fails verify --bundle (rc $rc)" sh -c "[ $rc -eq 1 ] && grep -q 'planted.txt: not listed' '$WORK/vb'"
rm "$B/planted.txt"
cp "$B/MANIFEST.sha256" "$WORK/saved"
python3 -c 'import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read())
b[0] = ord("1") if b[0] == ord("0") else ord("0")
open(p, "wb").write(b)' "$B/MANIFEST.sha256"
! sshverify; check "an edited manifest: ssh-keygen -Y verify fails" [ $? -eq 0 ]
check "an edited manifest: verify --bundle fails" sh -c "! '$OTGATE' verify --bundle '$B' >/dev/null"
cp "$WORK/saved" "$B/MANIFEST.sha256"
printf 'A' | dd of="$B/MANIFEST.sha256.sig" bs=1 seek=100 conv=notrunc 2>/dev/null
! sshverify; check "an edited signature: ssh-keygen -Y verify fails" [ $? -eq 0 ]
check "an edited signature: verify --bundle fails" sh -c "! '$OTGATE' verify --bundle '$B' >/dev/null"

# --- scope: one user
O report incident --since 1h --user mallory -o "$WORK/m" >/dev/null 2>&1
check "--user mallory: the refused login" grep -q '"auth.failure"' "$WORK/m/timeline.jsonl"
check "--user mallory: no sessions of alice" sh -c "! grep -q '\"session.start\"' '$WORK/m/timeline.jsonl'"
check "--user mallory: the context (policy reload) stays" grep -q '"policy.reload"' "$WORK/m/timeline.jsonl"

# --- bad input
O report incident --since 1h -o "$B" >"$WORK/err" 2>&1; rc=$?
check "an existing output folder is refused (rc $rc)" sh -c "[ $rc -eq 1 ] && grep -q exists '$WORK/err'"
O report incident --since 1h --asset plc-line3 --key "$WORK/auditor" -o "$B" --force >/dev/null 2>&1
check "--force replaces a bundle" VB "$B"
mkdir "$WORK/notabundle"; echo keep >"$WORK/notabundle/file"
O report incident --since 1h -o "$WORK/notabundle" --force >/dev/null 2>&1
check "--force never wipes a folder that is not a bundle" [ -f "$WORK/notabundle/file" ]
O report incident -o "$WORK/x1" >"$WORK/err" 2>&1; rc=$?
check "an unbounded range is a usage error (rc $rc)" sh -c "[ $rc -eq 2 ] && grep -q bounded '$WORK/err'"
O report incident --since 1h --until 2h -o "$WORK/x2" >"$WORK/err" 2>&1; rc=$?
check "a reversed range is a usage error (rc $rc)" sh -c "[ $rc -eq 2 ] && grep -q reversed '$WORK/err'"
O report incident --since 1h --asset plc-nope --user zed -o "$WORK/x3" >"$WORK/err" 2>&1; rc=$?
check "unknown names are named in the error (rc $rc)" \
	sh -c "[ $rc -eq 1 ] && grep -q \"unknown asset 'plc-nope'\" '$WORK/err' && grep -q \"unknown user 'zed'\" '$WORK/err'"
check "and nothing was written" [ ! -e "$WORK/x3" ]
rm -f "$WORK/state/recordings/$day/$shell.cast"
O report incident --since 1h -o "$WORK/x4" >/dev/null 2>&1; rc=$?
check "a missing recording is reported in the bundle, not fatal (rc $rc)" \
	grep -q "^$shell: missing" "$WORK/x4/sessions/$shell/verify.txt"
check "that bundle still verifies" VB "$WORK/x4"

# --- a broken audit chain is the first line of every draft
cp "$WORK/audit.log" "$WORK/audit-edited.log"
sed -i '3s/"seq":3,/"seq":3,"x":1,/' "$WORK/audit-edited.log"
O report incident --since 1h --audit-log "$WORK/audit-edited.log" -o "$WORK/x5" >/dev/null 2>&1
check "broken chain: first line of report-24h.md" sh -c "head -1 '$WORK/x5/report-24h.md' | grep -q 'CHAIN BROKEN at line'"
check "broken chain: first line of report-72h.md" sh -c "head -1 '$WORK/x5/report-72h.md' | grep -q 'CHAIN BROKEN at line'"

# --- after logrotate the log continues the rotated file's chain: no false alarm
tail -n +4 "$WORK/audit.log" >"$WORK/audit-rotated.log"
O report incident --since 1h --audit-log "$WORK/audit-rotated.log" -o "$WORK/x6" >/dev/null 2>&1
check "a log that continues a rotated one verifies from its first seq" \
	sh -c "head -1 '$WORK/x6/report-24h.md' | grep -q '^Audit log chain: verified (.*from seq 4 on'"
sed -i '2s/"seq":5,/"seq":5,"x":1,/' "$WORK/audit-rotated.log"
O report incident --since 1h --audit-log "$WORK/audit-rotated.log" -o "$WORK/x7" >/dev/null 2>&1
check "and an edit in it is still a break" sh -c "head -1 '$WORK/x7/report-24h.md' | grep -q 'CHAIN BROKEN at line'"

# --- the access review
O report access --since 1h >"$WORK/acc" 2>&1
cat "$WORK/acc"
check "access: alice reached plc-line3" grep -q 'Test Automation / alice -> plc-line3' "$WORK/acc"
check "access: bob never logged in" grep -q 'unused-account.*bob' "$WORK/acc"
check "access: alice has no second factor" grep -q 'no-mfa.*alice' "$WORK/acc"
check "access: bob has TOTP, so no finding" sh -c "! grep -q 'no-mfa.*bob' '$WORK/acc'"
check "access: an asset without a pinned host key" grep -q 'no-hostkey.*hmi-nokey' "$WORK/acc"
check "access: plc-line3 has one" sh -c "! grep -q 'no-hostkey.*plc-line3' '$WORK/acc'"
O report access --since 1h --json >"$WORK/acc.json"
check "access --json: one JSON object per line" python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert any(r["type"] == "access" and r["user"] == "alice" for r in rows)' "$WORK/acc.json"
O report access >/dev/null 2>&1; rc=$?
check "access without --since is a usage error (rc $rc)" [ $rc -eq 2 ]
e2e_finish
