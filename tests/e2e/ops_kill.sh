#!/bin/bash
# ops_kill.sh: `otgate kill ID [--reason TEXT]` ends a live session: the vendor
# reads the reason, the recording is closed, sealed and verifies, the kill is
# audited with the operator's uid. Bad input gets clear errors: an ended
# session, an unknown or too short ID, an unknown verb and a malformed kill
# body on the raw socket.
. "$(dirname "$0")/lib.sh"

e2e_init
asset_start plc1 127.0.0.2
policy_write
broker_start
O() { "$OTGATE" -f "$WORK/otgated.conf" "$@"; }
not() { ! "$@" 2>/dev/null; }


vssh alice+plc1 'echo started; sleep 30; echo not-killed' >"$WORK/v.out" 2>"$WORK/v.err" &
live=$!
id=$(session_live plc1)
check "a session runs ($id)" [ -n "$id" ]
start=$(date +%s)
O kill "${id:0:10}" --reason $'line stopped \e[31mby shift lead' >"$WORK/out" 2>"$WORK/err"; rc=$?
cat "$WORK/out" "$WORK/err"
check "kill by a 10-hex prefix exits 0" [ $rc -eq 0 ]
check "kill names the whole ID" grep -qx "session $id ended" "$WORK/out"
wait $live; vrc=$?
took=$(($(date +%s) - start))
cat "$WORK/v.err"
check "the vendor's command ended at once ($took s) with exit 1 (is $vrc)" \
	[ $vrc -eq 1 ] && [ $took -lt 10 ]
check "the vendor read the reason, escaped" \
	grep -q 'otgate: plc1: ended by an operator: line stopped \\x1b\[31mby shift lead' "$WORK/v.err"
check "no raw escape reached the vendor" not grep -q $'\e' "$WORK/v.err"
check "the command did not finish" not grep -q not-killed "$WORK/v.out"
check "session.kill is audited with the uid and reason" \
	audit_has session.kill "\"session\":\"$id\".*\"uid\":$(id -u),\"reason\":\"line stopped"
check "session.end follows with the reason" \
	audit_has session.end "\"session\":\"$id\".*ended by an operator"
check "no session is left" [ -z "$(O sessions --active)" ]
out=$(O verify "$id" 2>&1)
echo "$out"
check "the recording is sealed and verifies" grep -q verified <<<"$out"

# --- bad input
O kill "$id" >"$WORK/out" 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "kill of an ended session exits 1" [ $rc -eq 1 ]
check "and says it may have ended" grep -q "no active session $id (it may have ended)" "$WORK/err"
O kill 1234567 2>"$WORK/err"; rc=$?
cat "$WORK/err"
check "a 7-hex ID is refused" [ $rc -eq 1 ] && grep -q "8 to 32 lowercase hex" "$WORK/err"
O kill; rc=$?
check "kill without an ID is a usage error" [ $rc -eq 2 ]
check "the refused kills are audited as commands" \
	[ "$(grep -c '"verb":"kill"' "$WORK/audit.log")" -ge 3 ]
check "raw socket: unknown verb, malformed kill, bad version, huge length" python3 - "$WORK/control.sock" <<'PY'
import socket, struct, sys
def ask(typ, body=b"", version=1, length=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(10)
    s.connect(sys.argv[1])
    n = len(body) if length is None else length
    s.sendall(struct.pack(">IHHII", 0x4f544743, version, typ, 0, n) + body)
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    magic, ver, rtype, flags, ln = struct.unpack(">IHHII", data[:16])
    return rtype, data[16:16 + ln].decode()
t, m = ask(99)
assert t == 0x102 and "unknown request type 99" in m, (t, m)
t, m = ask(7, b"")
assert t == 0x102 and "kill takes an ID" in m, (t, m)
t, m = ask(7, b"abcdef12")          # no NUL
assert t == 0x102 and "kill takes an ID" in m, (t, m)
t, m = ask(7, b"abcdef12\0a\0b\0")  # three arguments
assert t == 0x102 and "kill takes an ID" in m, (t, m)
t, m = ask(9, b"1\0a\0b\0")        # approve with three arguments
assert t == 0x102 and "approve takes an ID" in m, (t, m)
t, m = ask(8, b"x\0")               # requests takes no argument
assert t == 0x102 and "takes no such flags or arguments" in m, (t, m)
t, m = ask(1, version=9)
assert t == 0x102 and "version" in m, (t, m)
t, m = ask(7, length=1 << 30)
assert t == 0x102 and "too large" in m, (t, m)
PY
check "the broker still answers" O status >/dev/null

e2e_finish
