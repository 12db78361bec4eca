#!/bin/bash
# Attacks before login (tests/attack/hostile.py is the paramiko client):
# messages out of order, a probed but unsigned key and a bad signature, the
# failure an unknown, a locked and a wrong user each meet (identical), the
# methods advertised (the policy's, never the tried user's, before and after
# failures, as OpenSSH lists its enabled ones), and
# 2,000 idle sockets from 20 addresses while a real user still logs in.
. "$TOP/tests/e2e/lib.sh"
# Debian's python3-paramiko: the system interpreter, whatever is first in PATH
PY=/usr/bin/python3
"$PY" -c 'import paramiko' 2>/dev/null || e2e_skip "no python3-paramiko"
e2e_init
H() { timeout 120 "$PY" "$TOP/tests/attack/hostile.py" "$@"; }
asset_start plc1 127.0.0.2
cat >"$WORK/extra.conf" <<EOT

[user bob]
roles = maint
auth = publickey
pubkey = $(cat "$WORK/mallory_key.pub")
EOT
policy_write "$WORK/extra.conf"
LOGIN_GRACE=3s PER_SOURCE=10 conf_write
sed -i 's/^max-startups = .*/max-startups = 50:30:100/' "$WORK/otgated.conf"
broker_start

# --- out of order, probes, signatures
check "protocol messages out of order are refused" \
	H preauth-order 127.0.0.1 "$BROKER_PORT" "$WORK/alice_key" alice+plc1
check "a probed key or a bad signature never logs in" \
	H probe 127.0.0.1 "$BROKER_PORT" "$WORK/alice_key" alice+plc1
check "no session started from any of that" eval '! audit_has session.start'
check "the asset never saw a login" eval '! grep -q Accepted "$WORK/asset-plc1/sshd.log"'

# --- unknown, locked and wrong users fail alike
out=$("$OTGATE" -f "$WORK/otgated.conf" user lock bob 2>&1)
check "otgate user lock bob ($out)" [ $? -eq 0 ]
H failures 127.0.0.1 "$BROKER_PORT" "$WORK/mallory_key" nosuchuser+plc1 bob+plc1 \
	alice+plc1 >"$WORK/failures" 2>&1
n="$(sort -u "$WORK/failures" | wc -l) of $(wc -l <"$WORK/failures")"
check "unknown, locked and wrong-key users meet the same failure ($(tr '\n' '|' <"$WORK/failures"))" \
	[ "$n" = "1 of 3" ]
check "none of them logged in" eval '! grep -q authenticated "$WORK/failures"'

# --- advertised methods: the policy's first factors, whatever the name
H methods 127.0.0.1 "$BROKER_PORT" "$WORK/mallory_key" nosuchuser+plc1 bob+plc1 \
	alice+plc1 >"$WORK/methods" 2>&1
check "no password user: only publickey is advertised, to every name, also after failures ($(tr '\n' '|' <"$WORK/methods"))" \
	[ "$(sort -u "$WORK/methods")" = "$(printf 'publickey\tpublickey')" ]
printf '\n[user carol]\nroles = maint\nauth = password totp\n' >>"$WORK/policy.conf"
kill -HUP "$BROKER_PID"
for ((i = 0; i < 50; i++)); do grep -q 'policy .* loaded' "$WORK/otgated.log" && break; sleep 0.1; done
H methods 127.0.0.1 "$BROKER_PORT" "$WORK/mallory_key" nosuchuser+plc1 alice+plc1 \
	carol+plc1 >"$WORK/methods" 2>&1
check "with a password user: password,publickey to every name, key-only alice too ($(tr '\n' '|' <"$WORK/methods"))" \
	[ "$(sort -u "$WORK/methods")" = "$(printf 'password,publickey\tpassword,publickey')" ]

# --- 2,000 idle sockets from 20 addresses; a real user still gets in
srcs=()
for i in $(seq 10 29); do srcs+=("127.0.0.$i"); done
H idle 127.0.0.1 "$BROKER_PORT" 2000 12 "${srcs[@]}" >"$WORK/idle.out" 2>&1 &
idle=$!
sleep 2
start=$SECONDS
ok=1
until out=$(VSSH_TIMEOUT=10 vssh alice+plc1 'echo in' 2>/dev/null) && [ "$out" = in ]; do
	[ $((SECONDS - start)) -lt 30 ] || { ok=0; break; }
	sleep 0.5
done
check "a real user logs in within 30 s during the idle flood (took $((SECONDS - start)) s)" [ $ok -eq 1 ]
nfd=$(ls "/proc/$BROKER_PID/fd" 2>/dev/null | wc -l)
check "the broker holds few descriptors meanwhile ($nfd)" [ "$nfd" -lt 400 ]
wait $idle
check "the idle flood ran ($(cat "$WORK/idle.out"))" grep -q '^held' "$WORK/idle.out"
check "max-startups and the per-source limit dropped connections" \
	grep -q 'drop connection from' "$WORK/otgated.log"
check "the broker still runs" kill -0 "$BROKER_PID"
e2e_finish
