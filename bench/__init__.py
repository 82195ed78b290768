"""geokb's performance suite: synthetic KBs, scenarios against same-run baselines, reports.

Run it with ``python -m bench --quick`` (10k claims, for CI) or ``python -m bench --full``
(10k, 100k and 1M claims, by hand). See ``docs/benchmarks.md``.
"""
