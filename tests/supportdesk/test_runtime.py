"""The serving process freezes what it loaded, so full collections skip it."""

import gc

import pytest
from django.core.exceptions import ImproperlyConfigured

from supportdesk.runtime import tune_gc


@pytest.fixture
def collector():
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


def test_what_was_loaded_is_frozen_and_thresholds_stay_pythons_own(collector, monkeypatch):
    monkeypatch.delenv("DESK_GC_THRESHOLD", raising=False)
    before = gc.get_threshold()
    gc.unfreeze()
    tune_gc()
    assert gc.get_freeze_count() > 10_000
    assert gc.get_threshold() == before


def test_thresholds_come_from_the_environment(collector, monkeypatch):
    monkeypatch.setenv("DESK_GC_THRESHOLD", "5000, 20, 30")
    tune_gc()
    assert gc.get_threshold() == (5000, 20, 30)


@pytest.mark.parametrize("bad", ["abc", "1,2,3,4", "700,-1", "7.5"])
def test_a_bad_threshold_is_refused_with_the_reason(collector, monkeypatch, bad):
    monkeypatch.setenv("DESK_GC_THRESHOLD", bad)
    with pytest.raises(ImproperlyConfigured, match="DESK_GC_THRESHOLD"):
        tune_gc()
