#!/bin/bash
# sdnotify.sh: otgated speaks systemd's Type=notify protocol as otgate.service
# expects: READY=1 only once it accepts connections, RELOADING=1 then READY=1
# around a SIGHUP, STOPPING=1 on SIGTERM. A listener of our own stands in for
# systemd's NOTIFY_SOCKET, as an abstract socket like systemd's.
. "$(dirname "$0")/lib.sh"

e2e_init
policy_write
conf_write
NOTIFY="@otgate-e2e-notify-$$"
GOT=$WORK/notify.log

python3 - "$NOTIFY" >"$GOT" 2>&1 <<'EOF' &
import socket, sys, time
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("\0" + sys.argv[1][1:])
print("bound", flush=True)
s.settimeout(30)
try:
    while True:
        msg = s.recv(4096).decode()
        # one line per datagram: its first field, then when it came
        print(msg.split("\n")[0], "%.3f" % time.monotonic(), flush=True)
        if msg.startswith("STOPPING=1"):
            break
except socket.timeout:
    pass
EOF
LISTENER=$!
E2E_PIDS+=($LISTENER)
for _ in $(seq 100); do grep -q '^bound' "$GOT" && break; sleep 0.05; done

e2e_own	# as root the broker drops to the throwaway user: its state is that user's
NOTIFY_SOCKET=$NOTIFY "$OTGATED" -D -f "$WORK/otgated.conf" >>"$WORK/otgated.log" 2>&1 &
BROKER_PID=$!
E2E_PIDS+=($BROKER_PID)
got() { grep -c "^$1 " "$GOT"; }
wait_for() {	# MESSAGE COUNT
	local i
	for ((i = 0; i < 200; i++)); do
		[ "$(got "$1")" -ge "$2" ] && return 0
		sleep 0.05
	done
	return 1
}

check "READY=1 after start" wait_for READY=1 1
check "it accepts connections once READY=1 was sent" wait_port 127.0.0.1 "$BROKER_PORT" 1
check "RELOADING=1 is not sent at start" [ "$(got RELOADING=1)" -eq 0 ]

kill -HUP "$BROKER_PID"
check "RELOADING=1 on SIGHUP" wait_for RELOADING=1 1
check "READY=1 again once the reload is done" wait_for READY=1 2
check "RELOADING=1 comes before the second READY=1" python3 - "$GOT" <<'EOF'
import sys
lines = [l.split() for l in open(sys.argv[1]) if l[0].isupper()]
order = [l[0] for l in lines]
sys.exit(0 if order[:3] == ["READY=1", "RELOADING=1", "READY=1"] else 1)
EOF

kill -TERM "$BROKER_PID"
check "STOPPING=1 on SIGTERM" wait_for STOPPING=1 1
wait "$BROKER_PID" 2>/dev/null
cat "$GOT"
e2e_finish
