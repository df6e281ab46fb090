"""Triage's read side: the SQL read model the officer API, console, KPI report and trail view query.

`projector` follows the case table's changelog and `audit.events` into SQL (rows and consumer offsets in
one transaction); `queries` answers the views; `database` opens the engine and applies the migrations.
"""
