#!/bin/bash
# Every refusal is one line for the vendor, an audit event, and no harm to
# anyone else: a wrong key; malformed user names (two separators, empty parts,
# 10 KB, control bytes); an unknown asset; an asset outside egress; an asset
# that is down; an asset without a pinned host key; an asset whose host key
# changed (nothing is sent to it); port forwarding and -R for now; a
# vendor that vanishes during key exchange, login, asset connect or relay; an
# asset that drops the connection first.
. "$(dirname "$0")/lib.sh"
e2e_init
asset_start plc1 127.0.0.2
asset_start plc3 127.0.0.3
DOWN_PORT=$(free_port 127.0.0.4)
# a TCP service on 127.0.0.5 that never speaks SSH
"$E2E_PY" -c 'import socket,sys,time
s = socket.socket(); s.bind(("127.0.0.5", 0)); s.listen(8)
print(s.getsockname()[1], flush=True)
conns = []
while True:
    c, _ = s.accept(); conns.append(c)' >"$WORK/mute.port" &
E2E_PIDS+=($!)
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$WORK/mute.port" ] && break; sleep 0.1; done
MUTE_PORT=$(cat "$WORK/mute.port")
cat >"$WORK/extra.conf" <<EOT

[asset far]
address = 10.255.255.1
login = $LOGIN
hostkey = $(asset_hostkey plc1)

[asset down1]
address = 127.0.0.4
port = $DOWN_PORT
login = $LOGIN
hostkey = $(asset_hostkey plc1)

[asset nokey]
address = 127.0.0.2
port = $ASSET_PORT_plc1
login = $LOGIN

[asset changed]
address = 127.0.0.3
port = $ASSET_PORT_plc3
login = $LOGIN
hostkey = $(asset_hostkey plc1)

[asset mute]
address = 127.0.0.5
port = $MUTE_PORT
login = $LOGIN
hostkey = $(asset_hostkey plc1)

[asset guarded]
address = 127.0.0.2
port = $ASSET_PORT_plc1
login = $LOGIN
hostkey = $(asset_hostkey plc1)

[role guard]
assets = guarded
allow = shell exec
approval = required
EOT
MAINT_ASSETS="plc1 plc3 far down1 nokey changed mute" policy_write "$WORK/extra.conf"
sed -i 's/^roles = maint$/roles = maint guard/' "$WORK/policy.conf"
cp "$WORK/vault/plc1.key" "$WORK/vault/changed.key"
LISTEN_V6=$(free_port ::1)
LOGIN_GRACE=2s PER_SOURCE=4 CONNECT_TIMEOUT=3s conf_write
broker_start

# refused: want exit status 1 and "otgate: ASSET: REASON" on stderr
refused() {	# WHAT USER REASON-PATTERN [EVENT]
	local what=$1 user=$2 pat=$3 event=${4:-} out rc
	out=$(vssh "$user" true 2>&1); rc=$?
	check "$what: exit 1 and one line (rc $rc, '$out')" \
		eval '[ $rc -eq 1 ] && [ "$(echo "$out" | wc -l)" -eq 1 ] && echo "$out" | grep -q -- "$pat"'
	[ -n "$event" ] && check "$what: audit $event" audit_has "$event" "$(echo "$user" | cut -d+ -f2)"
}
refused "unknown asset" alice+nosuch "^otgate: nosuch: " policy.deny
refused "needs approval (an exec waits for no one)" alice+guarded "^otgate: guarded: request [0-9]* is waiting for approval" policy.deny
refused "asset outside egress" alice+far "^otgate: far: address 10.255.255.1 port 22 is outside egress" policy.deny
refused "asset down" alice+down1 "^otgate: down1: connect to 127.0.0.4 port $DOWN_PORT: Connection refused" asset.unreachable
refused "no pinned host key" alice+nokey "^otgate: nokey: no pinned host key: run otgate asset trust nokey" policy.deny
refused "changed host key" alice+changed "^otgate: changed: host key mismatch: the asset offered ssh-ed25519 SHA256:" hostkey.mismatch
check "changed host key: no login was attempted on that asset" \
	eval '! grep -q "Accepted publickey" "$WORK/asset-plc3/sshd.log"'

