"""Test support: the real embedded broker stack, topic readers and referral payloads."""
