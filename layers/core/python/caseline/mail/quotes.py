"""Split a reply's text into what the sender wrote now and what can be folded away.

Folded away: the quoted history (a trailing block of `>` lines, or everything from an attribution line such as
"On ... wrote:" / "Am ... schrieb ...:" / "El ... escribió:", or from Outlook's "-----Original Message-----"
or "From: / Sent:" header block), and the signature (after a "-- " line, or a mobile "Sent from my iPhone").
Replies written between quoted lines (inline answers) are kept whole: folding would hide the answers.
"""

from __future__ import annotations

import re

from .models import MailModel

_ATTRIBUTION = [
    re.compile(p, re.IGNORECASE)
    for p in (
        r"^\s*on\b.{0,200}\bwrote\s*:\s*$",  # Gmail, Apple Mail, Thunderbird
        r"^\s*am\b.{0,200}\bschrieb\b.{0,200}:\s*$",
        r"^\s*el\b.{0,200}\bescribi[óo]\s*:\s*$",
        r"^\s*le\b.{0,200}\ba [ée]crit\s*:\s*$",
        r"^\s*il\b.{0,200}\bha scritto\s*:\s*$",
        r"^\s*op\b.{0,200}\bschreef\b.{0,200}:\s*$",
        r"^\s*em\b.{0,200}\bescreveu\s*:\s*$",
        r"^.{0,200}<[^>\s]+@[^>\s]+>\s+(wrote|schrieb|escribió|a écrit)\s*:\s*$",
    )
]
# Gmail wraps long attribution lines; the wrapped form ends "wrote:" on a following line.
_ATTRIBUTION_START = re.compile(r"^\s*(on|am|el|le|il|op|em)\s+\S", re.IGNORECASE)
_ATTRIBUTION_END = re.compile(r"(wrote|schrieb|escribi[óo]|a [ée]crit|ha scritto|schreef|escreveu)\s*:\s*$", re.I)
_SEPARATOR = re.compile(
    r"^\s*(-{2,}\s*(original message|ursprüngliche nachricht|mensaje original|message d'origine|"
    r"messaggio originale|oorspronkelijk bericht)\s*-{2,}|_{10,})\s*$",
    re.IGNORECASE,
)
_HEADER_FROM = re.compile(r"^\s*\*?(from|von|de|da|van)\*?\s*:\s*\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|date|gesendet|datum|enviado|fecha|envoyé|inviato|verzonden|to|an|para|à|a|aan|"
    r"subject|betreff|asunto|objet|oggetto|onderwerp|cc)\*?\s*:",
    re.IGNORECASE,
)
_FORWARD = re.compile(r"^\s*-{3,}\s*(forwarded message|weitergeleitete nachricht|mensaje reenviado)", re.I)
_MOBILE = re.compile(
    r"^\s*(sent from my (iphone|ipad|android|phone|mobile( device)?|smartphone|tablet|blackberry|galaxy[\w ]*)|"
    r"sent from (mail|outlook) for \w+|get outlook for \w+|"
    r"von meinem (iphone|ipad|smartphone|android)[\w ]* gesendet|gesendet von (meinem )?\w+|"
    r"enviado desde mi \w+|envoyé de mon \w+|inviato da(l mio)? \w+|verzonden (vanaf|met) (mijn )?\w+|"
    r"sent from yahoo mail\b.*)\W*$",
    re.IGNORECASE,
)
_MOBILE_WINDOW = 4  # a mobile signature is among the last few non-blank lines of the new text


class SplitReply(MailModel):
    new: str
    quoted: str = ""
    signature: str = ""

    @property
    def folded(self) -> str:
        return "\n\n".join(part for part in (self.signature, self.quoted) if part)


def split_reply(text: str) -> SplitReply:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    cut = _history_start(lines)
    if not any(line.strip() for line in lines[:cut]):
        cut = len(lines)  # nothing but history (a bare forward, a lone quote): nothing to fold it under
    new_lines, quoted_lines = lines[:cut], lines[cut:]
    signature_at = _signature_start(new_lines)
    if signature_at is not None and not any(line.strip() for line in new_lines[:signature_at]):
        signature_at = None
    signature_lines = new_lines[signature_at:] if signature_at is not None else []
    if signature_at is not None:
        new_lines = new_lines[:signature_at]
    return SplitReply(
        new="\n".join(new_lines).strip("\n").rstrip(),
        quoted="\n".join(quoted_lines).strip("\n").rstrip(),
        signature="\n".join(signature_lines).strip("\n").rstrip(),
    )


def _is_quoted(line: str) -> bool:
    return line.lstrip().startswith(">")


def _history_start(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if _FORWARD.match(line):
            return len(lines)  # a forward's content is what the sender sends now
        if any(p.match(line) for p in _ATTRIBUTION) and len(line) < 400:
            return index
        wrapped = _wrapped_attribution(lines, index)
        if wrapped is not None:
            return wrapped
        if _SEPARATOR.match(line) and _has_header_block(lines, index + 1):
            return index
        if _HEADER_FROM.match(line) and _has_header_block(lines, index, need_from=False):
            return index
        if _is_quoted(line) and _only_quotes_follow(lines, index):
            return index
    return len(lines)


def _wrapped_attribution(lines: list[str], index: int) -> int | None:
    if not _ATTRIBUTION_START.match(lines[index]) or _ATTRIBUTION_END.search(lines[index]):
        return None
    for offset in (1, 2):
        if index + offset < len(lines) and _ATTRIBUTION_END.search(lines[index + offset]):
            joined = " ".join(line.strip() for line in lines[index : index + offset + 1])
            if any(p.match(joined) for p in _ATTRIBUTION) and _only_quotes_follow(lines, index + offset + 1):
                return index
    return None


def _has_header_block(lines: list[str], start: int, need_from: bool = True) -> bool:
    """An Outlook-style header block: From: then at least two of Sent/To/Subject/... within a few lines."""
    window = [line for line in lines[start : start + 8] if line.strip()]
    if not window:
        return False
    if need_from and not _HEADER_FROM.match(window[0]):
        return bool(sum(1 for line in window[:5] if _HEADER_NEXT.match(line)) >= 2)
    return sum(1 for line in window[1:6] if _HEADER_NEXT.match(line)) >= 2


def _only_quotes_follow(lines: list[str], start: int) -> bool:
    """From `start` on, only quoted lines, blank lines and a trailing signature (no inline answers)."""
    for index in range(start, len(lines)):
        line = lines[index]
        if not line.strip() or _is_quoted(line):
            continue
        return _signature_start(lines[index:], from_top=True) == 0
    return True


def _signature_start(lines: list[str], from_top: bool = False) -> int | None:
    for index in range(len(lines) - 1, -1, -1):
        if lines[index] in ("-- ", "--") or lines[index].rstrip() == "-- ":
            return index
    non_blank = [i for i, line in enumerate(lines) if line.strip()]
    window = non_blank if from_top else non_blank[-_MOBILE_WINDOW:]
    for index in window:
        if _MOBILE.match(lines[index]):
            return index
    return None