# login failures: exit 255, nothing reaches an asset, auth.failure audited
out=$(VKEY=$WORK/mallory_key vssh alice+plc1 true 2>&1); rc=$?
check "wrong key refused (rc $rc)" [ $rc -eq 255 ]
check "wrong key: audit auth.failure" audit_wait auth.failure '"user":"alice+plc1"'
long=$(head -c 10240 /dev/zero | tr '\0' a)
# (OpenSSH's client itself refuses control bytes in user names; the parser's
# unit test covers them)
for u in 'alice+plc1+plc1' 'alice+plc1:x' '+plc1' 'alice+' "$long" 'alice++plc1' 'al ice+plc1'; do
	out=$(VSSH_LOGLEVEL=INFO vssh "$u" true 2>&1); rc=$?
	check "bad user name '$(printf %.20s "$u")...' refused with a reason (rc $rc)" \
		eval '[ $rc -eq 255 ] && echo "$out" | grep -q "^otgate: user name"'
done
check "bad user names: auth.failure with the reason" audit_wait auth.failure 'has two separators'

# channel kinds not relayed yet (sftp has its own tests)
out=$(VSSH_LOGLEVEL=INFO vssh alice+plc1 -W 127.0.0.2:22 2>&1 </dev/null); rc=$?
check "port forwarding (direct-tcpip) refused (rc $rc)" \
	eval '[ $rc -eq 255 ] && echo "$out" | grep -q "administratively prohibited"'
out=$(vssh alice+plc1 -o ExitOnForwardFailure=yes -R 0:127.0.0.1:22 true 2>&1); rc=$?
check "remote forwarding refused (rc $rc)" [ $rc -eq 255 ]
out=$(vssh alice+plc1 -o ForwardAgent=yes -o ForwardX11=yes 'echo fine' 2>/dev/null)
check "agent/X11 requests refused quietly, the session still works" [ "$out" = fine ]

# vendors that vanish at every stage; the broker keeps serving
"$E2E_PY" -c 'import socket,sys
for stage in ("nothing", "version", "garbage"):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    if stage == "version": s.sendall(b"SSH-2.0-x\r\n"); s.recv(100)
    if stage == "garbage": s.sendall(b"SSH-2.0-x\r\n" + b"\0\0\0\x10" * 64)
    s.close()' "$BROKER_PORT"
# (timeout stops the client with SIGTERM)
VSSH_TIMEOUT=1 vssh alice+mute true >/dev/null 2>&1
VSSH_TIMEOUT=2 vssh alice+plc1 'sleep 30' >/dev/null 2>&1
sleep 0.5
check "vendor gone mid-relay: session.end audited" audit_has session.end '"reason":"vendor disconnected"'
# (a second in: killed before sshd confirms the exec, it is a refused session)
out=$(vssh alice+plc1 'sleep 1; kill -9 $PPID; sleep 5' 2>&1); rc=$?
check "asset drops the connection first: 255 and a reason (rc $rc, '$out')" \
	eval '[ $rc -eq 255 ] && echo "$out" | grep -q "otgate: connection to the asset lost"'
out=$(vssh alice+mute true 2>&1); rc=$?
check "asset that never answers: refused after the deadline (rc $rc, '$out')" \
	eval '[ $rc -eq 1 ] && echo "$out" | grep -q "^otgate: mute: no answer from 127.0.0.5"'
# pre-auth limits: login grace, unauthenticated connections per source
"$E2E_PY" - "$BROKER_PORT" >"$WORK/limits" 2>&1 <<'EOT'
import socket, sys, time
port = int(sys.argv[1])
def closed(s, wait):
    s.settimeout(wait)
    try:
        while s.recv(4096):
            pass
        return True
    except socket.timeout:
        return False
    except OSError:
        return True
idle = [socket.create_connection(("127.0.0.1", port)) for _ in range(4)]
time.sleep(0.3)
extra = socket.create_connection(("127.0.0.1", port))
print("fifth", "closed" if closed(extra, 1) else "open")
t = time.time()
print("grace", "closed" if all(closed(s, 5) for s in idle) else "open", round(time.time() - t))
EOT
check "a fifth unauthenticated connection from one source is dropped ($(cat "$WORK/limits"))" \
	grep -q "fifth closed" "$WORK/limits"
check "idle unauthenticated connections end after the login grace" \
	grep -q "grace closed [1-3]$" "$WORK/limits"
check "audit: grace expiry is an auth.failure" audit_has auth.failure 'login grace time expired'
out=$(ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
	-o UserKnownHostsFile="$WORK/known_hosts" -o LogLevel=ERROR -i "$WORK/alice_key" -p "$LISTEN_V6" \
	alice+plc1@::1 'echo over-v6' 2>&1)
check "IPv6 listen address works ($out)" [ "$out" = over-v6 ]
out=$(vssh alice+plc1 'echo still-here' 2>&1)
check "the broker still serves others (got '$out')" [ "$out" = still-here ]
check "broker still running" kill -0 "$BROKER_PID"
e2e_finish
