"""Suggested next actions: explainable, consent-aware, learning from agents' feedback.

- ``registry``: what a suggestion is, the ``Rule`` base class and the registries other apps
  plug into (rules, context loaders, the action renderer);
- ``context``: the ``CustomerContext`` every rule looks at, built once in bounded queries;
- ``rules``: the customers app's own rules (``tickets/suggestion_rules.py`` adds the others);
- ``engine``: runs the rules, drops what consent forbids and what agents hid, ranks;
- ``selectors``: what views and the API call (``suggestions_for_customer``, ``suggestion_panel``);
- ``feedback``: accept, dismiss, snooze; acceptance per rule and variant;
- ``variants``: A/B assignment by a stable hash;
- ``jobs`` and ``tasks``: churn risk, "bought together" and the VIP threshold, on a schedule.

See docs/suggestions.md.
"""
