"""Regenerates the Korean test recording: the MBROLA Korean voice hn1 reads a short meeting.

    .venv/bin/python -m bench.korean_recording

Needs Debian's `mbrola` and `mbrola-hn1` (in the non-free component: see the command below);
nothing else runs it: the tests and `bench.korean_cer` use the committed WAV. The text is turned
into hn1's phonemes by `bench.korean_speech`. Each line of `bench/data/audio/korean-meeting.txt`
is read on its own and the lines are joined with a pause, so the recording segments into one
utterance per sentence as a speaker's meeting would. Written as 16 kHz mono 16-bit PCM.

The hn1 database (Faculte Polytechnique de Mons, from a diphone set by Kim Kyongsok and Chung
Hyunsong) may be used free of charge to synthesise speech with the MBROLA program; the recording
is such output. Installing it on Debian 12:

    echo 'deb http://deb.debian.org/debian bookworm non-free' > /etc/apt/sources.list.d/nf.list
    apt-get update && apt-get install -y mbrola mbrola-hn1

Until 2026-11-30 the recording was espeak-ng's Korean voice, a formant synthesiser that
Whisper base hardly understood (CER 0.96-1.06).
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
from bench.korean_speech import pho_text

AUDIO_DIR = REPO_ROOT / "bench" / "data" / "audio"
KOREAN_SCRIPT = AUDIO_DIR / "korean-meeting.txt"
KOREAN_WAV = AUDIO_DIR / "korean-meeting-mbrola.wav"
SAMPLE_RATE = 16_000
PAUSE_S = 0.9
HN1_VOICE = Path("/usr/share/mbrola/hn1/hn1")


def load_korean_script(path: Path = KOREAN_SCRIPT) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def speak(sentence: str, folder: Path) -> np.ndarray:
    """One sentence in MBROLA's Korean voice hn1, as 16 kHz float32 samples."""
    phonemes, out = folder / "sentence.pho", folder / "sentence.wav"
    phonemes.write_text(pho_text(sentence), encoding="utf-8")
    # Without -e a diphone the voice lacks would end the run; with it, it is left silent.
    result = subprocess.run(
        ["mbrola", "-e", str(HN1_VOICE), str(phonemes), str(out)],
        check=True,
        capture_output=True,
        text=True,
    )
    if result.stderr.strip():
        print(f"mbrola on {sentence!r}: {result.stderr.strip()}")
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
