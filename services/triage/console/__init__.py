"""The duty-officer console: server-rendered pages with signed sessions and CSRF on every form, its
templates and static files, and the KPI report page for managers.
"""
