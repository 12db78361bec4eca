# ptydrive.py SCRIPT -- COMMAND...: run COMMAND on a pty and follow SCRIPT, one
# step a line: "send TEXT" (backslash escapes), "expect TEXT" (20 s), "run CMD"
# (a shell command, e.g. otgate approve), "sleep S", "status N" (the exit status).
import os, pty, select, signal, subprocess, sys, time
script, argv = sys.argv[1], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
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
