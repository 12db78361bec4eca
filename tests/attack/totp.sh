#!/bin/bash
# TOTP codes are single-use under attack: two logins racing with one code from
# two addresses (a shoulder-surfed code) let at most one in, and the code
# replayed from a third address afterwards fails; mfa-grace is off. Prompts are
# answered through a pty by tests/e2e/kbdint.py, codes come from oathtool.
. "$TOP/tests/e2e/lib.sh"
command -v oathtool >/dev/null || e2e_skip "oathtool is not installed"
DRIVE="${E2E_PY:-python3} $TOP/tests/e2e/kbdint.py"
e2e_init
asset_start plc 127.0.0.2
cat >"$WORK/users.conf" <<EOT
[user tina]
roles = maint
auth = publickey totp
pubkey = $(cat "$WORK/alice_key.pub")
EOT
policy_write "$WORK/users.conf"
conf_write
printf 'mfa-grace = 0\n' >>"$WORK/otgated.conf"
mkdir -m 0700 "$WORK/state/totp"
S=$(${E2E_PY:-python3} -c 'import base64,os; print(base64.b32encode(os.urandom(20)).decode())')
printf '%s 0\n' "$S" >"$WORK/state/totp/tina"
chmod 0600 "$WORK/state/totp/tina"
[ -n "${E2E_USER:-}" ] && chown -R "$E2E_USER" "$WORK/state"
broker_start

login() {	# SOURCE CODE OUTFILE
	$DRIVE -t 30 'Verification code: ' "$2" -- \
		ssh -F /dev/null -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile="$WORK/known_hosts" -o LogLevel=ERROR \
		-o PreferredAuthentications=publickey,keyboard-interactive \
		-o NumberOfPasswordPrompts=1 -o BindAddress="$1" -o ConnectTimeout=10 \
		-i "$WORK/alice_key" -p "$BROKER_PORT" tina+plc@127.0.0.1 echo in-tina >"$3" 2>&1
}

# a fresh step, so both logins surely fall in it
while [ $(( $(date +%s) % 30 )) -gt 20 ]; do sleep 1; done
c=$(oathtool --totp -b "$S")
login 127.0.0.21 "$c" "$WORK/a" &
a=$!
login 127.0.0.22 "$c" "$WORK/b" &
b=$!
wait $a $b
n=$(cat "$WORK/a" "$WORK/b" | grep -c in-tina)
check "two parallel logins with one code: at most one gets in ($n)" [ "$n" -le 1 ]
check "and the code was good: one did ($n)" [ "$n" -eq 1 ]
login 127.0.0.23 "$c" "$WORK/c"
check "the code replayed from a third address fails" eval '! grep -q in-tina "$WORK/c"'
check "audit: the replay is a failure, code already used" audit_has auth.failure 'already used'
e2e_finish
