"""Where the local detector's rules put their candidates: one per normalised term."""

from __future__ import annotations

from glossify.terms.candidates import Candidate, normalize_term


class Collector:
    """Keeps one candidate per normalised term, the most confident one, in text order.

    A term can also be vetoed (`veto`): a span a precision rule knows is not a term (a shift
    name, a project's code name). A veto wins over every rule, whatever its confidence.
    """

    def __init__(self) -> None:
        self._by_key: dict[str, Candidate] = {}
        self._vetoed: set[str] = set()

    def add(self, text: str, category: str, confidence: float, offset: int) -> None:
        text = text.strip()
        if text.endswith(".") and text.count(".") == 1:
            text = text[:-1]  # "P&L." at a sentence end: the tokenizer kept the full stop
        if not text:
            return
        key = normalize_term(text)
        old = self._by_key.get(key)
        if old is None or confidence > old.confidence:
            self._by_key[key] = Candidate(text, category, round(min(confidence, 1.0), 3), offset)

    def veto(self, text: str) -> None:
        self._vetoed.add(normalize_term(text))

    def discard(self, text: str) -> None:
        """Forget a candidate (a rule found a better span for it); it may be added again."""
        self._by_key.pop(normalize_term(text), None)

    def inside_longer(self, start: int, end: int) -> bool:
        """Is [start, end) strictly inside the span of a candidate already collected?"""
        return any(
            c.offset <= start and end <= c.offset + len(c.text) and len(c.text) > end - start
            for c in self._by_key.values()
        )

    def drop_straddling(self, spans: list[tuple[int, int]]) -> None:
        """Drop candidates that cut across a known term: half of it plus a word outside it
        ("liability cap" in "limitation of liability cap") is no term."""
        for key, candidate in list(self._by_key.items()):
            start, end = candidate.offset, candidate.offset + len(candidate.text)
            for known_start, known_end in spans:
                overlaps = start < known_end and known_start < end
                nested = known_start <= start and end <= known_end
                contains = start <= known_start and known_end <= end
                if overlaps and not nested and not contains:
                    del self._by_key[key]
                    break

    def __contains__(self, text: str) -> bool:
        return normalize_term(text) in self._by_key

    def result(self) -> list[Candidate]:
        kept = [c for key, c in self._by_key.items() if key not in self._vetoed]
        return sorted(kept, key=lambda c: (c.offset, -len(c.text)))
