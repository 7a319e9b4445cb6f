"""The English lexicon of the local term detector: word lists and word rarity.

Everyday words, generic nouns and situational adjectives are what a term is *not*; wordfreq's
Zipf frequency says how rare a word is in everyday English (rare words are candidate jargon).
"""

from __future__ import annotations

import re
from functools import lru_cache

from spacy.tokens import Token
from wordfreq import zipf_frequency

from glossify.text import base_language


def words_of(text: str) -> frozenset[str]:
    """A word list written as whitespace-separated text (easier to read and extend)."""
    return frozenset(text.split())


_words = words_of


# Abbreviations every listener knows (including place abbreviations, since unknown acronyms
# are freed from spaCy's GPE guesses).
COMMON_ABBREVIATIONS = _words(
    """
    OK TV AM PM ID FYI BTW ASAP LOL PS US USA UK EU UAE NYC LA SF DC NY
    """
)

# Nouns too generic to be a term or to head one: "the marketing team", "the rebalancing issue".
# (Time words stay out: "setup time", "fiscal year" are terms; alone they are never rare.)
GENERIC_NOUNS = _words(
    """
    issue issues problem problems thing things stuff team teams project projects people person
    folks guys guy way ways lot lots bit kind sort part parts side question questions idea ideas
    meeting meetings call calls work task tasks item items update updates quarter
    quarters percent customer customers everyone someone something anything office room place
    case cases example examples option options reason reasons situation
    """
)

# Heads after a capitalised word that make it a project's code name, never a term.
CODENAME_HEADS = _words("project projects program programme initiative workstream codename")

# Meetings by their kind: "the ML sync", "the pipeline review" name a meeting, not a concept.
MEETING_NOUNS = _words(
    """
    sync syncs standup standups stand-up huddle offsite off-site all-hands kickoff kick-off
    check-in catch-up one-on-one townhall town-hall meeting meetings call calls
    """
)

# Shift and crew names are schedules, not terms: "the night shift", "B shift".
SHIFT_NOUNS = _words("shift shifts crew crews rota")
SHIFT_MODIFIERS = _words(
    """
    day night morning evening afternoon weekend weekday graveyard swing late early first second
    third a b c d
    """
)

# Heads that carry a term without making a new one: "noisy neighbor effects", "RDS fleet",
# "DoD column", "iOS app", "cache invalidation path".
CARRIER_NOUNS = _words(
    """
    effect effects path paths language headline headlines fleet messages message app apps
    column columns version versions companies company numbers folks discussion discussions
    conversation conversations email emails slide slides deck doc docs document documents
    notes thread threads channel channels stuff piece pieces side sides approach
    announcement announcements footnote footnotes step steps run runs client clients data
    results result change changes decision decisions reviewer reviewers
    """
) | _words(
    # Written on 2026-11-30 by someone who had seen no evaluation data, from the rule alone:
    # documents, messages, requests, work items, events, people, figures and stages.
    """
    draft drafts memo memos writeup writeups write-up write-ups template templates checklist
    checklists spreadsheet spreadsheets workbook workbooks worksheet worksheets dashboard
    dashboards outline outlines mockup mockups wireframe wireframes screenshot screenshots
    attachment attachments pdf pdfs spec specs whitepaper whitepapers article articles blog
    blogs newsletter newsletters video videos recording recordings podcast podcasts clip
    clips logo logos visual visuals documentation faq faqs overview overviews wording
    phrasing one-pager one-pagers folder folders tab tabs website websites wiki wikis export
    exports agenda agendas presentation presentations questionnaire questionnaires ping
    pings invite invites invitation invitations reminder reminders reply replies follow-up
    follow-ups followup followups nudge nudges heads-up comment comments remarks mention
    mentions chat chats news ask asks approval approvals sign-off sign-offs signoff signoffs
    go-ahead buy-in suggestion suggestions complaint complaints objection objections
    pushback ticket tickets epic epics todo todos to-do to-dos deliverable deliverables bug
    bugs incident incidents outage outages glitch glitches hiccup hiccups fix fixes
    workaround workarounds tweak tweaks edit edits redline redlines revision revisions
    refactor refactors redesign redesigns cleanup cleanups clean-up upgrade upgrades setup
    setups config configs tooling infra experiment experiments effort efforts demo demos poc
    pocs pilot pilots launch launches rollout rollouts go-live cutover cutovers milestone
    milestones deadline deadlines timeline timelines eta roadmap roadmaps postmortem
    postmortems post-mortem post-mortems debrief debriefs recap recaps readout readouts
    deep-dive deep-dives wrap-up prep negotiation negotiations debate debates talk talks
    webinar webinars workshop workshops conference conferences visit visits rehearsal
    rehearsals vendor vendors supplier suppliers contractor contractors consultant
    consultants rep reps hire hires teammate teammates colleague colleagues coworker
    coworkers execs department departments org orgs organization organizations squad squads
    auditor auditors lawyer lawyers competitor competitors rival rivals counterpart
    counterparts stakeholder stakeholders approver approvers assignee assignees requester
    requesters community figure figures total totals stats breakdown breakdowns headcount
    findings measurements status progress win wins challenges detail details thoughts
    alternative alternatives
    """
)

