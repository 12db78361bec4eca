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

# drive.py SCRIPT -- ssh command: SCRIPT is lines "send TEXT", "expect TEXT",
# "resize ROWS COLS", "status N" (the client's exit status)
cat >"$WORK/drive.py" <<'EOT'
import fcntl, os, pty, select, signal, struct, sys, termios, time
script, argv = sys.argv[1], sys.argv[3:]
def setsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
pid, fd = pty.fork()
if pid == 0:
    setsize(0, 30, 100)
    os.execvp(argv[0], argv)
buf = b""
def expect(pat):
    global buf
    end = time.time() + 20
    while pat.encode() not in buf:
        r, _, _ = select.select([fd], [], [], max(0, end - time.time()))
        if not r:
            os.kill(pid, signal.SIGKILL)
            sys.exit("timeout waiting for %r; got %r" % (pat, buf[-400:]))
        try:
            d = os.read(fd, 4096)
        except OSError:
            d = b""
        if not d:
            sys.exit("end of output waiting for %r; got %r" % (pat, buf[-400:]))
        buf += d
    buf = buf[buf.index(pat.encode()) + len(pat):]
for line in open(script).read().splitlines():
    op, _, arg = line.partition(" ")
    if op == "send":
        os.write(fd, arg.encode().decode("unicode_escape").encode())
    elif op == "expect":
        expect(arg)
    elif op == "resize":
        rows, cols = map(int, arg.split())
        setsize(fd, rows, cols)
        os.kill(pid, signal.SIGWINCH)
        time.sleep(0.3)
    elif op == "status":
        end = time.time() + 20
        while time.time() < end:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            got = b""
            if select.select([fd], [], [], 0.05)[0]:
                try:
                    got = os.read(fd, 4096)
                except OSError:
                    pass
            if not got:
                time.sleep(0.05)	# a closed pty reads as EIO at once
        else:
            os.kill(pid, signal.SIGKILL)
            sys.exit("the client did not exit")
        code = os.WEXITSTATUS(st) if os.WIFEXITED(st) else -1
        if code != int(arg):
            sys.exit("exit status %d, wanted %s" % (code, arg))
print("driven: " + script)
EOT
drive() {	# SCRIPT USER
	local script=$1 user=$2
	"$E2E_PY" "$WORK/drive.py" "$script" -- ssh -tt -F /dev/null -o BatchMode=yes \
		-o IdentitiesOnly=yes -o StrictHostKeyChecking=no \
		-o UserKnownHostsFile="$WORK/known_hosts" -o LogLevel=ERROR \
		-o SetEnv="LANG=C.UTF-8 OTG_SECRET=nope" -o SendEnv=LANG \
		-i "${VKEY:-$WORK/alice_key}" -p "$BROKER_PORT" "$user@127.0.0.1"
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
