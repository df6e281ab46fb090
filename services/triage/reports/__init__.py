"""The partnership KPI report's pure core: the figures computed from referrals, cases and trails, and their
CSV and HTML renderings. No I/O and no clock reads.
"""
