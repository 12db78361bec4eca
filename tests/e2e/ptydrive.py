# ptydrive.py SCRIPT -- COMMAND...: run COMMAND on a pty of 30 rows and 100
# columns and follow SCRIPT, one step a line: "send TEXT" (backslash escapes),
# "expect TEXT" (20 s), "resize ROWS COLS" (and SIGWINCH), "run CMD" (a shell
# command, e.g. otgate approve), "sleep S", "status N" (the exit status).
import fcntl, os, pty, select, signal, struct, subprocess, sys, termios, time
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
    elif op == "run":
        r = subprocess.run(arg, shell=True)
        if r.returncode != 0:
            sys.exit("command failed (%d): %s" % (r.returncode, arg))
    elif op == "sleep":
        time.sleep(float(arg))
    elif op == "status":
        end = time.time() + 20
        while time.time() < end:
            done, st = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            try:
                os.read(fd, 4096)
            except OSError:
                pass
            time.sleep(0.05)
        else:
            os.kill(pid, signal.SIGKILL)
            sys.exit("the client did not exit")
        if os.waitstatus_to_exitcode(st) != int(arg):
            sys.exit("exit status %d, not %s" % (os.waitstatus_to_exitcode(st), arg))
print("script done")
