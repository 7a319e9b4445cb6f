// Runs on the audio rendering thread. The AudioContext runs at 16 kHz (the browser resamples
// the microphone), so this only converts float samples to signed 16-bit little-endian PCM
// and packs them into 100 ms frames: 1600 samples, 3200 bytes, the protocol's frame size.

const FRAME_SAMPLES = 1600;

class PcmFrames extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frame = new DataView(new ArrayBuffer(FRAME_SAMPLES * 2));
    this.filled = 0;
    this.peak = 0;
    this.muted = false;
    this.port.onmessage = ({ data }) => {
      if (typeof data?.muted === "boolean") this.muted = data.muted;
    };
  }

  process(inputs) {
    const samples = inputs[0]?.[0];
    if (!samples) return true; // no input connected yet
    for (let i = 0; i < samples.length; i += 1) {
      // Muted frames still go out as silence: the server then ends the utterance as usual.
      const value = this.muted ? 0 : Math.max(-1, Math.min(1, samples[i]));
      this.peak = Math.max(this.peak, Math.abs(value));
      const scaled = value < 0 ? value * 0x8000 : value * 0x7fff;
      this.frame.setInt16(this.filled * 2, Math.round(scaled), true);
      this.filled += 1;
      if (this.filled === FRAME_SAMPLES) this.#post();
    }
    return true;
  }

  #post() {
    const pcm = this.frame.buffer;
    this.port.postMessage({ pcm, peak: this.peak }, [pcm]);
    this.frame = new DataView(new ArrayBuffer(FRAME_SAMPLES * 2));
    this.filled = 0;
    this.peak = 0;
  }
}

registerProcessor("pcm-frames", PcmFrames);
