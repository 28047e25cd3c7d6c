#!/usr/bin/python3
"""Drives `embvsattn ... -i` through a pseudo-terminal, as a person at the prompt would: a query, a query edited
with backspace, the first query again from the history (up arrow, when built with libedit), then Ctrl-D.

Usage: pty_prompt.py EMBVSATTN ARGS...   (the arguments of a neighbors -i -k 1 run on a vectors file with king)
EMBVSATTN_LIBEDIT=1: the binary is linked with libedit (then the history is checked too).
Prints one PASS/FAIL line per check; exits non-zero on any failure.
"""
import os
import pty
import select
import sys
import termios
import time

failed = 0


def report(name, ok, why=""):
    global failed
    print(("PASS" if ok else "FAIL") + " prompt " + name + ("" if ok else ": " + why))
    failed += not ok


def read_until(fd, needle, buf, timeout=10.0):
    """Reads from fd until needle appears after the last needle found (read_until.mark); returns (ok, everything)."""
    end = time.time() + timeout
    while needle not in buf[read_until.mark:]:
        left = end - time.time()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return False, buf
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            return False, buf
        if not chunk:
            return False, buf
        buf += chunk
    read_until.mark = buf.index(needle, read_until.mark) + len(needle)
    return True, buf


read_until.mark = 0


def wait_exit(pid, fd, timeout=10.0, kill=True):
    """Drains fd until the child exits (at most timeout seconds); returns its wait status or None (then the child
    is killed, unless kill is False)."""
    end = time.time() + timeout
    while time.time() < end:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return status
        if select.select([fd], [], [], 0.05)[0]:
            try:
                os.read(fd, 4096)
            except OSError:
                pass
    if kill:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return None


def ctrl_d(pid, fd):
    """Presses Ctrl-D at the prompt and returns the child's wait status (None after 10 s). A line editor draws the
    prompt, then puts the terminal in raw mode: a Ctrl-D that arrived between the two was read by the terminal's
    cooked mode, which turns it into a plain character on the switch (no person types that fast). So it waits for
    the raw mode (ICANON off) before pressing, when the binary has a line editor (EMBVSATTN_LIBEDIT=1)."""
    end = time.time() + 5.0
    while os.environ.get("EMBVSATTN_LIBEDIT") == "1" and termios.tcgetattr(fd)[3] & termios.ICANON:
        if time.time() > end:
            break
        time.sleep(0.01)
    os.write(fd, b"\x04")
    return wait_exit(pid, fd)


pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
buf = b""
ok, buf = read_until(fd, b"neighbors> ", buf)
report("shows-the-prompt", ok, repr(buf[-200:]))
os.write(fd, b"king\r")
ok, buf = read_until(fd, b"queen", buf)
report("answers-a-line", ok, repr(buf[-200:]))
ok, buf = read_until(fd, b"neighbors> ", buf)
os.write(fd, b"kinx\x7fg\r")  # a typo erased with backspace
ok, buf = read_until(fd, b"queen", buf)
report("backspace-edits-the-line", ok, repr(buf[-200:]))
ok, buf = read_until(fd, b"neighbors> ", buf)
if os.environ.get("EMBVSATTN_LIBEDIT") == "1":
    os.write(fd, b"\x1b[A\r")  # up arrow: the last query again
    ok, buf = read_until(fd, b"queen", buf, 5.0)
    report("history-up-arrow", ok, repr(buf[-200:]))
    ok, buf = read_until(fd, b"neighbors> ", buf)
else:
    print("SKIP prompt history-up-arrow: built without libedit (scripts/setup.sh installs libedit-dev)")
status = ctrl_d(pid, fd)
report("ctrl-d-exits-0", status is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0,
       "status %r" % (status,))

# Answers redirected to a file: the prompt stays on the terminal, the file holds the answers alone.
import tempfile
with tempfile.NamedTemporaryFile() as answers:
    pid, fd = pty.fork()
    if pid == 0:
        os.dup2(os.open(answers.name, os.O_WRONLY), 1)
        os.execv(sys.argv[1], sys.argv[1:])
    buf, read_until.mark = b"", 0
    ok, buf = read_until(fd, b"neighbors> ", buf)
    os.write(fd, b"king\r")
    ok, buf = read_until(fd, b"neighbors> ", buf)
    ctrl_d(pid, fd)
    got = open(answers.name, "rb").read()
    report("stdout-redirected-answers-only", b"queen" in got and b"neighbors>" not in got and b"Ctrl-D" not in got,
           repr(got[:200]))
sys.exit(1 if failed else 0)
