#!/bin/bash
# Port forwarding through otgated: ssh -W / ssh -L to a TCP echo server (a
# stand-in for a Modbus device) on the asset's address carries bytes both ways,
# is recorded (.stream) and audited (forward.open/forward.close with bytes).
# Refused, "administratively prohibited", with forward.denied: ports not in
# the asset's forward list, other loopback hosts, integer and IPv4-mapped
# spellings, the broker's own listen address, another asset than the one
# the connection names, a role without forward. Forwards pass the sessions'
# admission: max-sessions turns a second one away (session.busy), a
# needs-approval asset refuses with a request number until approved, a role
# with reason = required refuses (no terminal to ask on). A device
# that does not answer fails the open itself (no channel that opens and
# closes), audited asset.unreachable. -R and agent forwarding are refused and
# audited (channel.refused). otgate export --pcap gives a pcap-ng
# whose synthetic TCP carries the Modbus bytes.
. "$(dirname "$0")/lib.sh"
e2e_init
asset_start plc1 127.0.0.2

echo_server() {	# ADDR PORT: echo each connection back until its EOF
	"$E2E_PY" -c '
import socket, sys, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((sys.argv[1], int(sys.argv[2]))); s.listen(16)
def serve(c):
    while True:
        b = c.recv(65536)
        if not b: break
        c.sendall(b)
    c.close()
while True:
    c, _ = s.accept(); threading.Thread(target=serve, args=(c,), daemon=True).start()
' "$1" "$2" &
	E2E_PIDS+=($!)
	wait_port "$1" "$2" || { echo "FAIL: echo server on $1:$2 did not start"; exit 1; }
}
EPORT=$(free_port 127.0.0.2)
echo_server 127.0.0.2 "$EPORT"
OTHER=$(free_port 127.0.0.2)
echo_server 127.0.0.2 "$OTHER"
LOOP=$(free_port 127.0.0.1)
echo_server 127.0.0.1 "$LOOP"
BUSY=$(free_port 127.0.0.6)
echo_server 127.0.0.6 "$BUSY"
GATED=$(free_port 127.0.0.7)
echo_server 127.0.0.7 "$GATED"
WHY=$(free_port 127.0.0.8)
echo_server 127.0.0.8 "$WHY"

cat >"$WORK/extra.conf" <<EOT
forward = $EPORT $LOOP

[asset plc2]
address = 127.0.0.3
login = x
hostkey = $(asset_hostkey plc1)
forward = $OTHER

[asset self]
address = 127.0.0.1
login = x
hostkey = $(asset_hostkey plc1)
forward = $BROKER_PORT

[asset plc3]
address = 127.0.0.6
login = x
hostkey = $(asset_hostkey plc1)
forward = $BUSY
max-sessions = 1

[asset plc4]
address = 127.0.0.7
login = x
hostkey = $(asset_hostkey plc1)
forward = $GATED

[asset plc5]
address = 127.0.0.8
login = x
hostkey = $(asset_hostkey plc1)
forward = $WHY

[role gated]
assets = plc4
allow = forward
approval = required

[role ticketed]
assets = plc5
allow = forward
reason = required

[role execonly]
assets = *
allow = exec

[user bob]
company = Test Automation
roles = execonly
auth = publickey
pubkey = $(cat "$WORK/mallory_key.pub")
EOT
MAINT_ASSETS="plc1 plc2 plc3 self" policy_write "$WORK/extra.conf"
sed -i 's/^allow = shell exec$/allow = shell exec forward/' "$WORK/policy.conf"
sed -i 's/^roles = maint$/roles = maint gated ticketed/' "$WORK/policy.conf"
broker_start

# ssh -W: stdin to the device, the device's answer to stdout
out=$(printf 'modbus-write-0001' | vssh alice -W "plc1:$EPORT" 2>"$WORK/w.err")
check "ssh -W plc1:$EPORT echoes the bytes back (got '$out': $(cat "$WORK/w.err"))" \
	[ "$out" = modbus-write-0001 ]
