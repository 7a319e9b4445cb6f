"""Hypothesis strategies of WebSocket frames for tests/serve/test_fuzz.py: random JSON, deep
and too deep nesting, huge text, known frame types with wrong field types, unknown types, raw
bytes of any length, and valid audio (audio_start, PCM, audio_end) to interleave with them."""

from __future__ import annotations

import json
import math
import random
from typing import Any

from hypothesis import strategies as st

from glossify.audio.pcm import SUPPORTED_ENCODINGS, SUPPORTED_RATES

# One second of 16 kHz pcm_s16le: a bigger frame is refused (audio.max_frame_seconds).
SECOND_S16 = 16000 * 2
# Text frames are limited to 64 KiB characters (web.websocket.MAX_TEXT_FRAME_CHARS).
HUGE_TEXT = 100_000

Frame = str | bytes

json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
)
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=20,
)


def _nest(value: Any, kinds: list[bool]) -> Any:
    for as_list in kinds:
        value = [value] if as_list else {"type": "audio_start", "k": value}
    return value


# Deep but ordinary: lists and objects inside each other up to 60 levels.
nested = st.builds(_nest, json_values, st.lists(st.booleans(), min_size=1, max_size=60)).map(
    json.dumps
)


@st.composite
def too_deep(draw: st.DrawFn) -> str:
    """Nesting around and past the parser's recursion limit (about 1000 levels): valid JSON
    that ``json.loads`` refuses with RecursionError rather than JSONDecodeError."""
    depth = draw(st.sampled_from([500, 950, 980, 990, 1000, 1100, 5000, 20_000]))
    opener, closer = draw(st.sampled_from([("[", "]"), ('{"a":', "}")]))
    inner = opener * depth + "0" + closer * depth
    shapes = [inner, f'{{"type": {inner}}}']
    # A ping is answered only when parsed: the client must know, so no depth near the limit
    # (where the answer depends on how deep the parser's caller already is).
    if depth in (500, 1100, 5000, 20_000):
        shapes.append(f'{{"type": "ping", "x": {inner}}}')
    return draw(st.sampled_from(shapes))


@st.composite
def huge_strings(draw: st.DrawFn) -> str:
    """A text frame around the 64 KiB limit or far past it, up to 100 KB: a string alone,
    padding a ping, or not JSON at all."""
    size = draw(st.sampled_from([60_000, 65_534, 65_536, 65_537, 80_000, HUGE_TEXT]))
    fill = draw(st.sampled_from(["a", "\u00e9", "\u6f22", "\U0001f600", "\\", '"']))
    shape = draw(st.sampled_from(["string", "ping", "raw"]))
    escaped = json.dumps(fill, ensure_ascii=False)[1:-1]
    if shape == "string":
        return json.dumps(fill * size, ensure_ascii=False)[:size]  # may end inside an escape
    if shape == "ping":
        head = '{"type": "ping", "pad": "'
        return head + escaped * ((size - len(head) - 2) // len(escaped)) + '"}'
    return fill * size


# Known frame types with fields of the wrong type (or of the right type, sometimes).
wrong_types = st.fixed_dictionaries(
    {"type": st.sampled_from(["audio_start", "audio_end", "ping"])},
    optional={
        "sample_rate": json_values | st.sampled_from([16000, 16000.0, True, "16000", -1, 10**30]),
        "encoding": json_values | st.sampled_from([*SUPPORTED_ENCODINGS, "pcm_u8", ""]),
        "language": json_values | st.sampled_from(["en", "ko", "EN", "x" * 300]),
    },
).map(json.dumps)
# Frames whose `type` is unknown or not a string at all.
unknown_types = st.builds(
    lambda kind, rest: {**rest, "type": kind},
    json_values,
    st.dictionaries(st.text(max_size=10), json_values, max_size=3),
).map(json.dumps)


# Random bytes come from a drawn seed: drawing a megabyte byte by byte would overrun
# hypothesis' buffer, and such examples would be silently dropped.
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def noise(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


@st.composite
def random_bytes(draw: st.DrawFn) -> bytes:
    """Raw bytes: empty, odd, a few samples, about a second, far over a second (up to 1 MB)."""
    sizes = {
        "tiny": st.integers(min_value=0, max_value=64),
        "short": st.integers(min_value=64, max_value=4000),
        "edge": st.sampled_from([0, 1, 3, *range(SECOND_S16 - 1, SECOND_S16 + 3)]),
        "long": st.sampled_from([40_000, 64_001, 100_000, 250_000, 1_000_000]),
    }
    size = draw(st.sampled_from(list(sizes)).flatmap(sizes.__getitem__))
    return noise(draw(seeds), size)


def _tone(seconds: float, frequency: float) -> bytes:
    """A sine at 16 kHz, pcm_s16le."""
    n = int(seconds * 16000)
    wave = (0.3 * math.sin(2 * math.pi * frequency * i / 16000) for i in range(n))
    return b"".join(int(x * 32767).to_bytes(2, "little", signed=True) for x in wave)


@st.composite
def valid_pcm(draw: st.DrawFn) -> bytes:
    """A well-formed 16 kHz pcm_s16le frame of 10-200 ms: silence, a tone or noise."""
    seconds = draw(st.sampled_from([0.01, 0.02, 0.1, 0.2]))
    kind = draw(st.sampled_from(["silence", "tone", "noise"]))
    if kind == "silence":
        return bytes(int(seconds * SECOND_S16))
    if kind == "tone":
        return _tone(seconds, draw(st.sampled_from([220.0, 440.0])))
    return noise(draw(seeds), int(seconds * SECOND_S16))


audio_start = st.builds(
    lambda rate, encoding, language: json.dumps(
        {"type": "audio_start", "sample_rate": rate, "encoding": encoding}
        | ({} if language is None else {"language": language})
    ),
    st.sampled_from([16000, 16000, *SUPPORTED_RATES]),
    st.sampled_from(["pcm_s16le", "pcm_s16le", *SUPPORTED_ENCODINGS]),
    st.sampled_from([None, "en", "ko"]),
)
# Each kind of frame by name, so that a sequence mixes them evenly (one_of favours its first).
FRAME_KINDS: dict[str, st.SearchStrategy[Frame]] = {
    "json": json_values.map(json.dumps),
    "nested": nested,
    "too_deep": too_deep(),
    "huge_text": huge_strings(),
    "wrong_types": wrong_types,
    "unknown_type": unknown_types,
    "not_json": st.text(max_size=200),
    "bytes": random_bytes(),
    "audio_start": audio_start,
    "pcm": valid_pcm(),
    "audio_end": st.just(json.dumps({"type": "audio_end"})),
    "ping": st.just(json.dumps({"type": "ping"})),
}
frames: st.SearchStrategy[Frame] = st.sampled_from([*FRAME_KINDS, "bytes", "pcm", "pcm"]).flatmap(
    FRAME_KINDS.__getitem__
)
# One fuzz sequence: up to 20 frames, bad ones interleaved with a valid audio stream.
sequences = st.lists(frames, min_size=3, max_size=20)
