"""A trigger for per-CPU aggregations: 6 getppid() calls spread over (up to)
two CPUs, the process pinned to each CPU in turn, so that count(), sum()...
must add up the slots of several CPUs to print the right total.

    python3 percpu_calls.py
"""

import os

cpus = sorted(os.sched_getaffinity(0))[:2]
for cpu in cpus:
    os.sched_setaffinity(0, {cpu})
    for _ in range(6 // len(cpus)):
        os.getppid()
