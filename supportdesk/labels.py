"""Choice labels looked up once per field and language.

Django's ``get_FOO_display()`` rebuilds a dict of the field's choices on every call, hashing
each lazy label, and so translating every label of the field to show one. An inbox page of 25
rows asks for three labels a row: about 450 translations for 75 words. ``ChoiceLabels`` keeps a
dict per (field, language) instead; the labels are the same translated strings.
"""

import functools

from django.db import models
from django.utils.hashable import make_hashable
from django.utils.translation import get_language


@functools.lru_cache(maxsize=1024)
def _labels(field: models.Field, language: str | None) -> dict:
    return {make_hashable(value): str(label) for value, label in field.flatchoices}


class ChoiceLabels:
    """A model mixin: ``get_FOO_display()`` from a per-language dict of the field's labels."""

    def _get_FIELD_display(self, field):  # Django's own name for it
        value = getattr(self, field.attname)
        try:
            key = make_hashable(value)
            labels = _labels(field, get_language())
        except TypeError:  # a value that cannot be a dict key: Django's own way
            return super()._get_FIELD_display(field)
        return labels.get(key, value)


@functools.lru_cache(maxsize=256)
def _choices_labels(choices: type[models.Choices], language: str | None) -> dict:
    return {value: str(label) for value, label in choices.choices}


def choice_label(choices: type[models.Choices], value) -> str:
    """The label of ``value`` among ``choices`` (a TextChoices class) in the active language;
    the value itself when it is not one of them."""
    return _choices_labels(choices, get_language()).get(value, value)
