"""`make bench` (`python -m bench`): the benchmark of the whole system on the embedded broker.

Kept outside `services/` and out of the installed package: it drives a stack of real workers but is no
part of them. Method and figures: docs/benchmarks.md; summary: docs/benchmarks.json.
"""
