"""Turning a model's raw answer into a short glossary explanation (pure functions, no model).

Models answer in many shapes even when asked for one, so parsing is lenient: the caller gets
either a clean `Explanation` or None, never a half-parsed string.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from glossify.text import base_language, sentence_spans, split_sentences

DEFAULT_DOMAIN = "General"
MAX_DOMAIN_CHARS = 24
DEFAULT_MAX_CHARS = 280
ELLIPSIS = "…"

# Labels that models put in front of the body; they carry no meaning for the reader.
_BODY_LABEL = re.compile(
    r"^\s*(?:explanation|body|description|definition|meaning|answer)\s*[:\-–—]\s*",
    re.IGNORECASE,
)
_DOMAIN_LINE = re.compile(
    r"^\s*(?:domain|field|category)\s*[:\-–—]\s*(?P<domain>.+?)\s*$", re.IGNORECASE
)
_FENCE = re.compile(r"^```[a-zA-Z]*\s*\n?(?P<inner>.*?)\n?```\s*$", re.DOTALL)
# A domain in a one-liner is a short name: up to three words, no sentence punctuation.
_DOMAIN_NAME = r"[^\W\d_][\w&/+-]{0,23}(?: [\w&/+-]{1,24}){0,2}"
_BRACKET_ONE_LINER = re.compile(r"^\s*\[(?P<domain>[^\]\n]{1,32})\]\s*(?P<body>.*)$", re.DOTALL)
_DASH_ONE_LINER = re.compile(rf"^\s*(?P<domain>{_DOMAIN_NAME})\s+[-–—]\s+(?P<body>.+)$", re.DOTALL)
_COLON_ONE_LINER = re.compile(rf"^\s*(?P<domain>{_DOMAIN_NAME})\s*:\s+(?P<body>.+)$", re.DOTALL)
# Single underscores are left alone: they belong to identifiers like max_tokens.
_MARKDOWN_EMPHASIS = re.compile(r"\*{1,3}|`{1,3}|__")
_BODY_KEYS = ("body", "explanation", "definition", "description")

# A trailing sentence that ties the term back to the meeting ("In this context, ...") repeats
# what the reader just heard; the original product dropped it, so do we.
_CONTEXT_SENTENCE = re.compile(
    r"^(?:in\s+(?:this|the|your|our)\s+(?:context|meeting|discussion|conversation|case|call|"
    r"transcript|sentence|line)\b|in\s+the\s+context\s+of\b|within\s+this\s+context\b|"
    r"as\s+used\s+(?:here|in)\b|here\s*,|here\s+(?:it|the|they|this|that|we|you)\b)",
    re.IGNORECASE,
)
_FINISHED = re.compile(r"[.!?…][\"'”’)\]]*$")
# What a model says when it does not know the term in this sense (the prompt asks for exactly
# this; the local grammar allows it as the whole answer). Matched on letters only, so that
# "No confident explanation." or a stray domain line in front of it still count.
ABSTAIN_KEY = "noconfidentexplanation"


@dataclass(frozen=True)
class Explanation:
    """A domain label and a short body; `abstained` when the model said it had no confident
    explanation (then domain and body are empty and nothing should be shown as an answer)."""

    domain: str
    body: str
    abstained: bool = False
    # How sure the model was, where the backend tells: the mean log-probability of the body's
    # tokens (0 is certain). Not part of equality: two equal cards are equal however sure.
    confidence: float | None = field(default=None, compare=False)


ABSTAINED = Explanation(domain="", body="", abstained=True)

# What a meeting shows for a term its explainer abstained on, in the meeting's language.
ABSTENTION_TEXTS = {"en": "No confident explanation.", "ko": "확실한 설명이 없습니다."}


def abstention_text(language: str | None) -> str:
    """The card text of an abstention: in the meeting's language where known, else English."""
    return ABSTENTION_TEXTS.get(base_language(language or "en"), ABSTENTION_TEXTS["en"])


