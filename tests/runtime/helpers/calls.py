"""A trigger that makes simple system calls a known number of times:

    python3 calls.py getppid=4 getuid=2 sleep=3

NAME=N calls os.NAME() N times; sleep=N sleeps 1 ms N times (one
clock_nanosleep each). Arguments have no spaces, because bpftrace 0.17
splits its -c command on spaces without honouring quotes.
"""

import os
import sys
import time

for argument in sys.argv[1:]:
    name, _, times = argument.partition("=")
    for _ in range(int(times)):
        if name == "sleep":
            time.sleep(0.001)
        else:
            getattr(os, name)()
