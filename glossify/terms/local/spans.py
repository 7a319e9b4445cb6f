"""Every span of an English line that might be a term, and what proposed it (pure, spaCy only).

The rules of `detector` propose few spans and miss terms whose shape no rule describes (a
common word in its field sense, a compound the parser split). The learned ranker (`ranker`)
therefore judges a wider set: the rules' candidates, the reference glossary's and the field
gazetteer's matches, every run of nouns and modifiers that ends in a noun, every part of a
noun chunk, every content word, and every verb with its particle. What proposed a span is one
of the ranker's features.
"""

from __future__ import annotations

from spacy.tokens import Doc, Token

from glossify.terms.candidates import FilterRules

Span = tuple[int, int]  # character offsets [start, end) in the line
Sources = dict[Span, set[str]]

# A span's sources.
RULE = "rule"  # the rule detector's candidate
REFERENCE = "reference"  # a form in the packaged reference glossary
FIELD = "field"  # a phrase or product of the field gazetteer
CHUNK = "chunk"  # part of a noun chunk
NOUN_RUN = "noun_run"  # modifiers and nouns ending in a noun
WORD = "word"  # one content word
PHRASAL = "phrasal"  # a verb and its particle
SOURCES = (RULE, REFERENCE, FIELD, CHUNK, NOUN_RUN, WORD, PHRASAL)

# Longer spans never pass the term filter; judged, they would only block the spans they cross.
MAX_TOKENS = FilterRules().max_tokens
_RUN_POS = frozenset({"NOUN", "PROPN", "ADJ", "NUM", "X"})
_NOUN_POS = frozenset({"NOUN", "PROPN"})
_CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "X", "NUM"})
# Tokens a chunk's edges lose: determiners, pronouns, particles, punctuation, conjunctions.
_EDGE_POS = frozenset(
    {"DET", "PRON", "PART", "PUNCT", "CCONJ", "ADP", "SCONJ", "AUX", "INTJ", "SPACE"}
)
# Symbols that belong inside a term ("P&L", "A/B", "C++", "precision@5").
TERM_SYMBOLS = frozenset({"&", "/", "+", "@"})


def _is_edge(token: Token) -> bool:
    return token.is_punct or token.tag_ == "POS" or token.lower_ in {"'s", "’s"}


def _trimmed(tokens: list[Token]) -> list[Token]:
    """Without punctuation and a possessive at either end ("Gross margin's" -> "Gross margin")."""
    start, end = 0, len(tokens)
    while start < end and _is_edge(tokens[start]):
        start += 1
    while end > start and _is_edge(tokens[end - 1]):
        end -= 1
    return tokens[start:end]


class SpanSet:
    """The spans of one line, each with the sources that proposed it."""

    def __init__(self, doc: Doc) -> None:
        self.doc = doc
        self.sources: Sources = {}

    def add(self, start: int, end: int, source: str) -> Span | None:
        """Add a span as the tokens it touches, trimmed; returns its key (None if no span)."""
        span = self.doc.char_span(start, end, alignment_mode="expand")
        if span is None:
            return None
        tokens = _trimmed(list(span))
        if not tokens or len(tokens) > MAX_TOKENS:
            return None
        if any(t.is_punct and t.text not in TERM_SYMBOLS for t in tokens):
            return None  # "much, inter-annotator agreement": a clause break is inside no term
        key_start, key_end = tokens[0].idx, tokens[-1].idx + len(tokens[-1].text)
        if self.doc.text[key_start:key_end].count(".") == 1 and tokens[-1].text.endswith("."):
            key_end -= 1  # "P&L." at a sentence end: the tokenizer kept the full stop
        key = (key_start, key_end)
        self.sources.setdefault(key, set()).add(source)
        return key

    def add_tokens(self, tokens: list[Token], source: str) -> None:
        if tokens:
            self.add(tokens[0].idx, tokens[-1].idx + len(tokens[-1].text), source)

    def add_parsed(self) -> None:
        """The spans cut from the parse: noun chunks' parts, noun runs, words, phrasal verbs."""
        doc = self.doc
        for chunk in doc.noun_chunks:
            tokens = [t for t in chunk]
            while tokens and tokens[0].pos_ in _EDGE_POS:
                tokens = tokens[1:]
            while tokens and tokens[-1].pos_ in _EDGE_POS:
                tokens = tokens[:-1]
            for i in range(len(tokens)):
                for j in range(i + 1, min(len(tokens), i + MAX_TOKENS) + 1):
                    self.add_tokens(tokens[i:j], CHUNK)
        for token in doc:
            _noun_runs_from(doc, token.i, self)
            content = token.pos_ in _CONTENT_POS and not token.is_stop
            if content and any(c.isalnum() for c in token.text):
                self.add_tokens([token], WORD)
            following = doc[token.i + 1] if token.i + 1 < len(doc) else None
            if token.pos_ == "VERB" and following is not None and following.dep_ == "prt":
                self.add_tokens([token, following], PHRASAL)  # "roll over", "spin up"


def _noun_runs_from(doc: Doc, start: int, spans: SpanSet) -> None:
    """Modifiers and nouns from ``start`` that end in a noun, whatever the chunker made of
    them ("stamping die", "stratified k fold cross validation")."""
    for end in range(start, min(len(doc), start + MAX_TOKENS)):
        token = doc[end]
        modifier = token.pos_ in _RUN_POS or token.tag_ in {"VBG", "VBN"}
        if not modifier or not any(c.isalnum() for c in token.text):
            return
        if token.pos_ in _NOUN_POS and end > start:
            spans.add_tokens(list(doc[start : end + 1]), NOUN_RUN)
