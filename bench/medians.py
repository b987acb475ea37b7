#!/usr/bin/env python3
"""Medians of the numeric results of several runs: bench/medians.py results/fanout-shared-*.json

Prints a Markdown table with one row per numeric field of "measured" (nested fields joined with '.'), each
field's median taken separately, and the values of every run."""
import json
import statistics
import sys


def flatten(prefix, value, out):
    if isinstance(value, dict):
        for key, inner in value.items():
            flatten(f"{prefix}.{key}" if prefix else key, inner, out)
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        out[prefix] = value


runs = []
for path in sys.argv[1:]:
    fields = {}
    flatten("", json.load(open(path))["measured"], fields)
    runs.append(fields)
if not runs:
    sys.exit("usage: medians.py RESULT.json...")
names = [name for name in runs[0] if all(name in run for run in runs)]
print(f"| Measure (median of {len(runs)} runs) | Median | Runs |")
print("|---|---|---|")
for name in names:
    values = [run[name] for run in runs]
    print(f"| {name} | {statistics.median(values):g} | {', '.join(f'{v:g}' for v in values)} |")
