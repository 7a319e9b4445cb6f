"""What every explanation backend asks: the prompt for one jargon term heard in a meeting.

Shared by the local llama.cpp model, OpenAI-compatible servers (chat messages) and Foundry
agents (one input text), so that all backends answer in the shape `explanation.finalize` parses.
"""

from __future__ import annotations

from glossify.text import base_language

# The local model's format is also enforced by a grammar; the prompt gets the content right.
# The fixed part (this, the worked example) comes first and never changes, so each llama.cpp slot
# keeps it cached; every token of the per-term message costs latency on CPU, so that stays short.
ABSTAIN_ANSWER = "no confident explanation"
SYSTEM_PROMPT = (
    "You explain jargon heard in a business or engineering meeting to a newcomer. "
    "Many terms have several senses: the meeting lines show which one the speaker means, so "
    "explain that sense only. If the term is an acronym, start with its standard expansion in "
    "that field, then say what it is. "
    "Answer in exactly two lines. Line 1: `domain: ` followed by one word naming the field "
    "(for example Finance, Software, Cloud, Data, Manufacturing, Legal, Medical, Marketing, HR). "
    "Line 2: one or two short, plain sentences (under 40 words): what the term means and what "
    "it is used for. Do not copy the meeting sentence. "
    f"If you do not know what the term means in this sense, answer only: {ABSTAIN_ANSWER}"
)


def _instruction(name: str) -> str:
    # "Write in German" alone made Qwen-1.5B copy the German transcript line back.
    text = f"Explain the term itself, in the sense the speaker means, in {name}, in your own words."
    return text if name == "English" else f"{text} Name the domain in {name} too."


# Worked examples: on Qwen2.5-1.5B one made answers shorter and more direct than more
# instructions did. The English one shows an earlier line and an everyday word in its field
# sense; the Korean one an expansion, and a Korean answer with a Korean domain (with English
# examples only, Korean meetings got English answers). No term of the evaluation sets is used.
EXAMPLE_EXCHANGE = (
    {
        "role": "user",
        "content": 'Term: "runway"\nEarlier in the meeting: "The board asked how long the cash '
        'lasts if sales stay flat."\nHeard in the meeting: "At this burn rate we have about '
        'fourteen months of runway."\n' + _instruction("English"),
    },
    {
        "role": "assistant",
        "content": "domain: Finance\nThe number of months a company can keep operating on the "
        "cash it has before it runs out, at its current rate of spending.",
    },
    {
        "role": "user",
        "content": 'Term: "WBS"\nHeard in the meeting: "일정 잡기 전에 WBS부터 정리해서 공유해 '
        '주세요."\n' + _instruction("Korean"),
    },
    {
        "role": "assistant",
        "content": "domain: 프로젝트\nWBS(작업 분해 구조): 프로젝트의 전체 작업을 작은 단위로 "
        "나눠 계층으로 정리한 표로, 일정과 담당자를 정하는 기준이 됩니다.",
    },
)
MAX_CONTEXT_CHARS = 400
# Speech recognisers report ISO codes; the model follows a language name more reliably.
_LANGUAGE_NAMES = {
    "en": "English",
    "de": "German",
    "fr": "French",
    "es": "Spanish",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "ja": "Japanese",
    "ko": "Korean",
    "zh": "Chinese",
}


def language_name(language: str) -> str:
    """'de-DE' -> 'German'; unknown codes or names pass through unchanged."""
    return _LANGUAGE_NAMES.get(base_language(language), language)


def clip_context(context: str, term: str, limit: int = MAX_CONTEXT_CHARS) -> str:
    """Keep the part of a long transcript line around the term, so the prompt fits a slot."""
    text = " ".join(context.split())
    if len(text) <= limit:
        return text
    at = max(text.lower().find(term.lower()), 0)
    start = max(0, min(at - limit // 2, len(text) - limit))
    return text[start : start + limit]


MAX_EARLIER_CHARS = 240
MAX_EARLIER_LINES = 2


def split_context(context: str, term: str) -> tuple[list[str], str]:
    """The earlier lines and the line the term was heard in, from a context of one or more
    lines (oldest first): the heard line is the last one that has the term, else the last."""
    lines = [" ".join(line.split()) for line in context.splitlines()]
    lines = [line for line in lines if line]
    if not lines:
        return [], ""
    folded = term.lower()
    at = next((i for i in range(len(lines) - 1, -1, -1) if folded in lines[i].lower()), None)
    at = len(lines) - 1 if at is None else at
    return lines[:at], lines[at]


def _earlier(lines: list[str]) -> str:
    """The most recent earlier lines that fit, oldest first, cut at the front when too long."""
    text = " ".join(lines[-MAX_EARLIER_LINES:])
    if len(text) <= MAX_EARLIER_CHARS:
        return text
    cut = text[-MAX_EARLIER_CHARS:]
    return cut[cut.find(" ") + 1 :] if " " in cut else cut


def build_messages(term: str, context: str, language: str | None) -> list[dict[str, str]]:
    earlier, heard = split_context(context, term)
    user = f'Term: "{term}"'
    if earlier:
        user += f'\nEarlier in the meeting: "{_earlier(earlier)}"'
    user += f'\nHeard in the meeting: "{clip_context(heard, term)}"'
    if language:
        user += f"\n{_instruction(language_name(language))}"
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        *EXAMPLE_EXCHANGE,
        {"role": "user", "content": user},
    ]


# A Foundry agent brings its own instructions; the input repeats the format so that an agent
# set up for the original service (domain prefix or JSON, both parsed) or a generic one works.
AGENT_FORMAT = (
    "Answer in exactly two lines. Line 1: `domain: ` followed by one word naming the field. "
    "Line 2: one or two short, plain sentences (under 40 words): what the term means in the "
    "sense the meeting lines show, and what it is used for; an acronym starts with its standard "
    "expansion. If you do not know what the term means in this sense, answer only: "
    f"{ABSTAIN_ANSWER}"
)


def build_agent_input(term: str, context: str, language: str | None) -> str:
    user = build_messages(term, context, language)[-1]["content"]
    return f"{user}\n{AGENT_FORMAT}"
