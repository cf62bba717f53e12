"""The language a message is written in, chosen among the languages the deployment supports.

lingua is imported and its detector built on first use, not at import: importing it is cheap (milliseconds),
but the first detection loads its n-gram models (about 150 MB and 1-2 s for a handful of languages; see
docs/email.md for the figures), which a Lambda handler that never sees an email should not pay. Detectors are
cached per language set, so a warm process pays once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lingua import LanguageDetector

MIN_LETTERS = 12  # below this, any guess is noise ("ok", "thx!", "+1")
MIN_CONFIDENCE = 0.5
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)
_URLS = re.compile(r"\b(?:https?://|www\.)\S+|\S+@\S+", re.IGNORECASE)


def normalise_languages(languages: Iterable[str]) -> tuple[str, ...]:
    """ISO 639-1 codes, lower-cased, de-duplicated and sorted; region subtags (pt-BR) reduced to the language."""
    return tuple(sorted({code.strip().lower().split("-", 1)[0].split("_", 1)[0] for code in languages if code}))


@lru_cache(maxsize=8)
def _detector(languages: tuple[str, ...], low_accuracy: bool) -> LanguageDetector:
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = []
    for code in languages:
        try:
            codes.append(IsoCode639_1.from_str(code))
        except ValueError as exc:
            raise ValueError(f"language {code!r} is not an ISO 639-1 code lingua knows") from exc
    builder = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).with_minimum_relative_distance(0.1)
    if low_accuracy:
        builder = builder.with_low_accuracy_mode()
    return builder.build()


def detect_language(
    text: str, languages: Iterable[str], *, default: str | None = None, low_accuracy: bool = False
) -> str | None:
    """The ISO 639-1 code of the language `text` is written in, among `languages`; `default` when unsure.

    With one configured language there is nothing to detect. URLs and addresses are left out of the sample,
    and only the first 2,000 characters count (the new part of a reply is the part worth detecting).
    """
    allowed = normalise_languages(languages)
    if len(allowed) == 1:
        return allowed[0]
    if not allowed:
        return default
    sample = _URLS.sub(" ", text[:4000])[:2000]
    if len(_LETTERS.findall(sample)) < MIN_LETTERS:
        return default
    detector = _detector(allowed, low_accuracy)
    confidences = detector.compute_language_confidence_values(sample)
    if not confidences or confidences[0].value < MIN_CONFIDENCE:
        return default
    return confidences[0].language.iso_code_639_1.name.lower()