out=$(printf 'by-address' | vssh alice+plc1 -W "127.0.0.2:$EPORT" 2>"$WORK/w.err")
check "the asset's configured address works too (got '$out': $(cat "$WORK/w.err"))" \
	[ "$out" = by-address ]

head -c 3000000 /dev/urandom >"$WORK/bulk"
want=$(sha256sum <"$WORK/bulk" | cut -d' ' -f1)
got=$(vssh alice -W "plc1:$EPORT" <"$WORK/bulk" 2>/dev/null | sha256sum | cut -d' ' -f1)
check "3 MB through the forward come back intact" [ "$got" = "$want" ]

# ssh -L with a local port, as an engineering tool would use it
LPORT=$(free_port 127.0.0.1)
vssh alice -N -o ExitOnForwardFailure=yes -L "127.0.0.1:$LPORT:plc1:$EPORT" &
LPID=$!
E2E_PIDS+=($LPID)
wait_port 127.0.0.1 "$LPORT" 10
out=$("$E2E_PY" -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
c.sendall(b"\x00\x01\x00\x00\x00\x06\x01\x06\x00\x01\x00\x03")
got = b""
while len(got) < 12:
    b = c.recv(100)
    if not b: break
    got += b
print(got.hex())' "$LPORT" 2>&1)
check "ssh -L carries a Modbus write request both ways (got '$out')" \
	[ "$out" = 000100000006010600010003 ]
kill "$LPID" 2>/dev/null

refused() {	# WHAT USER TARGET REASON-IN-AUDIT
	local err rc n0 n1
	n0=$(grep -c '"event":"forward.denied"' "$WORK/audit.log")
	printf x | VSSH_LOGLEVEL=INFO vssh "$2" -W "$3" >/dev/null 2>"$WORK/refused.err"; rc=$?
	err=$(grep -i "open failed" "$WORK/refused.err")
	n1=$(grep -c '"event":"forward.denied"' "$WORK/audit.log")
	check "$1: refused (rc $rc: $err)" eval '[ $rc -ne 0 ] && echo "$err" | grep -qi "administratively prohibited"'
	check "$1: forward.denied says '$4'" eval "[ $n1 -gt $n0 ] && tail -n 3 '$WORK/audit.log' | grep '\"forward.denied\"' | grep -q -- '$4'"
}
refused "a port not in the forward list" alice "plc1:$OTHER" "not in asset plc1"
# 127.0.0.1 is asset self's address, and EPORT is not in its list
refused "127.0.0.1:$EPORT (asset self's address, not its port)" alice "127.0.0.1:$EPORT" "forward list"
refused "127.0.0.4, no asset's address" alice "127.0.0.4:$EPORT" "not an asset"
refused "localhost" alice "localhost:$EPORT" "not an asset"
refused "the integer spelling of 127.0.0.2" alice "2130706434:$EPORT" "not an asset"
refused "the IPv4-mapped IPv6 spelling" alice "[::ffff:127.0.0.2]:$EPORT" "not an asset"
refused "another asset than the connection's" alice+plc1 "plc2:$OTHER" "this connection is for asset plc1"
refused "the broker's own listen address" alice "self:$BROKER_PORT" "the broker itself"
VKEY=$WORK/mallory_key refused "a role without forward" bob "plc1:$EPORT" "forward"

# plc1 lists LOOP, where only 127.0.0.1 has a server: the broker connects
# to plc1's own address, so nothing answers, and the open itself fails
out=$(printf 'leak' | VSSH_LOGLEVEL=INFO vssh alice -W "plc1:$LOOP" 2>"$WORK/loop.err"); rc=$?
check "plc1:$LOOP reaches 127.0.0.2 only, never 127.0.0.1's server (got '$out')" [ -z "$out" ]
check "a device that does not answer fails the open (rc $rc: $(cat "$WORK/loop.err"))" \
	eval '[ $rc -eq 255 ] && grep -q "open failed" "$WORK/loop.err"'
check "audit: the failed connect is asset.unreachable, with the reason" \
	audit_has asset.unreachable "127.0.0.2 port $LOOP: Connection refused"
n=$(grep -c '"event":"forward.open"' "$WORK/audit.log")
# the same with ssh -L: each local connection gets "open failed", none opens
LPORT=$(free_port 127.0.0.1)
VSSH_LOGLEVEL=INFO vssh alice -N -L "127.0.0.1:$LPORT:plc1:$LOOP" 2>"$WORK/l.err" &
LPID=$!
E2E_PIDS+=($LPID)
wait_port 127.0.0.1 "$LPORT" 10
"$E2E_PY" -c '
import socket, sys
c = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
c.sendall(b"x")
c.recv(10)' "$LPORT" 2>/dev/null
sleep 0.5
kill "$LPID" 2>/dev/null
check "ssh -L to a silent device: the client says open failed ($(cat "$WORK/l.err"))" \
	grep -Eq "channel [0-9]+: open failed" "$WORK/l.err"
check "no forward.open for a device that never answered" \
	[ "$(grep -c '"event":"forward.open"' "$WORK/audit.log")" -eq "$n" ]

# max-sessions = 1 on plc3: a forward held open turns the next one away
(sleep 3; printf held) | vssh alice -W "plc3:$BUSY" >"$WORK/held.out" 2>&1 &
hold=$!
for i in $(seq 50); do audit_has forward.open "\"port\":$BUSY" 2>/dev/null && break; sleep 0.1; done
out=$(printf 'second' | VSSH_LOGLEVEL=INFO vssh alice -W "plc3:$BUSY" 2>"$WORK/busy.err"); rc=$?
check "a second forward to a max-sessions = 1 asset is refused (rc $rc: $(cat "$WORK/busy.err"))" \
	eval '[ $rc -eq 255 ] && [ -z "$out" ] && grep -q "open failed" "$WORK/busy.err"'
check "audit: session.busy for the forward, with who holds the asset" \
	audit_has session.busy '"kind":"forward".*in use by alice.*max-sessions 1'
wait $hold
check "the forward that held plc3 worked (got '$(cat "$WORK/held.out")')" grep -qx held "$WORK/held.out"
out=$(printf 'third' | vssh alice -W "plc3:$BUSY" 2>&1)
check "once it ended, the next forward goes through (got '$out')" [ "$out" = third ]

# needs approval (plc4): refused with the request number, through once approved
out=$(printf 'early' | VSSH_LOGLEVEL=INFO vssh alice -W "plc4:$GATED" 2>"$WORK/gated.err"); rc=$?
check "a forward to a needs-approval asset is refused (rc $rc: $(cat "$WORK/gated.err"))" \
	eval '[ $rc -eq 255 ] && [ -z "$out" ] && grep -q "open failed" "$WORK/gated.err"'
req=$(grep '"event":"approval.request"' "$WORK/audit.log" | grep '"asset":"plc4"' |
	grep -o '"request":[0-9]*' | head -n 1 | cut -d: -f2)
check "audit: approval.request for the forward (request '$req')" \
	eval '[ -n "$req" ] && audit_has approval.request "\"request\":$req,.*\"kind\":\"forward\""'
check "audit: policy.deny names the request number" \
	audit_has policy.deny "\"kind\":\"forward\".*request $req is waiting for approval"
check "otgate requests lists it" eval '"$OTGATE" -f "$WORK/otgated.conf" requests | grep -Eq "^$req .* alice plc4"'
"$OTGATE" -f "$WORK/otgated.conf" approve "$req" --for 2m >/dev/null
out=$(printf 'approved' | vssh alice -W "plc4:$GATED" 2>&1)
check "once approved, the forward goes through (got '$out')" [ "$out" = approved ]

# reason = required (plc5): no terminal to ask on, so refused, saying why
out=$(printf 'why' | VSSH_LOGLEVEL=INFO vssh alice -W "plc5:$WHY" 2>"$WORK/why.err"); rc=$?
check "a forward under reason = required is refused (rc $rc: $(cat "$WORK/why.err"))" \
	eval '[ $rc -eq 255 ] && [ -z "$out" ] && grep -q "open failed" "$WORK/why.err"'
check "audit: policy.deny says a reason is required" \
	audit_has policy.deny '"asset":"plc5".*"kind":"forward".*a reason for access is required'

# -R, agent and X11 forwarding
vssh alice -o ExitOnForwardFailure=yes -R 0:127.0.0.2:22 -N >/dev/null 2>"$WORK/r.err"; rc=$?
check "ssh -R is refused (rc $rc)" [ $rc -ne 0 ]
check "audit: channel.refused tcpip-forward" audit_has channel.refused tcpip-forward
eval "$(ssh-agent -s)" >/dev/null
E2E_PIDS+=($SSH_AGENT_PID)
vssh alice+plc1 -o ForwardAgent=yes true </dev/null >/dev/null 2>&1
sleep 0.3
check "audit: channel.refused for agent forwarding" audit_has channel.refused 'agent'

sleep 0.5
check "audit: forward.open names the asset, port and address" \
	audit_has forward.open "\"port\":$EPORT"
check "audit: forward.close counts 3 MB each way" \
	eval "grep '\"event\":\"forward.close\"' '$WORK/audit.log' | grep '\"bytes_in\":3000000' | grep -q '\"bytes_out\":3000000'"
check "audit: session.start of kind forward" audit_has session.start '"kind":"forward"'
check "forwards are recorded as .stream" \
	eval "[ \$(find '$WORK/state' -name '*.stream' | wc -l) -ge 3 ]"
# the Modbus forward as pcap-ng: blocks well formed, the synthetic TCP
# carries exactly the request and the answer, to and from port $EPORT
sid=$(grep '"event":"forward.close"' "$WORK/audit.log" | grep '"bytes_in":12,' |
	grep -o '"session":"[0-9a-f]*"' | head -n 1 | cut -d'"' -f4)
"$OTGATE" -f "$WORK/otgated.conf" export "$sid" --pcap "$WORK/modbus.pcapng" 2>"$WORK/pcap.err"
rc=$?
check "otgate export ID --pcap writes a capture (rc $rc: $(cat "$WORK/pcap.err"))" [ $rc -eq 0 ]
out=$("$E2E_PY" - "$WORK/modbus.pcapng" "$EPORT" <<'PY' 2>&1
import struct, sys
data = open(sys.argv[1], "rb").read()
port = int(sys.argv[2])
off, flows, types = 0, {}, []
while off < len(data):
    btype, blen = struct.unpack(">II", data[off:off + 8])
    assert blen % 4 == 0 and blen >= 12, "bad block length"
    assert struct.unpack(">I", data[off + blen - 4:off + blen])[0] == blen, "trailer"
    types.append(btype)
    if btype == 0x0A0D0D0A:
        assert data[off + 8:off + 12] == b"\x1a\x2b\x3c\x4d", "magic"
    if btype == 6:
        caplen = struct.unpack(">I", data[off + 20:off + 24])[0]
        pkt = data[off + 28:off + 28 + caplen]
        assert pkt[0] == 0x45 and pkt[9] == 6, "not IPv4/TCP"
        s = sum(struct.unpack(">10H", pkt[:20])) 
        while s >> 16: s = (s & 0xffff) + (s >> 16)
        assert s == 0xffff, "IP checksum"
        sport, dport = struct.unpack(">HH", pkt[20:24])
        payload = pkt[40:]
        flows[(sport, dport)] = flows.get((sport, dport), b"") + payload
    off += blen
assert types[0] == 0x0A0D0D0A and types[1] == 1, types[:2]
req = [v for (s, d), v in flows.items() if d == port]
rsp = [v for (s, d), v in flows.items() if s == port]
print(req[0].hex(), rsp[0].hex())
PY
)
check "the capture's TCP to and from port $EPORT carries the Modbus bytes ($out)" \
	[ "$out" = "000100000006010600010003 000100000006010600010003" ]
if command -v tshark >/dev/null; then
	check "tshark reads the capture" tshark -r "$WORK/modbus.pcapng" -q
fi
check "broker still running" kill -0 "$BROKER_PID"
e2e_finish
