#!/bin/bash
# ops_watch.sh: `otgate watch ID`, an operator's live read-only view of a pty
# session. A watcher started after the vendor drew a screen gets that screen
# (not a replay: text cleared before it is absent), then live output; hostile
# OSC sequences from the asset never reach it raw; the vendor is told when an
# operator starts and stops watching (not with announce-watch = no); both are
# audited. A watcher that reads nothing never holds the vendor up. Refusals:
# a peer without rights, an unknown, ended or terminal-less session, bad IDs.
. "$(dirname "$0")/lib.sh"

e2e_init
asset_start plc1 127.0.0.2
policy_write
broker_start
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }
not() { ! "$@" 2>/dev/null; }

idle() {	# until no session is active (a killed client's takes a moment)
	local _
	for _ in $(seq 1 100); do
		[ -z "$(O sessions --active)" ] && return 0
		sleep 0.1
	done
	return 1
}
wait_file() {	# FILE [TEXT]: up to 20 s for FILE (to hold TEXT)
	local _
	for _ in $(seq 1 200); do
		[ -f "$1" ] && { [ $# -eq 1 ] || grep -q -- "$2" "$1"; } && return 0
		sleep 0.1
	done
	return 1
}

# --- the vendor draws a screen; a watcher joins, sees it, then live text.
# Markers are typed with \x2d so that only the command's output matches.
{
	echo "send printf 'MARK\\\\x2dBEFORE\\\\n'\\r"
	echo "expect MARK-BEFORE"
	echo "send printf '\\\\033]0;EVILTITLE\\\\007\\\\033[2J\\\\033[5;10HSCREEN\\\\x2dTOP\\\\033[12;1H'\\r"
	echo "expect SCREEN-TOP"
	echo "run touch $WORK/drawn"
	echo "expect otgate: an operator is watching this session"
	echo "send printf '\\\\033]52;c;\\\\x53GVsbG8=\\\\007LIVE\\\\x2dAFTER\\\\n'\\r"
	echo "expect LIVE-AFTER"
	echo "run until grep -q LIVE-AFTER $WORK/w.out; do sleep 0.1; done"
	echo "resize 20 60"
	echo "run until grep -q 'after a resize' $WORK/w.err; do sleep 0.1; done"
	echo "run kill -INT \$(cat $WORK/w.pid)"
	echo "expect otgate: the operator stopped watching this session"
	echo "send exit\\r"
	echo "status 0"
} >"$WORK/s1"
pty_drive "$WORK/s1" "$WORK/alice_key" alice+plc1 >"$WORK/p1.out" 2>&1 &
p1=$!
wait_file "$WORK/drawn"
id=$(session_live plc1)
check "a pty session runs ($id)" [ -n "$id" ]
"$OTGATE" -f "$WORK/otgated.conf" watch "${id:0:12}" >"$WORK/w.out" 2>"$WORK/w.err" </dev/null &
echo $! >"$WORK/w.pid"
wait $p1; prc=$?
cat "$WORK/p1.out"
check "the vendor saw the watch start and end, typed on, and left (ptydrive)" [ $prc -eq 0 ]
wait "$(cat "$WORK/w.pid")"; wrc=$?
cat "$WORK/w.err"
check "the watcher left on Ctrl-C (SIGINT) with exit 0 (is $wrc)" [ $wrc -eq 0 ]
check "the watcher got the current screen: SCREEN-TOP at row 5, column 10" \
	grep -qF $'\e[5;1H         SCREEN-TOP' "$WORK/w.out"
check "the screen starts with a clear" grep -qF $'\e[H\e[2J' "$WORK/w.out"
check "text cleared before the watch began is not replayed" not grep -q MARK-BEFORE "$WORK/w.out"
check "live output typed afterwards reached the watcher" grep -q LIVE-AFTER "$WORK/w.out"
check "a resize while watched: the watcher is told and gets the screen again" \
	grep -q "rebuilt from the last 1 KiB of output after a resize" "$WORK/w.err" &&
	[ "$(grep -o $'\e\\[2J' "$WORK/w.out" | wc -l)" -ge 2 ]
check "no OSC (title, clipboard) reached the watcher raw" not grep -qF $'\e]' "$WORK/w.out"
check "the OSC 52 payload is not there either" not grep -q SGVsbG8 "$WORK/w.out"
check "session.watch is audited with the operator's uid and name" \
	audit_has session.watch "\"session\":\"$id\".*\"uid\":$(id -u),\"operator\":\"$(id -un)\""
check "session.watch.end too" \
	audit_has session.watch.end "\"session\":\"$id\".*\"reason\":\"the operator left\""

# --- ended and unknown sessions, bad IDs, usage
O watch "$id" >"$WORK/out" 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "watch of an ended session exits 1" [ $rc -eq 1 ]
check "and says it may have ended" grep -q "no active session $id (it may have ended)" "$WORK/err"
O watch 0123456789abcdef >/dev/null 2>"$WORK/err"; rc=$?
check "watch of an unknown session exits 1" [ $rc -eq 1 ] && grep -q "no active session" "$WORK/err"
O watch 'x1b[31m' >/dev/null 2>"$WORK/err"; rc=$?
check "a malformed ID is refused" [ $rc -eq 1 ] && grep -q "8 to 32 lowercase hex" "$WORK/err"
O watch >/dev/null 2>&1; rc=$?
check "watch without an ID is a usage error" [ $rc -eq 2 ]

# --- a session without a terminal cannot be watched
vssh alice+plc1 'sleep 5' >/dev/null 2>&1 &
v=$!
id2=$(session_live plc1)
O watch "$id2" >/dev/null 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "watch of a session without a pty exits 1" [ $rc -eq 1 ] && grep -q "has no terminal" "$WORK/err"
kill $v 2>/dev/null; wait $v 2>/dev/null; idle

# --- a peer without rights
if [ "$(id -u)" -eq 0 ]; then
	vssh alice+plc1 -tt 'echo up; sleep 5' >/dev/null 2>&1 &
	v=$!
	id3=$(session_live plc1)
	nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	nobody "$OTGATE" -f "$WORK/otgated.conf" watch "$id3" >"$WORK/out" 2>"$WORK/err"; rc=$?
	cat "$WORK/err"
	check "nobody cannot watch (socket mode)" [ $rc -eq 1 ] && grep -q "permission denied" "$WORK/err"
	chmod 0666 "$WORK/control.sock"
	nobody "$OTGATE" -f "$WORK/otgated.conf" watch "$id3" >"$WORK/out" 2>"$WORK/err"; rc=$?
	chmod 0660 "$WORK/control.sock"
	cat "$WORK/err"
	check "nor past the socket's mode: the broker refuses the peer" \
		[ $rc -eq 1 ] && grep -q "the broker refused: permission denied" "$WORK/err"
	check "nothing of the session reached it" [ ! -s "$WORK/out" ]
	check "no session.watch for it" not audit_has session.watch "\"session\":\"$id3\""
	kill $v 2>/dev/null; wait $v 2>/dev/null; idle
else
	echo "not root: the refused-peer checks need another uid (skipped)"
fi

# --- a watcher that reads nothing: the vendor is not held up and the broker
# keeps a bounded backlog for it; once it reads, it gets the screen again.
# The session lasts until the test creates $WORK/release.
vssh alice+plc1 -tt "echo up; sleep 2; seq 1 150000; echo SEQ-DONE;
	while [ ! -e $WORK/release ]; do sleep 0.1; done" >"$WORK/v.out" 2>&1 &
v=$!
id4=$(session_live plc1)
"$E2E_PY" - "$WORK/control.sock" "$id4" "$WORK/vdone" >"$WORK/stall.out" 2>&1 <<'PY' &
import os, socket, struct, sys, time
s = socket.socket(socket.AF_UNIX)
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(sys.argv[1])
body = sys.argv[2].encode() + b"\0"
s.sendall(struct.pack(">IHHII", 0x4f544743, 1, 11, 0, len(body)) + body)
while not os.path.exists(sys.argv[3]):	# read nothing while the vendor works
    time.sleep(0.1)
s.settimeout(5)	# the session goes on: read until it is quiet
data = b""
try:
    while True:
        d = s.recv(65536)
        if not d:
            break
        data += d
except socket.timeout:
    pass
types, off = [], 0
while off + 16 <= len(data):
    magic, ver, typ, flags, n = struct.unpack(">IHHII", data[off:off + 16])
    assert magic == 0x4f544743 and ver == 1, "bad framing at %d" % off
    types.append(typ)
    off += 16 + n
print("total", len(data), "frames", len(types), "screens", types.count(0x103),
      "last", hex(types[-1]) if types else "-")
PY
stall=$!
start=$(date +%s)
for _ in $(seq 1 600); do
	grep -q SEQ-DONE "$WORK/v.out" 2>/dev/null && break
	sleep 0.1
done
took=$(($(date +%s) - start))
touch "$WORK/vdone"
wait $stall
touch "$WORK/release"
wait $v; vrc=$?
cat "$WORK/stall.out"
read -r _ total _ _ _ screens _ last <"$WORK/stall.out"
check "the vendor's 1 MB of output went through ($took s) while the watcher read nothing" \
	[ $vrc -eq 0 ] && grep -q SEQ-DONE "$WORK/v.out" && [ $took -lt 60 ]
check "the stalled watcher was held to a bounded backlog (got $total bytes < 1 MiB)" \
	[ "${total:-0}" -gt 0 ] && [ "${total:-0}" -lt 1048576 ]
check "and once it read, it got the current screen again" [ "${screens:-0}" -ge 2 ]

# --- more output than the ring of 64 KiB holds: the screen is rebuilt from
# its tail (the last lines, nothing older), and the watcher is told
vssh alice+plc1 -tt 'seq 1 30000; echo TAIL-END; sleep 3' >"$WORK/v.out" 2>&1 &
v=$!
id6=$(session_live plc1)
wait_file "$WORK/v.out" TAIL-END
O watch "$id6" >"$WORK/w.out" 2>"$WORK/w.err" </dev/null; wrc=$?
wait $v
cat "$WORK/w.err"
check "a watcher after 170 KB of output exits 0 at the end (is $wrc)" [ $wrc -eq 0 ]
check "its screen shows the last lines" grep -q 29999 "$WORK/w.out" && grep -q TAIL-END "$WORK/w.out"
check "and nothing that had scrolled away" not grep -q 29000 "$WORK/w.out"
check "it is told the screen was rebuilt from the last 64 KiB" \
	grep -q "rebuilt from the last 64 KiB of output" "$WORK/w.err"

# --- watchers do not take the places of other control clients (16): with 17
# watching, other verbs still get through
vssh alice+plc1 -tt "echo up; while [ ! -e $WORK/release2 ]; do sleep 0.1; done" \
	>/dev/null 2>&1 &
v=$!
id7=$(session_live plc1)
wpids=()
for _ in $(seq 1 17); do
	"$OTGATE" -f "$WORK/otgated.conf" watch "$id7" >/dev/null 2>&1 </dev/null &
	wpids+=($!)
done
watching() { grep -c "\"event\":\"session.watch\".*\"session\":\"$id7\"" "$WORK/audit.log"; }
for _ in $(seq 1 100); do
	[ "$(watching)" -ge 17 ] && break
	sleep 0.1
done
check "17 operators watch one session ($(watching))" [ "$(watching)" -eq 17 ]
check "and otgate status still answers" O status
touch "$WORK/release2"
wait $v
for p in "${wpids[@]}"; do wait "$p"; done

# --- announce-watch = no: the vendor is not told; the watcher sees the end
kill "$BROKER_PID"; wait "$BROKER_PID" 2>/dev/null
echo "announce-watch = no" >>"$WORK/otgated.conf"
broker_start
vssh alice+plc1 -tt 'echo FIRST; sleep 3; echo SECOND' >"$WORK/v.out" 2>&1 &
v=$!
id5=$(session_live plc1)
O watch "$id5" >"$WORK/w.out" 2>"$WORK/w.err" </dev/null; wrc=$?
wait $v
cat "$WORK/w.err"
check "the watcher stays until the session ends, then exits 0 (is $wrc)" [ $wrc -eq 0 ]
check "and says the session ended" grep -q "session $id5 ended" "$WORK/w.err"
check "it saw the screen and the live text" \
	grep -q FIRST "$WORK/w.out" && grep -q SECOND "$WORK/w.out"
check "with announce-watch = no the vendor is not told" \
	not grep -q "operator is watching" "$WORK/v.out"
check "the watch is audited all the same" audit_has session.watch "\"session\":\"$id5\""

e2e_finish
