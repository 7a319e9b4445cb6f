"""Whisper base on recordings streamed as the service cuts them, with and without the context
prompt (a stream's earlier finals as the previous text of its next utterance).

    .venv/bin/python -m bench.context_prompt [--chars 200] [--hotwords] [--json PATH]

Each recording goes through the service's own segmentation (`UtteranceSegmenter` with the
default `audio` settings, 0.1 s frames) and its finals are transcribed one after another by the
service's `SpeechEngine` with the default `transcriber` settings, once with
`audio.context_prompt_chars` 0 and once with `--chars`; the context is what the engine itself
heard before, as in the service. Reports WER (CER for Korean), the jargon spelled right and the
finals' texts. `--hotwords` also gives every
utterance the recording's jargon list as hotwords (a meeting whose glossary knows them).
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
from glossify.audio.context_prompt import context_tail
from glossify.audio.stream import segmenter_config
from glossify.audio.utterances import Utterance, UtteranceSegmenter
from glossify.audio.vad import load_vad_model
from glossify.config.settings import AudioConfig, TranscriberConfig
from glossify.transcription.engine import SpeechEngine
from glossify.transcription.types import SpeechRequest
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
            "korean-espeak",
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


def transcribe_stream(
    engine: SpeechEngine,
    finals: Sequence[Utterance],
    language: str,
    context_chars: int,
    hotwords: tuple[str, ...] = (),
) -> list[str]:
    """Each final's text, transcribed in order with the context the stream had by then."""
    context = ""
    texts: list[str] = []
    for utterance in finals:
        request = SpeechRequest(utterance.audio, language, hotwords, context=context)
        text = engine.transcribe_batch([request])[0].text
        if text:
            context = context_tail(context, text, context_chars)
            texts.append(text)
    return texts


def measure(
    engine: SpeechEngine, recording: Recording, context_chars: int, use_hotwords: bool
) -> dict[str, Any]:
    audio = decode_audio(str(recording.path), sampling_rate=SAMPLE_RATE)
    finals = stream_finals(audio, AudioConfig())
    hotwords = recording.jargon if use_hotwords else ()
    started = time.perf_counter()
    texts = transcribe_stream(engine, finals, recording.language, context_chars, hotwords)
    heard = " ".join(texts)
    return {
        "recording": recording.name,
        "language": recording.language,
        "context_prompt_chars": context_chars,
        "hotwords": list(hotwords),
        "utterances": len(finals),
        "metric": recording.metric,
        "error_rate": round(recording.error_rate(recording.reference, heard), 4),
        "jargon_right": recording.jargon_found(heard),
        "jargon_total": len(recording.jargon),
        "decode_s": round(time.perf_counter() - started, 2),
        "finals": texts,
    }


COLUMNS: list[Column[dict[str, Any]]] = [
    Column("recording", 20, lambda r: r["recording"], align="<"),
    Column("context", 7, lambda r: str(r["context_prompt_chars"])),
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
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    engine = service_engine()
    rows = [
        measure(engine, recording, chars, args.hotwords)
        for recording in recordings()
        if not args.only or recording.name in args.only
        for chars in (0, args.chars)
    ]
    print(format_table(COLUMNS, rows))
    out = args.json or results_path("context_prompt" + ("-hotwords" if args.hotwords else ""))
    out.write_text(json.dumps({"rows": rows}, ensure_ascii=False, indent=1) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
