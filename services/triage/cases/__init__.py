"""Cases: the per-referral state (a case and its queue items), the pure steps that apply a referral, a
decision, an officer action or an SLA check to it, and the audit trail those steps write. No I/O.
"""
