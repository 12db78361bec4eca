#!/usr/bin/python3
# kbdint.py: answers an ssh client's prompts through a pty, as a vendor would
# type them (sshpass answers one prompt only; password + TOTP asks two).
#   kbdint.py [-t SECONDS] PATTERN ANSWER ... -- ssh ARGS...
# Each PATTERN (a regex) is awaited in turn in what ssh wrote and ANSWER typed
# with a newline. ANSWER "@totp" is the current code (oathtool) for the
# secret= of the otpauth:// line shown so far (the enrolment QR prompt).
# Everything ssh wrote goes to stdout; the exit status is ssh's, 124 when an
# awaited prompt never came.
import os, pty, re, select, subprocess, sys, time

def main():
    args = sys.argv[1:]
    limit = 30.0
    if args[:1] == ["-t"]:
        limit = float(args[1])
        args = args[2:]
    sep = args.index("--")
    pairs = args[:sep]
    if len(pairs) % 2:
        sys.exit("usage: kbdint.py [-t SECONDS] PATTERN ANSWER ... -- COMMAND...")
    steps = [pairs[i:i + 2] for i in range(0, len(pairs), 2)]
    cmd = args[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen = b""
    start = 0
    deadline = time.monotonic() + limit
    status = None
    while True:
        if steps:
            m = re.search(steps[0][0].encode(), seen[start:])
            if m:
                start += m.end()
                answer = steps.pop(0)[1]
                if answer == "@totp":
                    s = re.findall(rb"secret=([A-Z2-7]+)", seen)
                    answer = subprocess.run(["oathtool", "--totp", "-b",
                        s[-1].decode()], capture_output=True,
                        text=True).stdout.strip() if s else "000000"
                os.write(fd, answer.encode() + b"\n")
        left = deadline - time.monotonic()
        if left <= 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            sys.stdout.buffer.write(seen)
            return 124
        r, _, _ = select.select([fd], [], [], min(left, 0.2))
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                data = b""
            if not data:
                break
            seen += data
    _, status = os.waitpid(pid, 0)
    sys.stdout.buffer.write(seen)
    return os.waitstatus_to_exitcode(status) if status is not None else 1

sys.exit(main())