def normalize_domain(raw: str) -> str:
    """One capitalised word: the first run of letters, at most 24 characters.

    Taking the first word is crude ("Software engineering" -> "Software") but predictable, and
    the prompt asks for one word anyway, so this only matters for off-format answers.
    Mixed-case words and short acronyms keep their spelling (DevOps, IT); shouted words do not.
    """
    match = re.search(r"[^\W\d_]+", raw)
    if not match:
        return DEFAULT_DOMAIN
    word = match.group(0)[:MAX_DOMAIN_CHARS]
    if word.islower() or (word.isupper() and len(word) > 4):
        return word[0].upper() + word[1:].lower()
    return word[0].upper() + word[1:]


def clean_body(raw: str) -> str:
    """One line, no markdown emphasis, no leading label, no wrapping quotes."""
    text = _MARKDOWN_EMPHASIS.sub("", raw)
    text = " ".join(text.split())
    text = _BODY_LABEL.sub("", text)
    return text.strip().strip("\"'“”").strip()


def _strip_fence(text: str) -> str:
    match = _FENCE.match(text.strip())
    return match.group("inner").strip() if match else text.strip()


def _parse_json(text: str) -> Explanation | None:
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        data = json.loads(text[start : end + 1])
    except json.JSONDecodeError:
        return None
    if not isinstance(data, dict):
        return None
    fields = {str(key).lower(): value for key, value in data.items()}
    body = next((fields[k] for k in _BODY_KEYS if isinstance(fields.get(k), str)), "")
    domain = fields.get("domain")
    return _build(domain if isinstance(domain, str) else "", body)


def _parse_domain_line(text: str) -> Explanation | None:
    first, _, rest = text.partition("\n")
    match = _DOMAIN_LINE.match(_MARKDOWN_EMPHASIS.sub("", first))
    if not match:
        return None
    if rest.strip():
        return _build(match.group("domain"), rest)
    # "domain: Finance - EBITDA is ..." put everything on the label line.
    return _parse_bracket_line(match.group("domain")) or _parse_one_liner(match.group("domain"))


def _parse_bracket_line(text: str) -> Explanation | None:
    match = _BRACKET_ONE_LINER.match(text)
    return _build(match.group("domain"), match.group("body")) if match else None


def _parse_one_liner(text: str) -> Explanation | None:
    """`Domain - body` or `Domain: body`, only when the head is short enough to be a name."""
    plain = _MARKDOWN_EMPHASIS.sub("", text)
    if _BODY_LABEL.match(plain):
        return None  # "Explanation: ..." is a body label, not a domain
    for pattern in (_DASH_ONE_LINER, _COLON_ONE_LINER):
        match = pattern.match(plain)
        if match:
            return _build(match.group("domain"), match.group("body"))
    return None


def _build(domain: str, body: str) -> Explanation | None:
    cleaned = clean_body(body)
    if not is_usable_body(cleaned):
        return None
    return Explanation(domain=normalize_domain(domain), body=cleaned)


def is_usable_body(body: str) -> bool:
    """At least one real word: guards against empty answers and punctuation soup."""
    return bool(re.search(r"[^\W\d_]{2,}", body))


def is_abstention(text: str) -> bool:
    """Whether the answer is the model saying it has no confident explanation: the phrase
    alone, or as the body after a domain line."""
    stripped = _strip_fence(text)
    first, _, rest = stripped.partition("\n")
    if rest.strip() and _DOMAIN_LINE.match(_MARKDOWN_EMPHASIS.sub("", first)):
        stripped = rest
    return _squash(stripped) == ABSTAIN_KEY


def parse_explanation(text: str) -> Explanation | None:
    """Parse the formats models actually produce; None when nothing usable is there; an
    abstained `Explanation` when the model said it has no confident explanation."""
    if not text or not text.strip():
        return None
    if is_abstention(text):
        return ABSTAINED
    stripped = _strip_fence(text)
    if stripped.startswith("{") or '"domain"' in stripped.lower():
        # JSON without a usable body is a failed answer, not prose to show.
        return _parse_json(stripped)
    if _DOMAIN_LINE.match(_MARKDOWN_EMPHASIS.sub("", stripped.split("\n", 1)[0])):
        return _parse_domain_line(stripped)
    if _BRACKET_ONE_LINER.match(stripped):
        return _parse_bracket_line(stripped)  # a "[Domain]" tag alone explains nothing
    return _parse_one_liner(stripped) or _build(DEFAULT_DOMAIN, stripped)