# Heads that do make a new term after a term: "EBITDA margin", "churn rate", "RICE score".
TERM_HEADS = _words(
    """
    rate rates ratio ratios margin margins score scores index time cost costs value values
    test tests chart charts plan plans report reports analysis curve curves matrix state
    model models metric metrics window loss error errors yield conversion retention coverage
    interval limit budget gateway pipeline pipelines image images registry module modules
    policy policies agreement clause clauses schedule protocol study trial threshold
    """
)

# The last word of a company's name that says what kind of firm it is ("Harrow Motors",
# "Kessler Plastics", "Apex Holdings"): customers, suppliers and competitors are never jargon.
# Not words that also end product and method names: Group (Azure Resource Group, Kafka Consumer
# Group), Bank (Memory Bank), Capital, Manufacturing (Additive Manufacturing), Steel, Metals.
COMPANY_SUFFIXES = _words(
    """
    inc inc. corp corp. corporation co co. llc ltd ltd. plc gmbh ag holdings industries
    enterprises partners associates motors plastics foods pharmaceuticals pharma logistics
    textiles chemicals brands ventures airlines
    """
)

# Business dealings with another firm: a name that classifies one is that firm ("the Fairmont
# account", "the Halvorsen acquisition", "the Orion renewal"), a counterparty, not a product.
DEALING_NOUNS = _words(
    """
    account accounts acquisition acquisitions merger deal deals buyout takeover client clients
    customer customers renewal renewals partnership relationship
    """
)

# Units after a count that are not part of a term: "five percent CPU", "ten dollars".
UNIT_WORDS = _words("percent percentage pct dollars dollar euros euro bucks")

# Nouns for places people work at: a capitalised modifier of one is a place ("the Monterrey
# plant", "the Austin office"), not a product, whatever NER says.
SITE_NOUNS = _words(
    """
    plant plants office offices site sites factory factories facility facilities branch campus
    headquarters hq depot mill warehouse warehouses inventory store stores port hospital
    hospitals clinic clinics lab labs region center centre datacenter
    """
)

