"""Consent and privacy: purposes and their wording, the consent ledger, the preference centre,
exports, erasure, retention and the audit log (docs/privacy.md).

Kept free of imports so that ``customers.models`` can use ``customers.privacy.ledger``.
"""
