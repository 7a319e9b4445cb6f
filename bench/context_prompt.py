"""Whisper base on recordings streamed as the service cuts them, with and without the context
prompt (a stream's earlier finals as the previous text of its next utterance).

    .venv/bin/python -m bench.context_prompt [--chars 200] [--hotwords] [--guard clear:-1.0 ...]
        [--json PATH]

Each recording goes through the service's own segmentation (`UtteranceSegmenter` with the
default `audio` settings, 0.1 s frames) and its finals are transcribed one after another by the
service's `SpeechEngine` with the default `transcriber` settings, once with
`audio.context_prompt_chars` 0 and once with `--chars`; the context is what the engine itself
heard before, as in the service. Reports WER (CER for Korean), the jargon spelled right and the
finals' texts. `--hotwords` also gives every
utterance the recording's jargon list as hotwords (a meeting whose glossary knows them).
The context grows as in the service (`context_prompt.next_context`: only finals scored at
least Whisper's `log_prob_threshold`). `--guard` adds runs with other rules: `all` (every final
the gates keep, the service's rule before 2026-11-30), or `MODE:LOGPROB`, where a final whose
avg_logprob is below LOGPROB or whose compression ratio is above the gates' threshold (Whisper's
own signs of an unsure decode) `clear`s the context or is `omit`ted from it.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from faster_whisper import decode_audio

from bench.audio_metrics import FRAME_S, JARGON, SAMPLE_RATE, jargon_found, load_script
from bench.common.paths import SHARED_AUDIO, results_path
from bench.common.table import Column, format_table
from bench.korean_recording import KOREAN_SCRIPT, KOREAN_WAV, load_korean_script
from glossify.audio.context_prompt import context_tail, next_context
from glossify.audio.stream import segmenter_config
from glossify.audio.utterances import Utterance, UtteranceSegmenter
from glossify.audio.vad import load_vad_model
from glossify.config.settings import AudioConfig, TranscriberConfig
from glossify.transcription.engine import SpeechEngine
from glossify.transcription.gates import DEFAULT_GATES
from glossify.transcription.types import SpeechRequest, SpeechResult
from glossify.transcription.wer import cer, wer
from glossify.weights.whisper import resolve_whisper_dir

JFK_TEXT = (
    "And so my fellow Americans, ask not what your country can do for you, "
    "ask what you can do for your country."
)
# The jargon of the Korean recording, as its script spells it (Hangul or embedded English).
KOREAN_JARGON = (
    "CPK",
    "LoRA",
    "파인튜닝",
    "쿠버네티스",
    "파드",
    "EBITDA",
    "공정 능력 지수",
    "데이터 파이프라인",
    "스키마 마이그레이션",
    "스프린트",
    "기능 플래그",
    "SLA",
    "GDPR",
    "임상 시험",
)


def korean_jargon_found(text: str) -> list[str]:
    """The terms of `KOREAN_JARGON` that `text` spells right, ignoring case and spacing."""
    folded = "".join(text.casefold().split())
    return [term for term in KOREAN_JARGON if "".join(term.casefold().split()) in folded]


@dataclass(frozen=True)
class Recording:
    name: str
    path: Path
    reference: str
    language: str
    jargon: tuple[str, ...]
    jargon_found: Callable[[str], list[str]]
    error_rate: Callable[[str, str], float]  # (reference, hypothesis) -> WER or CER
    metric: str


def recordings() -> list[Recording]:
    meeting = " ".join(load_script())
    korean = " ".join(load_korean_script(KOREAN_SCRIPT))
    return [
        Recording("jfk", SHARED_AUDIO / "jfk.flac", JFK_TEXT, "en", (), lambda _: [], wer, "WER"),
        *(
            Recording(
                f"dev-meeting-{voice}",
                SHARED_AUDIO / f"dev-meeting-{voice}.wav",
                meeting,
                "en",
                JARGON,
                jargon_found,
                wer,
                "WER",
            )
            for voice in ("hibari", "espeak")
        ),
        Recording(
            "korean-mbrola",
            KOREAN_WAV,
            korean,
            "ko",
            KOREAN_JARGON,
            korean_jargon_found,
            cer,
            "CER",
        ),
    ]


def service_engine() -> SpeechEngine:
    """Whisper as the Transcriber deployment loads it with the default settings."""
    config = TranscriberConfig()
    return SpeechEngine(
        resolve_whisper_dir(config.model),
        device=config.device,
        compute_type=config.compute_type,
        cpu_threads=config.cpu_threads,
        beam_size=config.beam_size,
        encoder_margin_s=config.encoder_margin_s,
    )


def stream_finals(audio: np.ndarray, config: AudioConfig) -> list[Utterance]:
    """The final utterances the service would cut from this audio, sent in 0.1 s frames."""
    segmenter = UtteranceSegmenter(segmenter_config(config), vad=load_vad_model())
    step = int(FRAME_S * SAMPLE_RATE)
    cut: list[Utterance] = []
    for offset in range(0, audio.size, step):
        cut += segmenter.push(audio[offset : offset + step])
    cut += segmenter.flush()
    return [utterance for utterance in cut if utterance.final]


@dataclass(frozen=True)
class Guard:
    """A candidate rule for which finals become context (measured here, not in the service)."""

    # "clear": an unsure final empties the context; "omit": it is left out of it; "all": every
    # final the gates keep becomes context, however unsure.
    mode: str
    min_logprob: float = float("-inf")

    @classmethod
    def parse(cls, text: str) -> Guard:
        if text == "all":
            return cls("all")
        mode, _, logprob = text.partition(":")
        if mode not in ("clear", "omit") or not logprob:
            raise argparse.ArgumentTypeError(f"expected all, clear:LOGPROB or omit:LOGPROB: {text}")
        return cls(mode, float(logprob))

    @property
    def name(self) -> str:
        return self.mode if self.mode == "all" else f"{self.mode}:{self.min_logprob}"

    def next_context(self, context: str, result: SpeechResult, max_chars: int) -> str:
        unsure = self.mode != "all" and (
            result.avg_logprob < self.min_logprob
            or result.compression_ratio > DEFAULT_GATES.compression_ratio_threshold
        )
        if unsure:
            return "" if self.mode == "clear" else context
        return context_tail(context, result.text, max_chars) if result.text else context


def transcribe_stream(
    engine: SpeechEngine,
    finals: Sequence[Utterance],
    language: str,
    context_chars: int,
    hotwords: tuple[str, ...] = (),
    guard: Guard | None = None,
) -> list[SpeechResult]:
    """Each final's result, transcribed in order with the context the stream had by then."""
    context = ""
    results: list[SpeechResult] = []
    for utterance in finals:
        request = SpeechRequest(utterance.audio, language, hotwords, context=context)
        result = engine.transcribe_batch([request])[0]
        if guard is None:
            context = next_context(context, result, context_chars)
        else:
            context = guard.next_context(context, result, context_chars)
        results.append(result)
    return results


