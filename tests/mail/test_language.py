"""Language detection among the configured languages (lingua, loaded on first use)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from caseline.mail.language import detect_language, normalise_languages

SUPPORTED = ["en", "de", "es", "fr", "it", "nl", "pt-BR"]


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Hello, my order has not arrived yet. Could you please check where it is?", "en"),
        ("Hallo, meine Bestellung ist noch nicht angekommen. Können Sie bitte nachsehen?", "de"),
        ("Hola, mi pedido todavía no ha llegado. ¿Pueden comprobar dónde está?", "es"),
        ("Bonjour, ma commande n'est pas encore arrivée. Pouvez-vous vérifier ?", "fr"),
        ("Ciao, il mio ordine non è ancora arrivato. Potete controllare?", "it"),
        ("Hallo, mijn bestelling is nog niet aangekomen. Kunt u nagaan waar die is?", "nl"),
        ("Olá, o meu pedido ainda não chegou. Podem verificar onde está?", "pt"),
    ],
)
def test_detects_the_configured_languages(text: str, language: str) -> None:
    assert detect_language(text, SUPPORTED) == language


def test_too_little_text_gives_the_default() -> None:
    assert detect_language("ok thx", SUPPORTED) is None
    assert detect_language("ok thx", SUPPORTED, default="en") == "en"
    assert detect_language("https://example.org/a/very/long/link ann@example.org", SUPPORTED, default="en") == "en"


def test_one_configured_language_needs_no_detection() -> None:
    assert detect_language("Hallo, meine Bestellung ist noch nicht angekommen.", ["en"]) == "en"
    assert detect_language("anything", [], default="de") == "de"


def test_only_configured_languages_are_answers() -> None:
    # Italian text with only English and German configured: one of those, or the default, never "it".
    assert detect_language("Il mio ordine non è ancora arrivato, potete controllare?", ["en", "de"]) in (
        "en",
        "de",
        None,
    )


def test_low_accuracy_mode() -> None:
    text = "Hallo, meine Bestellung ist noch nicht angekommen. Können Sie bitte nachsehen?"
    assert detect_language(text, SUPPORTED, low_accuracy=True) == "de"


def test_unknown_language_codes_are_rejected() -> None:
    with pytest.raises(ValueError, match="not an ISO 639-1 code"):
        detect_language("some text long enough to detect", ["en", "xx"])


def test_language_lists_are_normalised() -> None:
    assert normalise_languages(["pt-BR", "EN", "en_GB", "de", ""]) == ("de", "en", "pt")


def test_importing_the_mail_package_does_not_load_lingua() -> None:
    code = "import sys, caseline.mail.language, caseline.mail.classify; print('lingua' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
