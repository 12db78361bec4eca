#!/bin/bash
# `otgate user enroll` scripted as an admin would: the otpauth line comes
# first, then the QR code, then "Verification code: " on which oathtool's code
# is typed. Only a valid code activates the secret; a wrong or missing one
# leaves nothing behind. Also the one-time enrolment code (--invite) and
# `otgate user passwd --stdin`.
set -u
BUILD=${BUILD:-$(pwd)/build}
OTGATE=$BUILD/otgate
command -v oathtool >/dev/null || { echo "skip: oathtool is not installed"; exit 77; }

TMP=$(mktemp -d /tmp/otgate-enroll.XXXXXX)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$TMP"' EXIT
mkdir "$TMP/state"
cat >"$TMP/otgated.conf" <<EOT
state = state
policy = policy.conf
egress = 127.0.0.0/8
EOT
cat >"$TMP/policy.conf" <<EOT
[asset plc]
address = 127.0.0.2
login = maint
hostkey = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
[role r]
assets = plc
allow = shell
[user alice]
auth = password totp
roles = r
[user bob]
auth = publickey totp
pubkey = ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl
roles = r
EOT
TOTP=$TMP/state/totp
og() { "$OTGATE" -f "$TMP/otgated.conf" "$@"; }

fails=0
pass() { echo "ok   $*"; }
fail() { echo "FAIL $*"; fails=$((fails + 1)); }
mode() { stat -c %a "$1" 2>/dev/null; }

