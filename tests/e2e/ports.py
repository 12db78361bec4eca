#!/usr/bin/python3
"""ports.py DIR OWNER ADDR: print a TCP port that ADDR can bind now, for the
e2e script whose shell is process OWNER (lib.sh's free_port).

Every script running at the same time (tests/run starts them side by side)
holds its own block of BLOCK ports in BASE.., below the kernel's ephemeral
range, so no other script and no outgoing connection takes one. A block is
claimed under DIR/ports.lock in DIR/slot.N ("OWNER NEXT") and is free again
once OWNER is gone. Each call returns the block's next port that binds, so two
calls in one script never give the same port, bound or not.
"""
import fcntl
import os
import socket
import sys

BASE, BLOCK, SLOTS = 20000, 100, 100    # ports 20000-29999


def alive(pid):
    return os.path.exists("/proc/%d" % pid)


def read_slot(d, n):
    try:
        with open(os.path.join(d, "slot.%d" % n)) as f:
            owner, nxt = f.read().split()
            return int(owner), int(nxt)
    except (OSError, ValueError):
        return None


def write_slot(d, n, owner, nxt):
    path = os.path.join(d, "slot.%d" % n)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o666)
    with os.fdopen(fd, "w") as f:
        f.write("%d %d\n" % (owner, nxt))


def last_slot(d):
    try:
        with open(os.path.join(d, "last")) as f:
            return int(f.read())
    except (OSError, ValueError):
        return -1


def claim(d, owner):
    """(slot, next port index): OWNER's block, else the least recently
    claimed free one (its ports may still be in TIME_WAIT)."""
    for n in range(SLOTS):
        st = read_slot(d, n)
        if st and st[0] == owner:
            return n, st[1]
    start = last_slot(d) + 1
    for i in range(SLOTS):
        n = (start + i) % SLOTS
        st = read_slot(d, n)
        if st is None or not alive(st[0]):
            try:
                write_slot(d, n, owner, 0)
            except OSError:
                continue        # another user's file: not ours to take
            with open(os.path.join(d, "last"), "w") as f:
                f.write("%d\n" % n)
            return n, 0
    sys.exit("ports.py: all %d port blocks are held by running scripts" % SLOTS)


def binds(addr, port):
    s = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    try:
        s.bind((addr, port))
        return True
    except OSError:
        return False
    finally:
        s.close()


def main():
    d, owner, addr = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.umask(0)
    os.makedirs(d, mode=0o1777, exist_ok=True)
    lock = os.open(os.path.join(d, "ports.lock"), os.O_RDWR | os.O_CREAT, 0o666)
    fcntl.flock(lock, fcntl.LOCK_EX)
    slot, nxt = claim(d, owner)
    while nxt < BLOCK:
        port = BASE + slot * BLOCK + nxt
        nxt += 1
        if binds(addr, port):
            write_slot(d, slot, owner, nxt)
            print(port)
            return
    sys.exit("ports.py: no port left that %s can bind in block %d" % (addr, slot))


if __name__ == "__main__":
    main()
