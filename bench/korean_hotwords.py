"""What a Korean meeting's hotwords do to Whisper: the Korean recording, streamed as the service
cuts it, with several hotword lists a meeting could be given.

    .venv/bin/python -m bench.korean_hotwords [--json PATH]

The committed recording (`bench/data/audio/korean-meeting-mbrola.wav`) goes through the
service's segmentation and the packaged Whisper base with language "ko", the default context
prompt, and each list as every utterance's hotwords: none; the recording's own jargon (what a
meeting that said them would have); 40 acronyms (written in capitals) and 40 Hangul terms drawn
(seed 7) from the packaged reference glossary, as an organisation glossary could hold them; and
the own jargon with 26 of those acronyms. Prints the character error rate of each and the start
of what was heard (`glossify/meetings/hotwords.py` is the rule these figures chose).
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from faster_whisper import decode_audio

from bench.common.paths import results_path
from bench.context_prompt import (
    KOREAN_JARGON,
    SAMPLE_RATE,
    recordings,
    service_engine,
    stream_finals,
    transcribe_stream,
)
from glossify.config.settings import AudioConfig
from glossify.explain.reference import packaged_reference, packaged_texts, parse_entries

SEED = 7
DRAWN = 40


def hotword_lists() -> dict[str, tuple[str, ...]]:
    """The lists measured, by name."""
    acronyms = sorted(
        {
            form
            for (_, language), text in packaged_texts().items()
            if language == "en"
            for forms, _ in parse_entries(text)
            for form in forms
            if form.isalpha() and form.isupper() and 2 <= len(form) <= 5
        }
    )
    hangul = sorted(
        form
        for form in packaged_reference().forms("ko")
        if all("\uac00" <= char <= "\ud7a3" or char == " " for char in form)
    )
    draw = random.Random(SEED)
    latin = tuple(draw.sample(acronyms, DRAWN))
    korean = tuple(draw.sample(hangul, DRAWN))
    return {
        "none": (),
        "own jargon": KOREAN_JARGON,
        f"{DRAWN} Latin acronyms": latin,
        f"{DRAWN} Hangul terms": korean,
        "own jargon + 26 acronyms": KOREAN_JARGON + latin[:26],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    engine = service_engine()
    korean = next(r for r in recordings() if r.language == "ko")
    finals = stream_finals(decode_audio(str(korean.path), sampling_rate=SAMPLE_RATE), AudioConfig())
    rows = []
    for name, hotwords in hotword_lists().items():
        results = transcribe_stream(
            engine, finals, "ko", AudioConfig().context_prompt_chars, hotwords
        )
        heard = " ".join(result.text for result in results if result.text)
        error = round(korean.error_rate(korean.reference, heard), 3)
        rows.append({"hotwords": name, "list": list(hotwords), "cer": error, "heard": heard})
        print(f"{name:26} CER {error:.3f}  {heard[:70]}", flush=True)
    out = args.json or results_path("korean_hotwords")
    out.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
