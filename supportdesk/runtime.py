"""Process tuning a serving process applies once the app is loaded.

Python's cyclic garbage collector walks every tracked object in its oldest generation on a
full collection. A loaded Django process holds about 150,000 of them (modules, URL patterns,
templates, model metadata) that live as long as the process; a full collection then takes
100 ms or more and lands on whichever request happens to trigger it. ``gc.freeze()`` moves what
exists after start-up into a permanent generation the collector skips, so a full collection
only walks what requests left behind (the practice Instagram described for its Django fleet).

``wsgi.py`` calls ``tune_gc()`` after building the application; the benchmark calls it before it
measures, so it measures what a served request costs. With gunicorn's ``--preload`` the frozen
objects are shared copy-on-write between workers as well.
"""

import gc
import os

from django.core.exceptions import ImproperlyConfigured


def tune_gc() -> None:
    """Collect once, then freeze what survives. ``DESK_GC_THRESHOLD="700,10,10"`` also sets the
    collector's thresholds (unset: Python's own)."""
    gc.collect()
    gc.freeze()
    threshold = os.environ.get("DESK_GC_THRESHOLD", "").strip()
    if threshold:
        try:
            values = [int(part) for part in threshold.split(",")]
            if not 1 <= len(values) <= 3 or any(value < 0 for value in values):
                raise ValueError
        except ValueError:
            raise ImproperlyConfigured(
                f"DESK_GC_THRESHOLD must be one to three whole numbers separated by commas, not {threshold!r}."
            ) from None
        gc.set_threshold(*values)
