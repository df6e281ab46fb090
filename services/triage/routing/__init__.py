"""Routing: the ruleset (YAML policy, loaded and checked at start-up), its conditions and overrides, and
the pure `decide` that turns a referral into a triage decision. No I/O beyond reading the ruleset file.
"""
