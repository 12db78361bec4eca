#!/usr/bin/env python3
"""hostile.py: paramiko as an intruder's SSH client against otgated.

    hostile.py CASE HOST PORT [ARGS...]

Each case prints one line per thing it checked ("ok: ..." or "FAIL: ...")
and exits 0 only when every check held. Cases:
    preauth-order KEY USER   channel open and global request before login
    probe KEY USER           a key probed but never signed, then a bad signature
    failures KEY USER...     the failure each user name meets, one line each
    methods KEY USER...      the methods advertised to each user name, before
                             and after a failed password and a failed key
    idle N SECONDS SRC...    N sockets that never speak, held SECONDS
    channel-flood KEY USER N N session channels on one connection, held 3 s
    global-flood KEY USER N  N global requests wanting a reply
"""
import socket
import sys
import time

import paramiko
from paramiko.common import cMSG_USERAUTH_REQUEST
from paramiko.message import Message

FAILS = 0


def check(what, cond):
    global FAILS
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        FAILS += 1


def transport(host, port):
    sock = socket.create_connection((host, port), 10)
    t = paramiko.Transport(sock)
    t.start_client(timeout=10)
    return t


def preauth_order(host, port, keyfile, user):
    t = transport(host, port)
    try:
        ch = t.open_session(timeout=5)
        opened = ch is not None
    except Exception:
        opened = False
    check("a channel open before login is refused", not opened)
    try:
        reply = t.global_request("tcpip-forward", wait=True) if t.is_active() else None
    except Exception:
        reply = None
    check("a global request before login gets no success", reply is None)
    check("nothing is authenticated", not t.is_authenticated())
    t.close()
    # between steps: after a failed key, nothing opens either
    t = transport(host, port)
    try:
        t.auth_none(user)
    except paramiko.BadAuthenticationType:
        pass
    except Exception:
        pass
    try:
        ch = t.open_session(timeout=5)
        opened = ch is not None
    except Exception:
        opened = False
    check("a channel open after a refused 'none' is refused", not opened)
    t.close()


def probe(host, port, keyfile, user):
    key = paramiko.Ed25519Key.from_private_key_file(keyfile)
    t = transport(host, port)
    try:
        t.auth_none(user)
    except Exception:
        pass
    # SSH_MSG_USERAUTH_REQUEST publickey without a signature: a probe
    m = Message()
    m.add_byte(cMSG_USERAUTH_REQUEST)
    m.add_string(user)
    m.add_string("ssh-connection")
    m.add_string("publickey")
    m.add_boolean(False)
    m.add_string(key.get_name())
    m.add_string(key.asbytes())
    t._send_message(m)
    time.sleep(1)
    check("a probed key does not authenticate", not t.is_authenticated())
    try:
        ch = t.open_session(timeout=5)
        opened = ch is not None
    except Exception:
        opened = False
    check("a channel open after a probe is refused", not opened)
    t.close()

    class BadSig(paramiko.Ed25519Key):
        def sign_ssh_data(self, data, algorithm=None):
            msg = super().sign_ssh_data(data + b"x", algorithm)
            return msg

    bad = BadSig(filename=keyfile)
    t = transport(host, port)
    try:
        t.auth_publickey(user, bad)
        authed = t.is_authenticated()
    except Exception:
        authed = False
    check("a signature over other data does not authenticate", not authed)
    t.close()


def failures(host, port, keyfile, users):
    key = paramiko.Ed25519Key.from_private_key_file(keyfile)
    for user in users:
        t = transport(host, port)
        allowed = "-"
        try:
            t.auth_none(user)
        except paramiko.BadAuthenticationType as e:
            allowed = ",".join(sorted(e.allowed_types))
        except Exception as e:
            allowed = type(e).__name__
        try:
            t.auth_publickey(user, key)
            result = "authenticated"
        except paramiko.AuthenticationException as e:
            result = type(e).__name__ + ":" + str(e)
        except Exception as e:
            result = type(e).__name__
        t.close()
        print("%s\t%s" % (allowed, result), flush=True)


def allowed_now(t, user):
    try:
        t.auth_none(user)
    except paramiko.BadAuthenticationType as e:
        return ",".join(sorted(e.allowed_types))
    except Exception as e:
        return type(e).__name__
    return "authenticated"


def methods(host, port, keyfile, users):
    key = paramiko.Ed25519Key.from_private_key_file(keyfile)
    for user in users:
        t = transport(host, port)
        before = allowed_now(t, user)
        for attempt in (lambda: t.auth_password(user, "not-the-password"),
                        lambda: t.auth_publickey(user, key)):
            try:
                attempt()
            except Exception:
                pass
        after = allowed_now(t, user) if t.is_active() else "closed"
        t.close()
        print("%s\t%s" % (before, after), flush=True)


def idle(host, port, n, seconds, sources):
    socks, refused = [], 0
    for i in range(n):
        src = sources[i % len(sources)]
        s = socket.socket()
        try:
            s.bind((src, 0))
            s.settimeout(2)
            s.connect((host, port))
            socks.append(s)
        except OSError:
            refused += 1
            s.close()
    print("held %d, refused %d" % (len(socks), refused), flush=True)
    time.sleep(seconds)
    for s in socks:
        s.close()


def logged_in(host, port, keyfile, user):
    key = paramiko.Ed25519Key.from_private_key_file(keyfile)
    t = transport(host, port)
    t.auth_publickey(user, key)
    return t


def channel_flood(host, port, keyfile, user, n):
    t = logged_in(host, port, keyfile, user)
    opened = refused = 0
    for _ in range(n):
        try:
            t.open_session(timeout=5)
            opened += 1
        except Exception:
            refused += 1
        if not t.is_active():
            break
    # what the broker holds is asked meanwhile (otgate status): paramiko's own
    # count is confused by confirmations it did not expect
    print("opened %d, refused %d" % (opened, refused), flush=True)
    time.sleep(3)
    t.close()


def global_flood(host, port, keyfile, user, n):
    t = logged_in(host, port, keyfile, user)
    ok = 0
    for i in range(n):
        if not t.is_active():
            break
        try:
            if t.global_request("tcpip-forward", wait=(i % 10 == 0)) is not None:
                ok += 1
        except Exception:
            break
    check("no global request succeeded (%d did)" % ok, ok == 0)
    t.close()


def main():
    case, host, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    args = sys.argv[4:]
    if case == "preauth-order":
        preauth_order(host, port, args[0], args[1])
    elif case == "probe":
        probe(host, port, args[0], args[1])
    elif case == "failures":
        failures(host, port, args[0], args[1:])
    elif case == "methods":
        methods(host, port, args[0], args[1:])
    elif case == "idle":
        idle(host, port, int(args[0]), float(args[1]), args[2:])
    elif case == "channel-flood":
        channel_flood(host, port, args[0], args[1], int(args[2]))
    elif case == "global-flood":
        global_flood(host, port, args[0], args[1], int(args[2]))
    else:
        print("usage: hostile.py CASE HOST PORT ...", file=sys.stderr)
        sys.exit(2)
    sys.exit(1 if FAILS else 0)


if __name__ == "__main__":
    main()