def cut_context_sentence(body: str) -> str:
    """Drop trailing "In this context, ..." sentences, but never the only sentence."""
    sentences = split_sentences(body)
    while len(sentences) > 1 and _CONTEXT_SENTENCE.match(sentences[-1]):
        sentences.pop()
    return " ".join(sentences)


def drop_unfinished_sentence(body: str) -> str:
    """For output cut off by a token or length limit: keep only complete sentences, if any."""
    spans = sentence_spans(body)
    if len(spans) > 1 and not _FINISHED.search(body[spans[-1][0] :].rstrip()):
        return body[: spans[-2][1]].strip()
    return body.strip()


def cap_at_sentence(body: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Keep whole sentences that fit; if even the first does not, cut at a word and add "…"."""
    body = body.strip()
    if len(body) <= max_chars:
        return body
    fitting_end = 0
    for _, end in sentence_spans(body):
        if end > max_chars:
            break
        fitting_end = end
    if fitting_end:
        return body[:fitting_end].rstrip()
    return _cut_at_word(body, max_chars)


def _cut_at_word(text: str, max_chars: int) -> str:
    window = text[: max_chars - len(ELLIPSIS)]
    space = window.rfind(" ")
    if space > 0:
        window = window[:space]
    return window.rstrip(" ,;:-–—") + ELLIPSIS


def finalize(
    text: str, max_chars: int = DEFAULT_MAX_CHARS, truncated: bool = False
) -> Explanation | None:
    """Parse, drop the trailing context sentence, cap the length; None when unusable.

    `truncated` says the generation hit a limit, so its last sentence may be unfinished.
    """
    parsed = parse_explanation(text)
    if parsed is None or parsed.abstained:
        return parsed
    body = drop_unfinished_sentence(parsed.body) if truncated else parsed.body
    body = cap_at_sentence(cut_context_sentence(body), max_chars)
    if not is_usable_body(body):
        return None
    return Explanation(domain=parsed.domain, body=body)


class ExplanationError(ValueError):
    """The model answered, but nothing usable could be made of the answer."""


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


def echoes_context(body: str, context: str) -> bool:
    """Small models sometimes answer by copying the transcript line, which explains nothing."""
    squashed = _squash(body)
    return bool(squashed) and squashed in _squash(context)


def explanation_from_answer(
    term: str, answer: str, context: str, max_chars: int, *, truncated: bool = False
) -> Explanation:
    """`finalize` for any backend's raw answer; raises ExplanationError when it is unusable.
    An abstention comes back as `ABSTAINED` (`abstained` True, empty domain and body)."""
    explanation = finalize(answer, max_chars, truncated=truncated)
    if explanation is not None and explanation.abstained:
        return explanation
    if explanation is None or echoes_context(explanation.body, context):
        raise ExplanationError(f"unusable explanation for {term!r}: {answer[:200]!r}")
    return explanation


_WORD = re.compile(r"\w[\w.'-]*\w|\w")


def meeting_words(context: str, term: str) -> set[str]:
    """Words of a meeting's line that belong to that meeting rather than to the language:
    names (capitalised after a sentence's first word) and figures (with a digit), other than
    the term's own words."""
    term_words = {word.lower() for word in _WORD.findall(term)}
    found: set[str] = set()
    for start, end in sentence_spans(context):
        for index, word in enumerate(_WORD.findall(context[start:end])):
            if word.lower() in term_words:
                continue
            if any(char.isdigit() for char in word) or (index > 0 and word[0].isupper()):
                found.add(word)
    return found


def repeats_meeting_words(body: str, term: str, context: str) -> bool:
    """Whether an explanation repeats names or figures of the line it was asked about: such an
    answer is about that meeting and must not be handed to another one."""
    return bool(meeting_words(context, term) & set(_WORD.findall(body)))
