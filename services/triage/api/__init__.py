"""The officer HTTP API (`/v1/...`): queues, referrals, officer actions and the KPI report, with the officer
authentication, scope and action submission the console shares.
"""
