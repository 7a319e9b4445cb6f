// The microphone as 16 kHz mono PCM: getUserMedia → AudioContext at 16 kHz (the browser
// resamples) → the AudioWorklet in worklet.js, which hands back 100 ms Int16 frames.

export const SAMPLE_RATE = 16000;

/** What to tell a person whose microphone did not start. */
export function describeMicrophoneError(error) {
  switch (error?.name) {
    case "NotAllowedError":
    case "SecurityError":
      return "Microphone access was denied. Allow the microphone for this site in the browser's settings, then press Start microphone again.";
    case "NotFoundError":
    case "OverconstrainedError":
      return "No microphone was found. Connect one, then press Start microphone again.";
    case "NotReadableError":
      return "The microphone could not be opened: another application may be using it.";
    case "InsecureContext":
      return "The microphone works only on a secure page (HTTPS, or localhost).";
    default:
      return `The microphone could not be started (${error?.message ?? error}).`;
  }
}

export class Microphone {
  #context = null;
  #stream = null;
  #node = null;

  /** `onFrame(pcm: ArrayBuffer)` every 100 ms; `onLevel(peak: 0..1)` with each frame. */
  constructor({ workletUrl, onFrame, onLevel }) {
    Object.assign(this, { workletUrl, onFrame, onLevel });
  }

  get active() {
    return this.#context !== null;
  }

  /** `processing`: let the browser cancel echo, suppress noise and control gain. */
  async start({ processing }) {
    if (!navigator.mediaDevices?.getUserMedia) {
      throw Object.assign(new Error("no secure context"), { name: "InsecureContext" });
    }
    // The graph is built before asking for the microphone: capture starts at getUserMedia,
    // and whatever is said before the worklet is connected would be lost.
    const context = new AudioContext({ sampleRate: SAMPLE_RATE });
    try {
      await context.audioWorklet.addModule(this.workletUrl);
      const node = new AudioWorkletNode(context, "pcm-frames", {
        numberOfInputs: 1,
        numberOfOutputs: 1,
        outputChannelCount: [1],
        channelCount: 1,
        channelCountMode: "explicit", // a stereo device is mixed down to mono
      });
      node.port.onmessage = ({ data }) => {
        this.onLevel(data.peak);
        this.onFrame(data.pcm);
      };
      const stream = await navigator.mediaDevices.getUserMedia({
        audio: {
          channelCount: 1,
          echoCancellation: processing,
          noiseSuppression: processing,
          autoGainControl: processing,
        },
      });
      context.createMediaStreamSource(stream).connect(node);
      // Connected to the output so the graph pulls it; the node itself outputs silence.
      node.connect(context.destination);
      if (context.state === "suspended") await context.resume();
      this.#context = context;
      this.#stream = stream;
      this.#node = node;
    } catch (error) {
      await context.close();
      throw error;
    }
  }

  setMuted(muted) {
    this.#node?.port.postMessage({ muted });
  }

  async stop() {
    const context = this.#context;
    if (!context) return;
    this.#context = null;
    for (const track of this.#stream.getTracks()) track.stop();
    this.#node.port.onmessage = null;
    this.#node.disconnect();
    this.#stream = null;
    this.#node = null;
    await context.close();
    this.onLevel(0);
  }
}
