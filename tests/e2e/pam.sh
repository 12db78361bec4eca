#!/bin/bash
# pam_otgate.so under a real PAM stack, driven by pamtester with codes from
# oathtool: a valid code is accepted once, a reused, wrong, old or malformed
# code is refused, a loose secret file is refused, and five failures lock the
# user. pamtester reads only /etc/pam.d, so this needs root: it writes a
# uniquely named service there and removes it on exit.
set -u
BUILD=${BUILD:-$(pwd)/build}
MODULE=$BUILD/pam_otgate.so

if [ "$(id -u)" -ne 0 ]; then
	echo "skip: needs root to write a service file in /etc/pam.d for pamtester"
	exit 77
fi
for tool in pamtester oathtool; do
	command -v $tool >/dev/null || { echo "skip: $tool is not installed"; exit 77; }
done
[ -f "$MODULE" ] || { echo "FAIL: $MODULE was not built"; exit 1; }

# a module built with SAN=1 needs the ASan runtime loaded first in pamtester
PRELOAD=
if asan=$(ldd "$MODULE" | awk '/libasan/ { print $3 }') && [ -n "$asan" ]; then
	PRELOAD=$asan
	export ASAN_OPTIONS=detect_leaks=0	# pamtester's own leaks are not ours
fi

TMP=$(mktemp -d /tmp/otgate-pam.XXXXXX)
# Linux-PAM looks service names up in lower case
SERVICE=otgate-test-$(basename "$TMP" | cut -d. -f2 | tr A-Z a-z)
trap 'rm -f "/etc/pam.d/$SERVICE" "/etc/pam.d/$SERVICE-8" "/etc/pam.d/$SERVICE-bad"; rm -rf "$TMP"' EXIT
STORE=$TMP/totp
mkdir -m 0700 "$STORE"
# RFC 6238's SHA-1 test key, "12345678901234567890"
SECRET=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ
cat >"/etc/pam.d/$SERVICE" <<EOT
auth required $MODULE store=$STORE
EOT
cat >"/etc/pam.d/$SERVICE-8" <<EOT
auth required $MODULE store=$STORE digits=8 window=0
EOT
cat >"/etc/pam.d/$SERVICE-bad" <<EOT
auth required $MODULE store=$STORE digits=7
EOT

fails=0
enrol() {	# USER [MODE]
	printf '%s 0\n' "$SECRET" >"$STORE/$1"
	chmod "${2:-0600}" "$STORE/$1"
}
try() {	# WANT(ok|refused) WHAT USER CODE [SERVICE [PAMTESTER-OPTION...]]
	local want=$1 what=$2 user=$3 code=$4 service=${5:-$SERVICE} got
	shift $(($# < 5 ? $# : 5))
	if printf '%s\n' "$code" | LD_PRELOAD=$PRELOAD pamtester "$@" "$service" "$user" \
		authenticate >"$TMP/out" 2>&1; then
		got=ok
	else
		got=refused
	fi
	# a refusal by some other module would prove nothing
	if ! grep -q 'Verification code: ' "$TMP/out"; then
		echo "FAIL $what: pam_otgate did not ask 'Verification code: '"
		sed 's/^/     /' "$TMP/out"; fails=$((fails + 1)); return
	fi
	if [ "$got" = "$want" ]; then
		echo "ok   $what: $got"
	else
		echo "FAIL $what: want $want, got $got"; sed 's/^/     /' "$TMP/out"
		fails=$((fails + 1))
	fi
}
other() {	# a 6-digit code that is not CODE
	printf '%06d' $(( (10#$1 + 500000) % 1000000 ))
}

enrol alice
code=$(oathtool --totp -b "$SECRET")
try ok "alice, valid code" alice "$code"
try refused "alice, the same code again" alice "$code"
try refused "alice, wrong code" alice "$(other "$code")"
try refused "alice, code from three steps ago" alice \
	"$(oathtool --totp -b "$SECRET" -N "@$(( $(date +%s) - 90 ))")"
try refused "alice, code with a space" alice "${code:0:3} ${code:3}"
try refused "alice, letters" alice "abcdef"
try refused "alice, empty answer" alice ""
try refused "alice, 100 digits" alice "$(printf '1%.0s' $(seq 100))"
grep -q "^$SECRET [1-9][0-9]*\$" "$STORE/alice" &&
	echo "ok   alice's counter was stored" ||
	{ echo "FAIL alice's counter not stored: $(cat "$STORE/alice")"; fails=$((fails + 1)); }

enrol bob 0644
try refused "bob, world-readable secret file, valid code" bob "$(oathtool --totp -b "$SECRET")"
try refused "nobody enrolled, some code" nosuchuser "123456"
! grep -q '^nosuchuser ' "$STORE/+users" 2>/dev/null &&
	echo "ok   names with no secret are not counted (they cannot fill +users)" ||
	{ echo "FAIL nosuchuser was counted in +users"; fails=$((fails + 1)); }

enrol carol
code=$(oathtool --totp -b "$SECRET")
for i in 1 2 3 4 5; do
	try refused "carol, wrong code $i" carol "$(other "$code")"
done
try refused "carol, locked after five failures, valid code" carol "$code"
grep -q '^carol [1-9]' "$STORE/+users" &&
	echo "ok   carol's lock is recorded in +users" ||
	{ echo "FAIL no lock for carol in +users:"; cat "$STORE/+users"; fails=$((fails + 1)); }
grep -q "^$SECRET 0\$" "$STORE/carol" &&
	echo "ok   the code offered while locked was not spent" ||
	{ echo "FAIL carol's counter moved while locked"; fails=$((fails + 1)); }

# 8 digits, no window: oathtool's 8-digit code for now
enrol dave
try ok "dave, 8-digit code with digits=8" dave \
	"$(oathtool --totp --digits=8 -b "$SECRET")" "$SERVICE-8"
try refused "dave, a 6-digit code with digits=8" dave \
	"$(oathtool --totp -b "$SECRET" -N "@$(( $(date +%s) + 30 ))")" "$SERVICE-8"

# a bad option is a service error, whatever the code
if printf '%s\n' "$(oathtool --totp -b "$SECRET")" | LD_PRELOAD=$PRELOAD \
	pamtester "$SERVICE-bad" erin authenticate >"$TMP/out" 2>&1; then
	echo "FAIL digits=7 accepted a login"; fails=$((fails + 1))
else
	echo "ok   digits=7: refused as a bad option"
fi

# failures count per remote host too
try refused "frank from 192.0.2.7, wrong code" frank "000000" "" -I rhost=192.0.2.7
grep -q '^@192.0.2.7 0 [1-9]' "$STORE/+sources" &&
	echo "ok   the failure is counted for 192.0.2.7 in +sources" ||
	{ echo "FAIL no failure for 192.0.2.7 in +sources: $(cat "$STORE/+sources")"
	  fails=$((fails + 1)); }
[ "$(stat -c %a "$STORE/+users") $(stat -c %a "$STORE/+sources")" = "600 600" ] &&
	echo "ok   failure tables are 0600" ||
	{ echo "FAIL failure table modes"; fails=$((fails + 1)); }

echo "$fails failed"
[ "$fails" -eq 0 ]
