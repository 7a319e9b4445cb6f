from __future__ import annotations

import pytest

from glossify.transcription.gates import (
    DEFAULT_GATES,
    PHANTOM_PHRASES,
    GateConfig,
    compression_ratio,
    cut_repetition,
    gate,
    is_hotword_echo,
    is_phantom,
    normalise,
)

SPEECH = (-0.2, 0.05)  # (avg_logprob, no_speech_prob) of a confidently decoded sentence


def test_normalise_ignores_case_punctuation_and_spacing() -> None:
    assert normalise("  Thanks   for WATCHING!! ") == "thanks for watching"
    assert normalise("ご視聴ありがとうございました。") == "ご視聴ありがとうございました"
    assert normalise("...") == ""


@pytest.mark.parametrize(
    "phrase",
    [
        "thank you",
        "thanks for watching",
        "thank you for watching",
        "please subscribe",
        "you",
        "bye",
        "so",
        "okay",
        "ご視聴ありがとうございました",
        "시청해 주셔서 감사합니다",
    ],
)
def test_the_known_phrases_are_stored_normalised(phrase: str) -> None:
    assert phrase in PHANTOM_PHRASES


@pytest.mark.parametrize(
    "text",
    [
        "Thank you.",
        " thank you ",
        "Thanks for watching!",
        "THANK YOU FOR WATCHING.",
        "Please subscribe.",
        "Subtitles by the Amara.org community",
        "you",
        "Bye.",
        "So...",
        "Okay.",
        "Okay. Thank you.",
        "ご視聴ありがとうございました。",
        "시청해 주셔서 감사합니다.",
        "Untertitel der Amara.org-Community",
        "Sous-titres réalisés par la communauté d'Amara.org",
    ],
)
def test_phantoms_are_recognised(text: str) -> None:
    assert is_phantom(text)


@pytest.mark.parametrize(
    "text",
    [
        "Thank you for the update on the EBITDA bridge.",
        "So the CPK dropped below one point three three.",
        "You should check the Kubernetes autoscaler.",
        "Okay, let's ship it.",
        "",
        "...",
    ],
)
def test_real_sentences_are_not_phantoms(text: str) -> None:
    assert not is_phantom(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the the the the cat sat", "the cat sat"),
        ("Thank you. Thank you. Thank you.", "Thank you."),
        ("we need to, we need to, we need to ship it", "we need to ship it"),
        ("a b a b a b c", "a b c"),
        (
            "one two three four five six seven eight " * 3 + "end",
            "one two three four five six seven eight end",
        ),
        ("start " + "x y z " * 10 + "stop", "start x y z stop"),
        ("a a a b a a a b a a a b", "a b"),  # cutting the inner loops exposes an outer one
        ("ありがとうございました。" * 4, "ありがとうございました。"),
        ("So the W-W-W-W-W-W-W-W-W-W-W rollout", "So the W rollout"),
        ("Bung .bq.bq.bq.bq.bq", "Bung .bq"),
        ("Ha-ha-ha, very funny", "Ha, very funny"),
    ],
)
def test_repetition_loops_are_cut_to_one_copy(text: str, expected: str) -> None:
    assert cut_repetition(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Our Kubernetes cluster autoscaler keeps evicting pods.",
        "I said no, no. Fine.",  # two copies are speech, three are a loop
        "very  oddly   spaced text stays as it is",
        "1000000 users",
        "Upgrade from 1.1.1 to 10.10.10.10 and keep the A/B test and the p-p plot.",
        "The A-A-A rating, on W-W-W dot example dot com.",
        "",
        # A nine-word phrase is longer than any unit we look for.
        "a b c d e f g h i a b c d e f g h i a b c d e f g h i",
    ],
)
def test_text_without_a_loop_is_unchanged(text: str) -> None:
    assert cut_repetition(text) == text


def test_compression_ratio_matches_whisper() -> None:
    import zlib

    text = "Our Kubernetes cluster autoscaler keeps evicting pods."
    raw = text.encode()
    assert compression_ratio(text) == len(raw) / len(zlib.compress(raw))
    assert compression_ratio("") == 0.0
    assert compression_ratio("ha " * 100) > 2.4


def test_gate_defaults_are_whispers() -> None:
    assert GateConfig() == DEFAULT_GATES
    assert (
        DEFAULT_GATES.no_speech_threshold,
        DEFAULT_GATES.log_prob_threshold,
        DEFAULT_GATES.compression_ratio_threshold,
    ) == (0.6, -1.0, 2.4)


def test_confident_speech_passes() -> None:
    text = " Let's check the EBITDA impact with finance. "
    assert gate(text, *SPEECH, DEFAULT_GATES) == (text.strip(), None)


def test_silence_needs_both_signals() -> None:
    # Whisper's own rule: a high no-speech probability alone is not enough.
    assert gate("Let's ship it.", -0.3, 0.9, DEFAULT_GATES)[1] is None
    assert gate("Let's ship it.", -1.1, 0.9, DEFAULT_GATES)[1] == "no_speech"
    assert gate("Let's ship it.", -1.1, 0.3, DEFAULT_GATES)[1] is None


def test_a_very_low_logprob_is_rejected_even_without_no_speech() -> None:
    config = GateConfig(logprob_floor=-1.5)
    assert gate("KK", -3.0, 0.2, config)[1] == "low_logprob"
    assert gate("KK", -1.4, 0.2, config)[1] is None


def test_empty_and_phantom_texts_are_rejected() -> None:
    assert gate("", *SPEECH, DEFAULT_GATES) == ("", "empty")
    assert gate(" ... ", *SPEECH, DEFAULT_GATES)[1] == "empty"
    assert gate(" Thank you.", *SPEECH, DEFAULT_GATES) == ("Thank you.", "phantom")
    # A looped phantom is cut first, then recognised.
    assert gate("Thank you. " * 5, *SPEECH, DEFAULT_GATES) == ("Thank you.", "phantom")


def test_a_cut_loop_keeps_the_sentence() -> None:
    text, reason = gate("the CPK the CPK the CPK dropped again", *SPEECH, DEFAULT_GATES)
    assert (text, reason) == ("the CPK dropped again", None)


def test_a_loop_the_cut_cannot_shrink_is_repetitive() -> None:
    looped = "sain ap " + "ez" * 60
    text, reason = gate(looped, *SPEECH, DEFAULT_GATES)
    assert reason == "repetitive"
    assert text == looped


def test_copied_hotwords_are_rejected() -> None:
    hotwords = ("OKRs", "Kubernetes", "CPK")
    assert is_hotword_echo("OKRs,", hotwords)
    assert is_hotword_echo("Kubernetes, CPK.", hotwords)
    assert not is_hotword_echo("The OKRs are due.", hotwords)
    assert not is_hotword_echo("OKRs", ())
    assert gate(" OKRs,", *SPEECH, DEFAULT_GATES, hotwords) == ("OKRs,", "hotword_echo")
    assert gate(" OKRs,", *SPEECH, DEFAULT_GATES)[1] is None