# Adjectives that describe the situation rather than classify the concept ("the new API
# gateway", "a full DMAIC project", "clear data drift"): stripped from the start of a chunk.
SITUATIONAL_ADJECTIVES = _words(
    """
    new old full clear right wrong next last first second third previous current same other
    another whole entire big small large huge tiny little good bad great main major minor
    important different certain specific particular overall simple easy hard difficult
    quick fast slow long short high low early late recent final initial usual typical nice cool
    awesome various several many few much own only such possible likely potential additional
    extra separate actual basic proper correct existing upcoming following related based
    obvious serious productive helpful useful interesting significant massive slight strong weak
    ready able sure happy glad okay fine exact similar key critical urgent idle busy stuck
    broken unused custom top bottom
    high-level top-level long-term short-term mid-term last-minute full-time part-time day-to-day
    up-to-date well-known face-to-face in-person one-on-one large-scale small-scale so-called
    """
) | _words(
    # Written on 2026-11-30 by someone who had seen no evaluation data: states, stages, sizes
    # and judgements, leaving out every adjective that starts an established term of a field
    # (preliminary injunction, outstanding shares, internal rate of return, senior debt).
    """
    updated revised latest newest newer older oldest former earlier later brand-new outdated
    out-of-date refreshed redesigned revamped rebranded renamed improved streamlined
    reworded rewritten proposed pending approved confirmed tentative rough rejected
    cancelled canceled postponed rescheduled paused finalized finalised submitted requested
    promised signed-off resolved unresolved ongoing in-progress overdue unfinished
    half-finished half-baked reviewed unreviewed aforementioned above-mentioned forthcoming
    imminent near-term longer-term shorter-term long-standing longstanding long-awaited
    long-overdue much-needed one-off occasional unusual bigger smaller larger biggest
    smallest sizable sizeable hefty modest enormous tremendous considerable negligible
    dramatic drastic steep lengthy wider broader thorough in-depth high-priority
    low-priority top-priority time-sensitive nice-to-have must-have non-negotiable
    high-profile low-key big-ticket high-stakes low-hanging ballpark back-of-the-envelope
    quick-and-dirty unofficial respective customer-facing client-facing user-facing
    company-wide org-wide team-wide cross-team favorite favourite dreaded infamous notorious
    famous controversial contentious expensive costly pricey cheaper inexpensive excellent
    terrible awful horrible amazing fantastic brilliant wonderful stellar incredible
    impressive decent mediocre crappy messy ugly clunky sloppy tricky painful annoying
    confusing weird strange silly crazy ridiculous clever elegant neat awkward tough
    challenging straightforward convoluted unclear vague promising worrying concerning
    alarming troubling disappointing encouraging reassuring unfortunate frustrating exciting
    boring tedious unnecessary surprising better worse nicer poor top-notch world-class
    best-in-class state-of-the-art cutting-edge old-school bare-bones flashy slick buggy
    sluggish laggy suboptimal valuable useless pointless irrelevant rushed ambitious
    realistic unrealistic
    """
)

# Verbs every office worker uses, rare as they are in wordfreq's everyday English: rarity
# alone would make them jargon verbs ("we need to reprioritize", "let's reschedule").
OFFICE_VERBS = _words(
    """
    prioritize prioritise deprioritize reprioritize streamline finalize finalise incentivize
    strategize iterate brainstorm recap reschedule unblock reassign offload reorganize
    reorganise socialize revamp escalate optimize optimise descope timebox overcommit
    greenlight operationalize procrastinate sync ping loop cc email circle action summarize
    summarise visualize customize personalize automate digitize standardize centralize
    decentralize prototype whiteboard formalize monetize reorg upload download reboot
    restart unsubscribe bookmark screenshot google text message forward reply retweet
    """
)

# Number words that can lead a name mid-sentence ("Six Sigma").
NUMBER_WORDS = _words("one two three four five six seven eight nine ten eleven twelve twenty")

# Verbs whose subject (said) or object (ask) is a person: an unknown capitalised word in that
# slot is a colleague's name, not a product, even when NER did not label it.
SPEAKER_VERBS = _words(
    """
    say tell ask mention think want agree suggest explain propose note reply confirm believe
    know feel mean promise decide argue claim
    """
)
# What a team does as the subject of a sentence ("Cardiology wants", "legal says"). Narrower
# than SPEAKER_VERBS: a concept can "mean", "need" or be "known" ("Idempotency means ...").
TEAM_VOICE_VERBS = _words(
    "say tell ask want agree propose confirm decide promise reply suggest argue claim insist"
    " approve reject"
)
ADDRESSEE_VERBS = _words("ask tell ping thank email call cc message remind invite")
GREETINGS = _words("thanks thank hi hey hello bye cheers sorry")


def noun_rarity(token: Token) -> float:
    """Zipf frequency of a noun by its most frequent form: "queries" is as common as "query"."""
    return max(zipf(token.text), zipf(token.lemma_)) if token.tag_ == "NNS" else zipf(token.text)


@lru_cache(maxsize=65536)
def zipf(word: str) -> float:
    """Zipf frequency of a word; for a hyphenated/slashed word, that of its rarest part."""
    parts = [p for p in re.split(r"[-/]", word.lower()) if p]
    if not parts:
        return 0.0
    return min(zipf_frequency(part, "en") for part in parts)


def is_english(language: str | None) -> bool:
    return language is None or base_language(language) == "en"


def is_korean(language: str | None) -> bool:
    return language is not None and base_language(language) in {"ko", "kor"}
