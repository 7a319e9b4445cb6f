"""Whisper base's character error rate on the Korean recording, streamed as the service cuts it.

    .venv/bin/python -m bench.korean_cer [--json PATH]

The committed recording (`bench/data/audio/korean-meeting-mbrola.wav`, MBROLA's Korean voice hn1;
`bench.korean_recording` regenerates it) goes through the service's segmentation and the
packaged Whisper base with language "ko" and the default `audio` settings (context prompt
included). Prints the CER (spaces and punctuation left out), the Korean jargon spelled right,
and each final beside the script, so what the model misheard can be read.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from bench.common.paths import results_path
from bench.context_prompt import measure, recordings, service_engine
from bench.korean_recording import load_korean_script
from glossify.config.settings import AudioConfig


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    engine = service_engine()
    korean = next(r for r in recordings() if r.language == "ko")
    row = measure(engine, korean, AudioConfig().context_prompt_chars, use_hotwords=False)
    print("script:")
    print("\n".join(f"  {line}" for line in load_korean_script()))
    print("heard:")
    print("\n".join(f"  {line}" for line in row["finals"]))
    print(
        f"CER {row['error_rate']:.3f} over {row['utterances']} utterances; "
        f"jargon right {len(row['jargon_right'])}/{row['jargon_total']}: {row['jargon_right']}"
    )
    out = args.json or results_path("korean_cer")
    out.write_text(json.dumps(row, ensure_ascii=False, indent=1) + "\n")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
