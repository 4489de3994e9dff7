"""Demo data for ``manage.py seed_demo``: coherent customers, orders, conversations and consent.

``build`` generates and writes everything, ``staff`` holds the demo users, teams and macros and
the reset; the other modules each generate one part of the picture.
"""
