"""The English catalogue covers every interface string, and the compiled file is current."""

import re
from pathlib import Path

from django.conf import settings
from django.utils import translation

CATALOGUE = Path(settings.BASE_DIR) / "kejiyun" / "locale" / "en" / "LC_MESSAGES" / "django.po"


def entries() -> list[str]:
    return CATALOGUE.read_text(encoding="utf-8").split("\n\n")[1:]  # skip the header


def test_every_string_in_the_english_catalogue_is_translated_and_none_is_fuzzy() -> None:
    untranslated = [
        e for e in entries() if re.search(r'^msgstr ""$', e, re.M) and "msgid_plural" not in e
    ]
    fuzzy = [e for e in entries() if "#, fuzzy" in e]
    assert untranslated == []
    assert fuzzy == []


def test_the_compiled_catalogue_matches_the_source() -> None:
    pairs = []
    for entry in entries():
        msgid = re.search(r'^msgid "(.+)"$', entry, re.M)
        msgstr = re.search(r'^msgstr "(.+)"$', entry, re.M)
        if msgid and msgstr and "%" not in msgid.group(1) and "\\" not in msgid.group(1):
            pairs.append((msgid.group(1), msgstr.group(1)))
    assert len(pairs) > 300
    with translation.override("en"):
        wrong = [(m, s) for m, s in pairs if translation.gettext(m) != s]
    assert wrong == []
