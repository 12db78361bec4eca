#!/bin/bash
# asset_verbs.sh: `otgate asset trust` prints hostkey lines that, pasted into
# the policy, let sessions through; `otgate asset credential` stores and rotates
# the vaulted key or password with the right modes; and their refusals.
. "$(dirname "$0")/lib.sh"

e2e_init
asset_start plc1 127.0.0.2
policy_write
# plc1 starts without a pinned host key
grep -v '^hostkey = ' "$WORK/policy.conf" >"$WORK/policy.tmp" && mv "$WORK/policy.tmp" "$WORK/policy.conf"
broker_start
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }

out=$(vssh alice+plc1 echo hi 2>&1)
echo "$out"
check "an unpinned asset is refused, naming the fix" grep -q "otgate asset trust plc1" <<<"$out"

# --- trust
O asset trust plc1 >"$WORK/trust" 2>"$WORK/err"; rc=$?
cat "$WORK/trust" "$WORK/err"
check "asset trust exits 0" [ $rc -eq 0 ]
check "it prints the asset's own host key as a hostkey line" \
	grep -qx "hostkey = $(asset_hostkey plc1)" "$WORK/trust"
fp=$(ssh-keygen -lf "$WORK/asset-plc1/hostkey.pub" | cut -d' ' -f2)
check "it prints the key's SHA256 fingerprint ($fp)" grep -q "^# ssh-ed25519 $fp\$" "$WORK/trust"
check "everything it prints pastes as policy lines" \
	[ "$(grep -cv -e '^# ' -e '^hostkey = ' "$WORK/trust")" -eq 0 ]
# paste the whole output into the asset's section
awk -v f="$WORK/trust" '{ print } /^\[asset plc1\]$/ { while ((getline l < f) > 0) print l }' \
	"$WORK/policy.conf" >"$WORK/policy.tmp" && mv "$WORK/policy.tmp" "$WORK/policy.conf"
check "the pasted policy checks" O policy check
check "reload takes it" O reload
check "a session now goes through" [ "$(vssh alice+plc1 echo hi 2>&1)" = hi ]
O asset trust plc1 >"$WORK/trust2"
check "trust again marks the key as pinned" grep -q "$fp (pinned already)" "$WORK/trust2"

# several host key types: one line each
ssh-keygen -q -t ecdsa -N '' -f "$WORK/asset-plc1/hostkey_ecdsa"
ssh-keygen -q -t rsa -b 2048 -N '' -f "$WORK/asset-plc1/hostkey_rsa"
printf 'HostKey %s\nHostKey %s\n' "$WORK/asset-plc1/hostkey_ecdsa" "$WORK/asset-plc1/hostkey_rsa" \
	>>"$WORK/asset-plc1/sshd_config"
asset_stop plc1
/usr/sbin/sshd -D -e -f "$WORK/asset-plc1/sshd_config" 2>>"$WORK/asset-plc1/sshd.log" &
E2E_PIDS+=($!)
wait_port 127.0.0.2 "$ASSET_PORT_plc1"
O asset trust plc1 >"$WORK/trust3"
cat "$WORK/trust3"
for k in hostkey_ecdsa hostkey_rsa; do
	line=$(cut -d' ' -f1,2 "$WORK/asset-plc1/$k.pub")
	check "trust prints the $k line" grep -qx "hostkey = $line" "$WORK/trust3"
done
check "three keys, three lines" [ "$(grep -c '^hostkey = ' "$WORK/trust3")" -eq 3 ]
# a pinned key that the asset no longer shows is pointed out
cp "$WORK/policy.conf" "$WORK/policy.pinned"
sed -i "/^\[asset plc1\]\$/a hostkey = $(cut -d' ' -f1,2 "$WORK/mallory_key.pub")" "$WORK/policy.conf"
O asset trust plc1 >/dev/null 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "trust still exits 0 with a stale pin" [ $rc -eq 0 ]
check "and warns about the key the asset no longer shows" \
	grep -q "plc1: warning: pinned key ssh-ed25519 .* is not one the asset shows now" "$WORK/err"
cp "$WORK/policy.pinned" "$WORK/policy.conf"

# --- trust refusals
cat >>"$WORK/policy.conf" <<EOT

[asset far]
address = 192.0.2.7
login = maint

[asset down]
address = 127.0.0.9
port = $(free_port 127.0.0.9)
login = maint
EOT
O asset trust far >/dev/null 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "an asset outside egress is not contacted (exit 1)" [ $rc -eq 1 ]
check "and the reason names egress" grep -q "far: address 192.0.2.7 is outside egress" "$WORK/err"
O asset trust down >/dev/null 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "an asset that is down: exit 1" [ $rc -eq 1 ]
check "with one line saying so" [ "$(grep -c "otgate: down: no host key from 127.0.0.9" "$WORK/err")" -eq 1 ]
O asset trust nosuch >/dev/null 2>"$WORK/err"; rc=$?
check "an unknown asset: exit 1" [ $rc -eq 1 ]
check "named as unknown" grep -q "nosuch: no such asset" "$WORK/err"
O asset trust >/dev/null 2>&1; rc=$?
check "trust without a name is a usage error" [ $rc -eq 2 ]