# USER ANSWER-KIND(valid|wrong|none): run enroll, answer once the prompt shows
enroll() {
	local user=$1 kind=$2 secret code i
	rm -f "$TMP/in"; mkfifo "$TMP/in"
	og user enroll "$user" <"$TMP/in" >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	exec 3>"$TMP/in"
	for i in $(seq 100); do
		grep -q 'Verification code: ' "$TMP/out" && break
		kill -0 "$pid" 2>/dev/null || break	# it gave up: say why below
		sleep 0.1
	done
	secret=$(sed -n '1s/^otpauth.*secret=\([A-Z2-7]*\)&.*$/\1/p' "$TMP/out")
	# an answer to a program that already exited must not kill this script
	trap '' PIPE
	case $kind in
	valid) code=$(oathtool --totp -b "$secret"); printf '%s\n' "$code" >&3 ;;
	wrong) code=$(oathtool --totp -b "$secret")
	       printf '%06d\n' $(( (10#$code + 500000) % 1000000 )) >&3 ;;
	none) ;;
	esac
	exec 3>&-
	wait "$pid"; rc=$?; pid=
	[ -s "$TMP/err" ] && sed "s/^/     $user: /" "$TMP/err"
	SECRET=$secret
}

enroll alice valid
[ $rc -eq 0 ] && pass "enroll alice with a valid code: exit 0" ||
	{ fail "enroll alice with a valid code: exit $rc"; cat "$TMP/err"; }
head -n 1 "$TMP/out" | grep -Eq '^otpauth://totp/otgate:alice\?secret=[A-Z2-7]{32}&issuer=otgate&algorithm=SHA1&digits=6&period=30$' &&
	pass "the first line is the otpauth line" ||
	fail "first line is not the otpauth line: $(head -n 1 "$TMP/out")"
[ "$(grep -c '█' "$TMP/out")" -ge 10 ] && pass "a QR code follows" ||
	fail "no QR code in the output"
grep -q 'Verification code: ' "$TMP/out" && pass "the prompt was printed" ||
	fail "no 'Verification code: ' prompt"
grep -Eq "^$SECRET [1-9][0-9]*\$" "$TOTP/alice" 2>/dev/null &&
	pass "alice's secret is active with the confirming code's step spent" ||
	fail "alice's secret file: $(cat "$TOTP/alice" 2>&1)"
[ "$(mode "$TOTP/alice")" = 600 ] && [ "$(mode "$TOTP")" = 700 ] &&
	pass "secret 0600 in a 0700 folder" ||
	fail "modes: secret $(mode "$TOTP/alice"), folder $(mode "$TOTP")"
[ ! -e "$TOTP/alice+pending" ] && pass "no pending enrolment left" ||
	fail "alice+pending left behind"
step=$(( $(date +%s) / 30 ))
counter=$(cut -d' ' -f2 "$TOTP/alice" 2>/dev/null)
[ -n "$counter" ] && [ $((step - counter)) -le 2 ] && [ $((counter - step)) -le 1 ] &&
	pass "the stored counter is the current step" ||
	fail "counter $counter, current step $step"

enroll bob wrong
[ $rc -eq 1 ] && pass "enroll bob with a wrong code: exit 1" || fail "wrong code: exit $rc"
[ ! -e "$TOTP/bob" ] && [ ! -e "$TOTP/bob+pending" ] &&
	pass "a wrong code activates nothing and leaves nothing" ||
	fail "bob has files after a wrong code: $(ls "$TOTP")"
grep -q 'wrong code' "$TMP/err" && pass "says: wrong code" || fail "stderr: $(cat "$TMP/err")"

enroll bob none
[ $rc -eq 1 ] && [ ! -e "$TOTP/bob" ] && [ ! -e "$TOTP/bob+pending" ] &&
	pass "no answer at all: exit 1, nothing active" || fail "no answer: exit $rc"

# re-enrolling alice keeps the old secret until the new one is confirmed
old=$(cat "$TOTP/alice")
enroll alice wrong
[ "$(cat "$TOTP/alice")" = "$old" ] && pass "a failed re-enrolment keeps the old secret" ||
	fail "alice's secret changed on a failed re-enrolment"

og user enroll carol </dev/null >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q 'no such user' "$TMP/err" && pass "unknown user: exit 1" ||
	fail "unknown user: exit $rc, $(cat "$TMP/err")"
og user enroll 'al ice' </dev/null >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "bad user name: exit 2" || fail "bad user name: exit $rc"
og user enroll alice --valid 1h </dev/null >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "--valid without --invite: exit 2" || fail "--valid alone: exit $rc"
og user enroll alice --invite --valid 0 </dev/null >/dev/null 2>&1; rc=$?
[ $rc -eq 2 ] && pass "--valid 0: exit 2" || fail "--valid 0: exit $rc"

now=$(date +%s)
code=$(og user enroll bob --invite --valid 1h 2>"$TMP/err"); rc=$?
[ $rc -eq 0 ] && echo "$code" | grep -Eqx '[A-Z2-7]{4}(-[A-Z2-7]{4}){3}' &&
	pass "invite: a one-time code on stdout ($code)" || fail "invite: exit $rc, '$code'"
read -r hash expires <"$TOTP/bob+invite"
echo "$hash" | grep -Eqx '[0-9a-f]{64}' && ! grep -q "$code" "$TOTP/bob+invite" &&
	pass "only the code's hash is stored" || fail "bob+invite: $(cat "$TOTP/bob+invite")"
[ $((expires - now)) -ge 3599 ] && [ $((expires - now)) -le 3610 ] &&
	pass "the code expires in an hour" || fail "expires $expires, now $now"
[ "$(mode "$TOTP/bob+invite")" = 600 ] && pass "invite 0600" || fail "invite mode $(mode "$TOTP/bob+invite")"

chmod 0755 "$TOTP"
og user enroll bob --invite >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 1 ] && grep -q "$TOTP" "$TMP/err" && pass "a loose totp folder is refused, named" ||
	fail "loose folder: exit $rc, $(cat "$TMP/err")"
chmod 0700 "$TOTP"

printf 'correct horse\n' | og user passwd alice --stdin >/dev/null 2>"$TMP/err"; rc=$?
[ $rc -eq 0 ] && grep -Eq '^alice:\$y\$' "$TMP/state/passwd" &&
	[ "$(mode "$TMP/state/passwd")" = 600 ] && ! grep -q 'correct horse' "$TMP/state/passwd" &&
	pass "passwd --stdin stores a yescrypt hash, 0600" ||
	fail "passwd: exit $rc, $(cat "$TMP/err")"
printf '\n' | og user passwd alice --stdin >/dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && pass "an empty password is refused" || fail "empty password: exit $rc"

echo "$fails failed"
[ "$fails" -eq 0 ]
