#!/bin/bash
# MFA in otgated with the real OpenSSH client: key + TOTP and password + TOTP
# logins (codes from oathtool), refused codes (reused, wrong, three steps old),
# lockout after five failures (audited) and unlock, enrolment by invite at the
# first login, mfa-grace for the same key only, and the control verbs
# `otgate user lock|unlock|reset-mfa`. Prompts are answered through a pty by
# kbdint.py. Each group of checks connects from its own 127.0.0.x source so
# that per-source throttling of one group does not slow the next.
. "$(dirname "$0")/lib.sh"
command -v oathtool >/dev/null || e2e_skip "oathtool is not installed"
DRIVE="${E2E_PY:-python3} $(dirname "$0")/kbdint.py"
e2e_init
asset_start plc 127.0.0.2

KEY=$(cat "$WORK/alice_key.pub")
MKEY=$(cat "$WORK/mallory_key.pub")
for u in kate paul lucy ivy gina; do
	echo "[user $u]"
	echo "roles = maint"
	case $u in
	paul) echo "auth = password totp" ;;
	gina) echo "auth = publickey totp"; echo "pubkey = $KEY"; echo "pubkey = $MKEY" ;;
	*) echo "auth = publickey totp"; echo "pubkey = $KEY" ;;
	esac
	echo
done >"$WORK/users.conf"
policy_write "$WORK/users.conf"
conf_write
printf 'mfa-grace = 5m\nmax-auth-failures = 5\nlockout = 15m\n' >>"$WORK/otgated.conf"
og() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }
# the broker's helpers write the store after the control verb returned
waitfor() { local i; for ((i = 0; i < 50; i++)); do eval "$1" && return 0; sleep 0.1; done; return 1; }

# secrets as `otgate user enroll` leaves them: STATE/totp/USER "B32 0"
mkdir -m 0700 "$WORK/state/totp"
secret() { ${E2E_PY:-python3} -c 'import base64,os; print(base64.b32encode(os.urandom(20)).decode())'; }
for u in kate paul lucy gina; do
	s=$(secret)
	eval "S_$u=$s"
	printf '%s 0\n' "$s" >"$WORK/state/totp/$u"
	chmod 0600 "$WORK/state/totp/$u"
done
echo 'paul-pw-1' | og user passwd paul --stdin >/dev/null || { echo "FAIL: user passwd"; exit 1; }
# a root-started broker drops to E2E_USER (lib.sh): the state is that user's
[ -n "${E2E_USER:-}" ] && chown -R "$E2E_USER" "$WORK/state"
code() { oathtool --totp -b "$1" ${2:+--now "$(date -u -d "@$(($(date +%s) - $2))" '+%Y-%m-%d %H:%M:%S UTC')"}; }
broker_start

mssh() {	# SOURCE KEY USER [ssh args...]
	local src=$1 key=$2 user=$3
	shift 3
	ssh -F /dev/null -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile="$WORK/known_hosts" -o LogLevel=ERROR \
		-o PreferredAuthentications=publickey,keyboard-interactive,password \
		-o NumberOfPasswordPrompts=1 -o BindAddress="$src" -o ConnectTimeout=10 \
		-i "$key" -p "$BROKER_PORT" "$user@127.0.0.1" "$@"
}
# SOURCE USER CODE: key login answering the code prompt; prints ssh's output
keycode() {
	$DRIVE -t 30 'Verification code: ' "$3" -- \
		bash -c "$(declare -f mssh); WORK=$WORK BROKER_PORT=$BROKER_PORT mssh $1 $WORK/alice_key $2+plc echo in-$2"
}

# --- key + TOTP (127.0.0.10, then 127.0.0.11: mfa-grace covers the first source)
c=$(code "$S_kate")
out=$(keycode 127.0.0.10 kate "$c"); rc=$?
check "key + TOTP logs in (rc $rc: $out)" eval '[ $rc -eq 0 ] && echo "$out" | grep -q in-kate'
check "audit: auth.success method publickey+totp" audit_has auth.success '"method":"publickey+totp"'
out=$(keycode 127.0.0.11 kate "$c"); rc=$?
check "a reused code fails (rc $rc)" eval '[ $rc -ne 0 ] && ! echo "$out" | grep -q in-kate'
check "audit: auth.failure says code already used" audit_has auth.failure 'code already used'
out=$(keycode 127.0.0.11 kate 000000); rc=$?
check "a wrong code fails (rc $rc)" [ $rc -ne 0 ]
out=$(keycode 127.0.0.11 kate "$(code "$S_kate" 90)"); rc=$?
check "a code from three steps ago fails (rc $rc)" [ $rc -ne 0 ]
out=$(keycode 127.0.0.11 kate '12 345'); rc=$?
check "a code with a space fails (rc $rc)" [ $rc -ne 0 ]
check "no secret in the audit log" eval '! grep -q "$c" "$WORK/audit.log"'