def measure(
    engine: SpeechEngine,
    recording: Recording,
    context_chars: int,
    use_hotwords: bool,
    guard: Guard | None = None,
) -> dict[str, Any]:
    audio = decode_audio(str(recording.path), sampling_rate=SAMPLE_RATE)
    finals = stream_finals(audio, AudioConfig())
    hotwords = recording.jargon if use_hotwords else ()
    started = time.perf_counter()
    results = transcribe_stream(engine, finals, recording.language, context_chars, hotwords, guard)
    heard = " ".join(result.text for result in results if result.text)
    return {
        "recording": recording.name,
        "language": recording.language,
        "context_prompt_chars": context_chars,
        "guard": guard.name if guard else None,
        "hotwords": list(hotwords),
        "utterances": len(finals),
        "metric": recording.metric,
        "error_rate": round(recording.error_rate(recording.reference, heard), 4),
        "jargon_right": recording.jargon_found(heard),
        "jargon_total": len(recording.jargon),
        "decode_s": round(time.perf_counter() - started, 2),
        "finals": [result.text for result in results if result.text],
        # Every final, gated out or not: (avg_logprob, compression ratio, why rejected).
        "confidence": [
            [round(r.avg_logprob, 3), round(r.compression_ratio, 2), r.rejected] for r in results
        ],
    }


COLUMNS: list[Column[dict[str, Any]]] = [
    Column("recording", 20, lambda r: r["recording"], align="<"),
    Column("context", 7, lambda r: str(r["context_prompt_chars"])),
    Column("guard", 10, lambda r: r["guard"] or "-"),
    Column("finals", 6, lambda r: str(r["utterances"])),
    Column("error", 12, lambda r: f"{r['metric']} {r['error_rate']:.3f}"),
    Column("jargon", 6, lambda r: f"{len(r['jargon_right'])}/{r['jargon_total']}"),
    Column("decode s", 8, lambda r: f"{r['decode_s']:.1f}"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chars", type=int, default=200, help="context prompt characters")
    parser.add_argument("--hotwords", action="store_true", help="the jargon list as hotwords")
    parser.add_argument("--only", nargs="*", help="recording names (default: all)")
    parser.add_argument(
        "--guard",
        nargs="*",
        type=Guard.parse,
        default=[],
        help="all, clear:LOGPROB or omit:LOGPROB",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    engine = service_engine()
    runs: list[tuple[int, Guard | None]] = [(0, None), (args.chars, None)]
    runs += [(args.chars, guard) for guard in args.guard]
    rows = [
        measure(engine, recording, chars, args.hotwords, guard)
        for recording in recordings()
        if not args.only or recording.name in args.only
        for chars, guard in runs
    ]
    print(format_table(COLUMNS, rows))
    name = (
        "context_prompt" + ("-hotwords" if args.hotwords else "") + ("-guard" if args.guard else "")
    )
    out = args.json or results_path(name)
    out.write_text(json.dumps({"rows": rows}, ensure_ascii=False, indent=1) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
