"""What every explanation backend asks: the prompt for one jargon term heard in a meeting.

Shared by the local llama.cpp model, OpenAI-compatible servers (chat messages) and Foundry
agents (one input text), so that all backends answer in the shape `explanation.finalize` parses.
"""

from __future__ import annotations

# The local model's format is also enforced by a grammar; the prompt gets the content right.
# "Do not spell out acronyms" is deliberate: Qwen2.5-1.5B invents expansions ("CPK: Control
# Point Key") when asked to expand only when sure; told not to, it named CPK right in a small trial.
SYSTEM_PROMPT = (
    "You explain jargon heard in a business or engineering meeting to a newcomer. "
    "Answer in exactly two lines. Line 1: `domain: ` followed by one English word naming the "
    "field (for example Finance, Software, Security, Manufacturing, Marketing, Legal). "
    "Line 2: one or two short, plain sentences (under 40 words): what the term is and what it "
    "is used for. Do not spell out acronyms. Do not copy the meeting sentence."
)
# One worked example: on Qwen2.5-1.5B it made answers shorter and more direct than more
# instructions did. It is a fixed prompt prefix, so llama.cpp's prompt cache makes it almost
# free after the first call per slot.
EXAMPLE_EXCHANGE = (
    {
        "role": "user",
        "content": 'Term: "8D"\nHeard in the meeting: "The supplier owes us an 8D report for the '
        'cracked housings."',
    },
    {
        "role": "assistant",
        "content": "domain: Quality\nA structured eight-step problem-solving report that finds the "
        "root cause of a defect and proves the fix works.",
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
    return _LANGUAGE_NAMES.get(language.split("-")[0].split("_")[0].lower(), language)


def clip_context(context: str, term: str, limit: int = MAX_CONTEXT_CHARS) -> str:
    """Keep the part of a long transcript line around the term, so the prompt fits a slot."""
    text = " ".join(context.split())
    if len(text) <= limit:
        return text
    at = max(text.lower().find(term.lower()), 0)
    start = max(0, min(at - limit // 2, len(text) - limit))
    return text[start : start + limit]


def build_messages(term: str, context: str, language: str | None) -> list[dict[str, str]]:
    user = f'Term: "{term}"\nHeard in the meeting: "{clip_context(context, term)}"'
    if language:
        # "Write in German" alone made Qwen-1.5B copy the German transcript line back.
        user += f"\nExplain the term itself in {language_name(language)}, in your own words."
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        *EXAMPLE_EXCHANGE,
        {"role": "user", "content": user},
    ]


# A Foundry agent brings its own instructions; the input repeats the format so that an agent
# set up for the original service (domain prefix or JSON, both parsed) or a generic one works.
AGENT_FORMAT = (
    "Answer in exactly two lines. Line 1: `domain: ` followed by one English word naming the "
    "field. Line 2: one or two short, plain sentences (under 40 words): what the term is and "
    "what it is used for."
)


def build_agent_input(term: str, context: str, language: str | None) -> str:
    user = build_messages(term, context, language)[-1]["content"]
    return f"{user}\n{AGENT_FORMAT}"