# --- password + TOTP (127.0.0.12)
pwlogin() {	# PASSWORD CODE
	$DRIVE -t 30 'assword: ' "$1" 'Verification code: ' "$2" -- \
		bash -c "$(declare -f mssh); WORK=$WORK BROKER_PORT=$BROKER_PORT mssh 127.0.0.12 $WORK/mallory_key paul+plc echo in-paul"
}
c=$(code "$S_paul")
out=$(pwlogin wrong-pw "$c"); rc=$?
check "a wrong password still gets the code prompt, then fails (rc $rc)" \
	eval '[ $rc -ne 0 ] && echo "$out" | grep -q "Verification code"'
check "audit: the failure names the password factor" audit_has auth.failure '"factor":"password"'
out=$(pwlogin paul-pw-1 "$c"); rc=$?
check "password + TOTP logs in, the code unspent by the failed try (rc $rc: $out)" \
	eval '[ $rc -eq 0 ] && echo "$out" | grep -q in-paul'
check "audit: method password+totp" audit_has auth.success '"method":"password+totp"'

# --- lockout (127.0.0.13)
for i in 1 2 3 4 5; do
	keycode 127.0.0.13 lucy 111111 >/dev/null
done
check "five failures lock lucy: auth.lockout audited" audit_has auth.lockout '"user":"lucy"'
t0=$(date +%s.%N)
out=$(keycode 127.0.0.13 lucy "$(code "$S_lucy")"); rc=$?
t1=$(date +%s.%N)
check "a locked user fails even with a valid code (rc $rc)" [ $rc -ne 0 ]
check "after five failures the source is throttled (took $(awk "BEGIN{print $t1 - $t0}") s)" \
	awk "BEGIN{exit !($t1 - $t0 >= 1)}"
check "audit: user locked" audit_has auth.failure 'user locked'
out=$(og user unlock lucy 2>&1); rc=$?
check "otgate user unlock lucy (rc $rc: $out)" [ $rc -eq 0 ]
check "audit: control.command user unlock" audit_has control.command 'user unlock'
out=$(keycode 127.0.0.14 lucy "$(code "$S_lucy")"); rc=$?
check "after unlock the valid code works (rc $rc: $out)" eval '[ $rc -eq 0 ] && echo "$out" | grep -q in-lucy'

# --- invite at the first login (127.0.0.15)
out=$($DRIVE -t 30 'Enrolment code: ' 'AAAA-BBBB-CCCC-DDDD' -- bash -c "$(declare -f mssh); \
	WORK=$WORK BROKER_PORT=$BROKER_PORT mssh 127.0.0.15 $WORK/alice_key ivy+plc echo in-ivy"); rc=$?
check "without an invite the key alone never enrols (rc $rc)" [ $rc -ne 0 ]
inv=$(og user enroll ivy --invite 2>/dev/null)
check "an invite code was made ($inv)" [ -n "$inv" ]
out=$($DRIVE -t 30 'Enrolment code: ' "$inv" 'Verification code: ' 000000 \
	'Verification code: ' @totp -- bash -c \
	"$(declare -f mssh); WORK=$WORK BROKER_PORT=$BROKER_PORT mssh 127.0.0.15 $WORK/alice_key ivy+plc echo in-ivy"); rc=$?
check "invite, QR code, a wrong code (QR shown again), then the right one log ivy in (rc $rc)" \
	eval '[ $rc -eq 0 ] && echo "$out" | grep -q in-ivy && echo "$out" | grep -q "otpauth://totp/otgate:ivy"'
check "ivy has an active secret now" [ -s "$WORK/state/totp/ivy" ]
check "audit: the wrong confirming code was counted" audit_has auth.failure 'wrong code for the new secret' 
check "audit: mfa.enrolled" audit_has mfa.enrolled '"user":"ivy"'
out=$($DRIVE -t 30 'code: ' "$inv" -- bash -c "$(declare -f mssh); \
	WORK=$WORK BROKER_PORT=$BROKER_PORT mssh 127.0.0.16 $WORK/alice_key ivy+plc echo in-ivy"); rc=$?
check "enrolled now, ivy is asked for a code, not the spent invite (rc $rc)" \
	eval '[ $rc -ne 0 ] && echo "$out" | grep -q "Verification code" && ! echo "$out" | grep -q Enrolment'
check "audit: the invite given as a code failed" audit_has auth.failure '"user":"ivy".*malformed code\|"user":"ivy".*wrong code' 

# --- mfa-grace (127.0.0.17)
out=$(keycode 127.0.0.17 gina "$(code "$S_gina")"); rc=$?
check "gina logs in with a code (rc $rc)" [ $rc -eq 0 ]
out=$($DRIVE -t 20 -- bash -c "$(declare -f mssh); WORK=$WORK BROKER_PORT=$BROKER_PORT \
	mssh 127.0.0.17 $WORK/alice_key gina+plc echo in-gina" </dev/null); rc=$?
