#!/bin/bash
# Interactive sessions through otgated, driven through a real pseudo-terminal:
# a pty shell gets the vendor's terminal size and type, `tty` is a pty on the
# asset, a window change reaches it, and the exit status comes back. Without an
# asset in the user name a pty shell gets the menu: reachable assets numbered
# from 1 in name order, unreachable ones unnumbered with their reason; a number
# or a name picks one; three bad answers end it with status 1; q quits.
. "$(dirname "$0")/lib.sh"
e2e_init
asset_start plc1 127.0.0.2
asset_start plc2 127.0.0.3
tomorrow=$(date -d tomorrow +%a | tr 'A-Z' 'a-z')
cat >"$WORK/extra.conf" <<EOT

[asset hmi9]
address = 127.0.0.9
login = $LOGIN
hostkey = $(asset_hostkey plc1)

[window tomorrow]
days = $tomorrow

[role night]
assets = hmi9
allow = shell exec
window = tomorrow

[user alice2]
roles = maint night
auth = publickey
pubkey = $(cat "$WORK/mallory_key.pub")
EOT
MAINT_ASSETS="plc1 plc2" policy_write "$WORK/extra.conf"
sed -i 's/^roles = maint$/roles = maint night/' "$WORK/policy.conf"
broker_start

# a script for tests/e2e/ptydrive.py, as USER with KEY (else alice's), with the
# vendor's LANG and a variable the broker must not pass on
drive() {	# SCRIPT USER
	pty_drive "$1" "${VKEY:-$WORK/alice_key}" "$2" \
		-o SetEnv="LANG=C.UTF-8 OTG_SECRET=nope" -o SendEnv=LANG
}

cat >"$WORK/shell.txt" <<'EOT'
send stty size; tty; echo "T=$TERM L=$LANG O=${OTG_SECRET:-unset}"; echo M$((40+2))\r
expect 30 100
expect /dev/pts/
expect T=xterm-256color L=C.UTF-8 O=unset
expect M42
resize 40 120
send stty size; echo M$((40+3))\r
expect 40 120
expect M43
send exit 7\r
status 7
EOT
TERM=xterm-256color check "pty shell: size, tty, TERM/LANG passed, other env not, resize, exit 7" \
	drive "$WORK/shell.txt" alice+plc1

cat >"$WORK/menu.txt" <<'EOT'
expect Assets for alice2
expect hmi9  (outside window tomorrow
expect 1) plc1
expect 2) plc2
expect Asset (number or name, q to quit): 
send 9\r
expect not one of the numbered assets
expect Asset (number or name, q to quit): 
send 2\r
send echo on-$(hostname)-M$((6*7)); exit 5\r
expect M42
status 5
EOT
VKEY=$WORK/mallory_key check "menu: numbered list, unreachable with reason, bad answer, pick by number" \
	drive "$WORK/menu.txt" alice2
check "the menu's choice (plc2 on 127.0.0.3) got the session" \
	audit_has session.start '"asset":"plc2"'

cat >"$WORK/menu2.txt" <<'EOT'
expect Asset (number or name, q to quit): 
send plc1\r
send exit 6\r
status 6
EOT
VKEY=$WORK/mallory_key check "menu: pick by name" drive "$WORK/menu2.txt" alice2

cat >"$WORK/menu3.txt" <<'EOT'
expect Asset (number or name, q to quit): 
send x\r
send hmi9\r
send 0\r
expect goodbye
status 1
EOT
VKEY=$WORK/mallory_key check "menu: three bad answers (an unreachable one too) end it, status 1" \
	drive "$WORK/menu3.txt" alice2

cat >"$WORK/menu4.txt" <<'EOT'
expect Asset (number or name, q to quit): 
send q\r
status 0
EOT
VKEY=$WORK/mallory_key check "menu: q quits with status 0" drive "$WORK/menu4.txt" alice2

out=$(VKEY=$WORK/mallory_key vssh alice2 'echo hi' 2>&1); rc=$?
check "exec without an asset is refused with the syntax (got '$out')" \
	eval '[ $rc -eq 1 ] && echo "$out" | grep -q "otgate: -: no asset named: use ssh USER+ASSET@"'
check "broker still running" kill -0 "$BROKER_PID"
e2e_finish
