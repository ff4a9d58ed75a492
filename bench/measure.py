#!/usr/bin/env python3
"""Runs a command several times; prints the median wall time and peak RSS.

usage: measure.py RUNS SETUP_CMD -- CMD...
SETUP_CMD runs before every run (e.g. removing the database); '' for none.
Output: one JSON line {"runs": [...], "median_s": ..., "max_rss_mb": ...}.
"""
import json
import os
import resource
import statistics
import subprocess
import sys
import time


def main():
    runs = int(sys.argv[1])
    setup = sys.argv[2]
    cmd = sys.argv[sys.argv.index('--') + 1:]
    times, rss = [], []
    for _ in range(runs):
        if setup:
            subprocess.run(setup, shell=True, check=True)
        t0 = time.monotonic()
        pid = os.fork()
        if pid == 0:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.dup2(devnull, 2)
            os.execvp(cmd[0], cmd)
        _, status, usage = os.wait4(pid, 0)
        times.append(time.monotonic() - t0)
        rss.append(usage.ru_maxrss / 1024)
        if os.waitstatus_to_exitcode(status) != 0:
            sys.exit(f"command failed: {' '.join(cmd)}")
    print(json.dumps({"runs": [round(t, 3) for t in times],
                      "median_s": round(statistics.median(times), 3),
                      "max_rss_mb": round(max(rss), 1)}))


if __name__ == '__main__':
    main()