check "mfa-grace: the same key from the same source needs no code (rc $rc: $out)" \
	eval '[ $rc -eq 0 ] && echo "$out" | grep -q in-gina'
check "audit: method publickey+grace" audit_has auth.success '"method":"publickey+grace"'
out=$($DRIVE -t 20 'Verification code: ' 000000 -- bash -c "$(declare -f mssh); \
	WORK=$WORK BROKER_PORT=$BROKER_PORT mssh 127.0.0.17 $WORK/mallory_key gina+plc echo in-gina"); rc=$?
check "mfa-grace does not cover another key (rc $rc)" \
	eval '[ $rc -ne 0 ] && echo "$out" | grep -q "Verification code"'
out=$(og user lock gina 2>&1); rc=$?
check "otgate user lock gina (rc $rc: $out)" [ $rc -eq 0 ]
out=$($DRIVE -t 20 'Verification code: ' 000000 -- bash -c "$(declare -f mssh); \
	WORK=$WORK BROKER_PORT=$BROKER_PORT mssh 127.0.0.18 $WORK/alice_key gina+plc echo in-gina"); rc=$?
check "a lock ends the grace and refuses gina (rc $rc)" [ $rc -ne 0 ]
check "the admin lock is kept in STATE/totp/+users for pam_otgate" \
	waitfor 'grep -q "^gina 18446744073709551615" "$WORK/state/totp/+users"'
# three of lucy's five failures before the restart, kept in +users
for i in 1 2 3; do
	keycode 127.0.0.21 lucy 111111 >/dev/null
done
check "lucy's three failures are kept in STATE/totp/+users" \
	waitfor 'grep -Eq "^lucy 0( [0-9]+){3}$" "$WORK/state/totp/+users"'
# restart the broker: the admin lock and the failure count outlive it
kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
broker_start
for i in 1 2; do
	keycode 127.0.0.22 lucy 111111 >/dev/null
done
check "after a restart two more failures lock lucy (a second auth.lockout)" \
	[ "$(grep '"event":"auth.lockout"' "$WORK/audit.log" | grep -c '"user":"lucy"')" -eq 2 ]
out=$(keycode 127.0.0.23 lucy "$(code "$S_lucy")"); rc=$?
check "locked across the restart, lucy fails even with a valid code (rc $rc)" \
	eval '[ $rc -ne 0 ] && [ "$(grep "\"event\":\"auth.failure\"" "$WORK/audit.log" |
	grep "\"user\":\"lucy\"" | grep -c "user locked")" -eq 2 ]'
og user unlock lucy >/dev/null
out=$($DRIVE -t 20 'Verification code: ' "$(code "$S_gina")" -- bash -c "$(declare -f mssh); \
	WORK=$WORK BROKER_PORT=$BROKER_PORT mssh 127.0.0.20 $WORK/alice_key gina+plc echo in-gina"); rc=$?
check "after a restart gina is still locked, even with a valid code (rc $rc)" [ $rc -ne 0 ]
og user unlock gina >/dev/null
check "unlock removes gina from +users" waitfor '! grep -q "^gina " "$WORK/state/totp/+users"' 

# --- reset-mfa (127.0.0.19)
out=$(og user reset-mfa kate 2>&1); rc=$?
check "otgate user reset-mfa kate (rc $rc: $out)" [ $rc -eq 0 ]
check "kate's secret is gone" waitfor '[ ! -e "$WORK/state/totp/kate" ]'
out=$($DRIVE -t 20 'Enrolment code: ' x -- bash -c "$(declare -f mssh); \
	WORK=$WORK BROKER_PORT=$BROKER_PORT mssh 127.0.0.19 $WORK/alice_key kate+plc echo in-kate"); rc=$?
check "after reset-mfa kate is asked for an enrolment code (rc $rc)" \
	eval '[ $rc -ne 0 ] && echo "$out" | grep -q "Enrolment code"'
# --- a lock refuses a key-only user too (alice: auth = publickey)
og user lock alice >/dev/null
out=$(VSSH_LOGLEVEL=INFO vssh alice+plc echo in-alice 2>&1); rc=$?
check "a locked key-only user is refused (rc $rc: $out)" \
	eval '[ $rc -ne 0 ] && echo "$out" | grep -q "user is locked"'
og user unlock alice >/dev/null
out=$(vssh alice+plc echo in-alice 2>&1); rc=$?
check "unlocked, alice logs in with her key alone (rc $rc)" eval '[ $rc -eq 0 ] && echo "$out" | grep -q in-alice'
out=$(og user lock 'no body' 2>&1); rc=$?
check "a bad user name is refused (rc $rc)" [ $rc -ne 0 ]

check "the audit chain verifies" og verify --audit "$WORK/audit.log"
e2e_finish
