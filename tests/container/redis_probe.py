#!/usr/bin/env python3
"""Looks into the Redis the container test runs with compose's ACL file.

    redis_probe.py PORT USER PASSWORD_FILE ACTION [ARGS]

Actions (exit 0 when the check holds, 1 with the reason on stderr):
  ping                       the user can log in
  default-off                the default user is off: an unauthenticated
                             PING answers NOAUTH, ACL GETUSER default says off
  clients APP_USER           every client is APP_USER or USER, APP_USER at
                             least once (the app logged in as its ACL user)
  acl-log APP_USER           ACL LOG holds no command APP_USER was denied
  plaintext PASSWORDS DIR    keys only under the history prefix, ciphertext
                             (g1:) entries, and none of the passwords (a JSON
                             list) in any key, value, or file under DIR (the
                             append-only files)
  confined                   USER (the app's) can only reach the history keys
                             with the app's commands: anything else is NOPERM

A small RESP client of its own: binary-safe, nothing to install.
"""
import json
import os
import socket
import sys

HISTORY_PREFIX = b"{giropops-senhas:history}:"
# Nothing the service sends may be refused: it skips redis-rs's CLIENT SETINFO
# on connect (src/history/connect.rs), which the ACL does not allow.
IGNORED_DENIALS = set()


class RedisError(Exception):
    pass


class Redis:
    def __init__(self, port, user=None, password=None):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.file = self.sock.makefile("rb")
        if user is not None:
            self.call("AUTH", user, password)

    def call(self, *args):
        reply = self.send(*args)
        if isinstance(reply, RedisError):
            raise reply
        return reply

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for arg in args:
            arg = arg if isinstance(arg, bytes) else str(arg).encode()
            out += b"$%d\r\n%s\r\n" % (len(arg), arg)
        self.sock.sendall(out)
        return self.read()

    def read(self):
        line = self.file.readline()
        if not line.endswith(b"\r\n"):
            raise RedisError("connection closed")
        kind, rest = line[:1], line[1:-2]
        if kind == b"+":
            return rest
        if kind == b"-":
            return RedisError(rest.decode(errors="replace"))
        if kind == b":":
            return int(rest)
        if kind == b"$":
            n = int(rest)
            return None if n < 0 else self.file.read(n + 2)[:-2]
        if kind == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RedisError(f"unexpected reply {line!r}")


def pairs(flat):
    return {flat[i]: flat[i + 1] for i in range(0, len(flat), 2)}


def fail(why):
    print(why, file=sys.stderr)
    sys.exit(1)


def main():
    port, user, password_file, action, *args = sys.argv[1:]
    password = open(password_file).read().strip()
    redis = Redis(int(port), user, password)

    if action == "ping":
        if redis.call("PING") != b"PONG":
            fail("no PONG")

    elif action == "default-off":
        reply = Redis(int(port)).send("PING")
        if not (isinstance(reply, RedisError) and str(reply).startswith("NOAUTH")):
            fail(f"an unauthenticated PING answered {reply!r}, not NOAUTH")
        flags = pairs(redis.call("ACL", "GETUSER", "default"))[b"flags"]
        if b"off" not in flags:
            fail(f"the default user's flags: {flags!r}")

    elif action == "clients":
        (app_user,) = args
        users = [
            dict(field.split(b"=", 1) for field in line.split(b" ") if b"=" in field).get(b"user")
            for line in redis.call("CLIENT", "LIST").splitlines()
        ]
        print(f"clients by user: {[u.decode() for u in users]}", file=sys.stderr)
        if app_user.encode() not in users or not set(users) <= {app_user.encode(), user.encode()}:
            fail(f"expected clients of {app_user} (and this probe's {user}) only")

    elif action == "acl-log":
        (app_user,) = args
        entries = [pairs(entry) for entry in redis.call("ACL", "LOG")]
        for entry in entries:
            print("ACL LOG:", {k.decode(): v for k, v in entry.items() if k != b"client-info"},
                  file=sys.stderr)
        denied = [e for e in entries
                  if e[b"username"] == app_user.encode() and e[b"object"] not in IGNORED_DENIALS]
        if denied:
            fail(f"{len(denied)} denial(s) of {app_user}'s commands")

    elif action == "plaintext":
        passwords_file, directory = args
        passwords = [p.encode() for p in json.load(open(passwords_file))]
        if not passwords:
            fail("no password to look for")
        seen, on_disk, entries = [], [], 0
        cursor = b"0"
        while True:
            cursor, keys = redis.call("SCAN", cursor, "COUNT", 1000)
            for key in keys:
                kind = redis.call("TYPE", key)
                if not key.startswith(HISTORY_PREFIX):
                    fail(f"a key outside the history: {key!r}")
                if kind == b"list":
                    values = redis.call("LRANGE", key, 0, -1)
                    entries += sum(v.startswith(b"g1:") for v in values)
                elif kind == b"set":
                    values = redis.call("SMEMBERS", key)
                elif kind == b"string":
                    values = [redis.call("GET", key)]
                elif kind == b"hash":
                    values = redis.call("HGETALL", key)
                elif kind == b"zset":
                    values = redis.call("ZRANGE", key, 0, -1)
                else:
                    fail(f"{key!r} is a {kind!r}")
                seen += [key, *values]
            if cursor == b"0":
                break
        for parent, _, names in os.walk(directory):
            for name in names:
                on_disk.append(open(os.path.join(parent, name), "rb").read())
        print(f"{len(seen)} keys and values, {len(on_disk)} files on disk, "
              f"{entries} encrypted entries; {len(passwords)} passwords looked for",
              file=sys.stderr)
        if not entries:
            fail("no encrypted (g1:) history entry: nothing was stored")
        if not any(b"g1:" in blob for blob in on_disk):
            fail(f"the files under {directory} (append-only) hold no history entry")
        for password in passwords:
            if any(password in blob for blob in seen + on_disk):
                fail("a password is in Redis in plaintext")

    elif action == "confined":
        allowed = redis.send("LRANGE", HISTORY_PREFIX + b"operator", 0, 0)
        if isinstance(allowed, RedisError):
            fail(f"LRANGE on the history refused: {allowed}")
        for command in (["KEYS", "*"], ["GET", "other"], ["LRANGE", "other", 0, 0],
                        ["DEL", HISTORY_PREFIX + b"operator"], ["FLUSHALL"],
                        ["CONFIG", "GET", "*"], ["ACL", "LIST"], ["SUBSCRIBE", "x"]):
            reply = redis.send(*command)
            if not (isinstance(reply, RedisError) and str(reply).startswith("NOPERM")):
                fail(f"{command[0]} answered {reply!r}, not NOPERM")

    else:
        fail(f"unknown action {action}")


if __name__ == "__main__":
    main()
