"""Rotating SECRET_KEY: with the old key in SECRET_KEY_FALLBACKS, links already sent (CSAT
surveys, preference centre) keep working; without it they stop. Production reads the
fallbacks from the environment."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.utils import timezone

from customers.privacy.preferences import preference_customer, preference_token
from tests.factories import CSATSurveyFactory, CustomerFactory
from tickets.csat import csat_survey_by_token

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
OLD = "old-k7#Q9v!pX2m@L4z$W8r^T1n&Y6b*H3c(J5d)F0g-S9e+A2q=U4w"
NEW = "new-Z8#r2v!mX5q@K1z$P4t^W7n&B3c*J6d(H9f)L2g-T5e+Q8u=Y1w"


def test_links_signed_with_the_old_key_work_while_it_is_a_fallback(settings):
    settings.SECRET_KEY = OLD
    survey = CSATSurveyFactory(sent_at=timezone.now())
    customer = CustomerFactory()
    survey_link, preference_link = survey.token, preference_token(customer=customer)

    settings.SECRET_KEY, settings.SECRET_KEY_FALLBACKS = NEW, [OLD]
    assert csat_survey_by_token(token=survey_link) == survey
    assert preference_customer(token=preference_link) == customer

    settings.SECRET_KEY_FALLBACKS = []
    assert csat_survey_by_token(token=survey_link) is None
    assert preference_customer(token=preference_link) is None


def test_production_reads_the_fallbacks_from_the_environment():
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG"}}
    env.update(
        DJANGO_SETTINGS_MODULE="supportdesk.settings.production",
        SECRET_KEY=NEW,
        SECRET_KEY_FALLBACKS=OLD,
        ALLOWED_HOSTS="desk.example.com",
    )
    code = "from django.conf import settings; print(settings.SECRET_KEY_FALLBACKS == [" + repr(OLD) + "])"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "True"
