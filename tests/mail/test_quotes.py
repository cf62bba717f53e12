"""split_reply: what the sender wrote now, and the history and signature folded away."""

from __future__ import annotations

import pytest
from caseline.mail.html import html_to_text
from caseline.mail.quotes import SplitReply, split_reply

from .conftest import parsed


def test_gmail_reply_with_a_wrapped_attribution_line() -> None:
    split = split_reply(parsed("reply_gmail.eml").text)
    assert split == SplitReply(
        new="Thanks, the new driver fixed it.\n\nAnn",
        quoted=(
            "On Mon, 2 Nov 2026 at 10:15, Caseline Support <support@help.example.com>\nwrote:\n\n"
            "> Hello Ann,\n>\n> please install driver 4.2.\n>"
        ),
    )


def test_gmail_html_reply_rendered_to_text_folds_the_blockquote() -> None:
    split = split_reply(html_to_text(parsed("reply_gmail.eml").html or ""))
    assert split == SplitReply(
        new="Thanks, the new driver fixed it.\n\nAnn",
        quoted=(
            "On Mon, 2 Nov 2026 at 10:15, Caseline Support <support@help.example.com> wrote:\n"
            "> Hello Ann,\n>\n> please install driver 4.2."
        ),
    )


def test_outlook_reply_with_a_header_block() -> None:
    split = split_reply(parsed("reply_outlook.eml").text)
    assert split.new == "It still stops – after three pages now.\n\nRegards,\nAnn Example\nHead of Operations"  # noqa: RUF001
    assert split.quoted.startswith("________________________________\nFrom: Caseline Support")
    assert split.quoted.endswith("please install driver 4.2.")
    assert split.signature == ""


def test_outlook_original_message_separator_in_german() -> None:
    text = (
        "Danke!\n\n-----Ursprüngliche Nachricht-----\nVon: Support <support@help.example.com>\n"
        "Gesendet: Montag, 2. November 2026 10:15\nAn: Ann\nBetreff: Drucker\n\nHallo Ann"
    )
    split = split_reply(text)
    assert split.new == "Danke!"
    assert split.quoted.startswith("-----Ursprüngliche Nachricht-----")


def test_apple_mail_reply_with_mobile_signature() -> None:
    split = split_reply(parsed("reply_apple_mail.eml").text)
    assert split == SplitReply(
        new="Works now, thank you!",
        quoted=(
            "> On 2 Nov 2026, at 10:15, Caseline Support <support@help.example.com> wrote:\n>\n"
            "> Hello Ann,\n> please install driver 4.2."
        ),
        signature="Sent from my iPhone",
    )


def test_thunderbird_german_reply() -> None:
    split = split_reply(parsed("reply_thunderbird.eml").text)
    assert split.new == ("Hallo,\n\nleider druckt er immer noch nur zwei Seiten. Ich habe den Treiber neu installiert.")
    assert split.quoted == (
        "Am 02.11.26 um 10:15 schrieb Caseline Support:\n> Hallo Ann,\n>\n> bitte installieren Sie Treiber 4.2."
        "\n\n-- \nAnn Beispiel\nMusterfirma GmbH"
    )


def test_spanish_reply() -> None:
    split = split_reply(parsed("reply_spanish.eml").text)
    assert split.new == "Hola, el pedido todavía no ha llegado a mi casa."
    assert split.signature == "Enviado desde mi iPhone"
    assert split.quoted.startswith("El lun, 2 nov 2026 a las 10:15, Soporte (<support@help.example.com>) escribió:")


def test_signature_delimiter() -> None:
    split = split_reply("Please call me back.\n\n-- \nAnn Example\n+49 30 1234567")
    assert split == SplitReply(new="Please call me back.", signature="-- \nAnn Example\n+49 30 1234567")
    assert split.folded == "-- \nAnn Example\n+49 30 1234567"


def test_inline_answers_are_not_folded() -> None:
    text = parsed("reply_inline_answers.eml").text
    assert split_reply(text) == SplitReply(new=text)


def test_a_forward_is_not_folded() -> None:
    text = "FYI\n\n---------- Forwarded message ---------\nFrom: Bob <bob@example.org>\nSubject: x\n\n> quoted"
    assert split_reply(text).new == text


@pytest.mark.parametrize(
    "text",
    [
        "On Monday we will be closed.\nPlease write on Tuesday.",
        "I wrote: the printer is broken",
        "From: the moment I turned it on it failed.",
        "Sent from my office",
        "Sent from my iPhone",  # the whole message is no signature
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert split_reply(text).new == text


def test_french_and_dutch_attributions() -> None:
    assert split_reply("Merci\n\nLe lun. 2 nov. 2026 à 10:15, Support a écrit :\n> x").new == "Merci"
    assert split_reply("Dank\n\nOp ma 2 nov. 2026 om 10:15 schreef Support <s@example.org>:\n> x").new == "Dank"


def test_a_message_of_nothing_but_history_is_not_folded() -> None:
    assert split_reply("> just a quote\n> and more").new == "> just a quote\n> and more"
    forward = "-----Original Message-----\nFrom: Bob <bob@example.org>\nSent: Monday\nTo: Ann\nSubject: x\n\nbody"
    assert split_reply(forward) == SplitReply(new=forward)


def test_crlf_and_empty_text() -> None:
    assert split_reply("Hi\r\n\r\nOn Mon, Ann wrote:\r\n> x\r\n") == SplitReply(
        new="Hi", quoted="On Mon, Ann wrote:\n> x"
    )
    assert split_reply("") == SplitReply(new="")


@pytest.mark.parametrize(
    "sign_off",
    [
        "Sent from my iPhone",
        "Sent from my Galaxy S24",
        "Von meinem iPhone gesendet",
        "Enviado desde mi iPhone",
        "Envoyé de mon iPad",
        "Get Outlook for iOS",
        "Sent from Mail for Windows",
    ],
)
def test_device_sign_offs_are_signatures(sign_off: str) -> None:
    assert split_reply(f"The invoice is attached.\n\n{sign_off}") == SplitReply(
        new="The invoice is attached.", signature=sign_off
    )


def test_a_sign_off_in_the_middle_of_a_long_message_is_text() -> None:
    text = "Sent from my iPhone\n" + "\n".join(f"line {i}" for i in range(6))
    assert split_reply(text).new == text
