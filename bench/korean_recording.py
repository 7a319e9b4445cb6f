"""Regenerates the Korean test recording: espeak-ng's Korean voice reads a short meeting.

    .venv/bin/python -m bench.korean_recording

Needs Debian's `espeak-ng` (`apt-get install -y espeak-ng`); nothing else runs it: the tests and
`bench.korean_cer` use the committed WAV. Each line of `bench/data/audio/korean-meeting.txt` is
read on its own and the lines are joined with a pause, so the recording segments into one
utterance per sentence as a speaker's meeting would. Written as 16 kHz mono 16-bit PCM.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from faster_whisper import decode_audio

from bench.common.paths import REPO_ROOT

AUDIO_DIR = REPO_ROOT / "bench" / "data" / "audio"
KOREAN_SCRIPT = AUDIO_DIR / "korean-meeting.txt"
KOREAN_WAV = AUDIO_DIR / "korean-meeting-espeak.wav"
SAMPLE_RATE = 16_000
PAUSE_S = 0.9
WORDS_PER_MINUTE = 160  # espeak-ng's default 175 slurs the Korean voice's syllables together


def load_korean_script(path: Path = KOREAN_SCRIPT) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def speak(sentence: str, folder: Path) -> np.ndarray:
    """One sentence in espeak-ng's Korean voice, as 16 kHz float32 samples."""
    out = folder / "sentence.wav"
    subprocess.run(
        ["espeak-ng", "-v", "ko", "-s", str(WORDS_PER_MINUTE), "-w", str(out), sentence],
        check=True,
    )
    return decode_audio(str(out), sampling_rate=SAMPLE_RATE)


def write_wav(path: Path, samples: np.ndarray) -> None:
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(pcm.tobytes())


def synthesise(sentences: list[str]) -> np.ndarray:
    pause = np.zeros(int(PAUSE_S * SAMPLE_RATE), dtype=np.float32)
    pieces = [pause]
    with tempfile.TemporaryDirectory() as folder:
        for sentence in sentences:
            pieces += [speak(sentence, Path(folder)), pause]
    return np.concatenate(pieces)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--script", type=Path, default=KOREAN_SCRIPT)
    parser.add_argument("--out", type=Path, default=KOREAN_WAV)
    args = parser.parse_args()
    samples = synthesise(load_korean_script(args.script))
    write_wav(args.out, samples)
    print(f"{args.out}: {samples.size / SAMPLE_RATE:.1f} s")


if __name__ == "__main__":
    main()