# --- credential: key
rm -f "$WORK/vault/plc1.key"
out=$(vssh alice+plc1 echo hi 2>&1)
check "without a vault entry the session is refused" [ "$out" != hi ]
O asset credential plc1 --key "$WORK/asset_login_key" >"$WORK/out"; rc=$?
cat "$WORK/out"
check "credential --key exits 0" [ $rc -eq 0 ]
check "the key is stored 0600" [ "$(stat -c %a "$WORK/vault/plc1.key")" = 600 ]
check "the vault stays 0700" [ "$(stat -c %a "$WORK/vault")" = 700 ]
check "the stored key is the given one" cmp -s "$WORK/vault/plc1.key" "$WORK/asset_login_key"
check "it prints the public key for authorized_keys" \
	grep -q "^$(cut -d' ' -f1,2 "$WORK/asset_login_key.pub") otgate\$" "$WORK/out"
check "the session goes through with it" [ "$(vssh alice+plc1 echo hi 2>&1)" = hi ]

# --- credential: password, from a pipe, then from a terminal (no echo)
printf 'first pw\n' | O asset credential plc1 --password >/dev/null; rc=$?
check "credential --password from stdin exits 0" [ $rc -eq 0 ]
check "the password is stored 0600" [ "$(stat -c %a "$WORK/vault/plc1.password")" = 600 ]
check "with its one line" [ "$(cat "$WORK/vault/plc1.password")" = "first pw" ]
check "rotating to a password removes the key" [ ! -e "$WORK/vault/plc1.key" ]
check "the terminal prompt reads without echo, twice" python3 - "$OTGATE" "$WORK/otgated.conf" <<'EOF'
import os, pty, select, sys, time
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], [sys.argv[1], "-f", sys.argv[2], "asset", "credential", "plc1", "--password"])
seen = b""
def until(text):
    global seen
    end = time.time() + 10
    while text not in seen and time.time() < end:
        if not select.select([fd], [], [], 0.5)[0]:
            continue
        try:
            seen += os.read(fd, 1024)
        except OSError:
            break
    assert text in seen, seen
until(b"Password for plc1")
os.write(fd, b"s3cret-tty\n")
until(b"Again: ")
os.write(fd, b"s3cret-tty\n")
until(b"stored the password")
_, status = os.waitpid(pid, 0)
assert os.WEXITSTATUS(status) == 0, status
assert b"s3cret-tty" not in seen, seen
EOF
check "the terminal's password was stored" [ "$(cat "$WORK/vault/plc1.password")" = "s3cret-tty" ]
printf '' | O asset credential plc1 --password >/dev/null 2>"$WORK/err"; rc=$?
check "no password on stdin: exit 1, nothing changed" \
	[ $rc -eq 1 ] && [ "$(cat "$WORK/vault/plc1.password")" = "s3cret-tty" ]

# --- back to a key; refusals
O asset credential plc1 --key "$WORK/asset_login_key" >/dev/null
check "rotating back to a key removes the password" [ ! -e "$WORK/vault/plc1.password" ]
check "and sessions go through again" [ "$(vssh alice+plc1 echo hi 2>&1)" = hi ]
ssh-keygen -q -t ed25519 -N 'secret' -f "$WORK/encrypted_key"
O asset credential plc1 --key "$WORK/encrypted_key" >/dev/null 2>"$WORK/err"; rc=$?
check "an encrypted key is refused (exit 1)" [ $rc -eq 1 ]
check "with the reason" grep -q "not an unencrypted OpenSSH private key" "$WORK/err"
O asset credential plc1 --key "$WORK/broker_hostkey.pub" >/dev/null 2>&1; rc=$?
check "a public key is refused" [ $rc -eq 1 ]
check "the refusals left the stored key alone" cmp -s "$WORK/vault/plc1.key" "$WORK/asset_login_key"
O asset credential plc1 >/dev/null 2>&1; rc=$?
check "credential without --key or --password: usage (2)" [ $rc -eq 2 ]
O asset credential plc1 --key "$WORK/asset_login_key" --password >/dev/null 2>&1; rc=$?
check "credential with both: usage (2)" [ $rc -eq 2 ]
O asset credential nosuch --key "$WORK/asset_login_key" >/dev/null 2>&1; rc=$?
check "credential for an unknown asset: exit 1" [ $rc -eq 1 ]
chmod 0644 "$WORK/vault/plc1.key"
out=$(vssh alice+plc1 echo hi 2>&1)
echo "$out"
check "a loose vault file is refused by the broker" [ "$out" != hi ]
chmod 0600 "$WORK/vault/plc1.key"
e2e_finish
