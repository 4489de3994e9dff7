"""The benchmark: a reference dataset built with COPY, and timed in-process requests."""
