// The speaker's panel: microphone on and off, mute, the browser's echo and noise processing,
// the spoken language, a level meter, and what the server says about this page's audio.

import { say } from "./dom.js";
import { Microphone, describeMicrophoneError } from "./mic.js";
import { AudioUplink } from "./uplink.js";

// How long to wait for the server to confirm the last words are in the meeting.
const DRAIN_WAIT_MS = 30_000;

// Refusals after which sending more audio is pointless: the microphone is turned off.
const STOPS_THE_MICROPHONE = {
  role_too_low: "Your link does not allow you to speak in this meeting (it is a listener link).",
  missing_scope: "This key does not allow speaking in this meeting.",
  too_many_audio_senders: "Too many people are sending audio to this meeting right now; try again later.",
  audio_unavailable: "This server cannot transcribe audio.",
};

// About the connection, not the audio: the connection banner speaks of these.
const ABOUT_THE_CONNECTION = new Set([
  "since_ahead",
  "meeting_not_found",
  "token_expired",
  "too_many_meetings",
  "too_many_errors",
]);

export class SpeakerPanel {
  #muted = false;
  #drained = null; // resolves the wait for audio_done
  #refused = false; // the server refused this page's audio: send no more

  constructor({ socket, toggle, mute, processing, language, meter, status }) {
    Object.assign(this, { toggle, mute, processing, language, meter, status });
    this.microphone = new Microphone({
      workletUrl: "/static/js/worklet.js",
      onFrame: (pcm) => this.uplink.push(pcm),
      onLevel: (peak) => {
        this.meter.value = peak;
      },
    });
    this.uplink = new AudioUplink({ socket, onNotice: (text, tone) => say(status, text, tone) });
    toggle.addEventListener("click", () => (this.microphone.active ? this.stop() : this.start()));
    mute.addEventListener("click", () => this.#setMuted(!this.#muted));
  }

  async start() {
    this.toggle.disabled = true;
    say(this.status, "Starting the microphone…");
    this.#refused = false;
    this.uplink.begin(this.language.value);
    try {
      await this.microphone.start({ processing: this.processing.checked });
    } catch (error) {
      this.uplink.end();
      say(this.status, describeMicrophoneError(error), "error");
      this.toggle.disabled = false;
      return;
    }
    if (this.#refused) {
      // Refused while the microphone was starting (audio_start is answered at once).
      await this.stop();
      return;
    }
    this.#showOn(true);
    say(this.status, "Microphone on: what you say is transcribed for everyone.", "ok");
  }

  /** Turns the microphone off and waits until the server has its last words. */
  async stop() {
    if (!this.microphone.active) return;
    this.toggle.disabled = true;
    await this.microphone.stop();
    const waiting = new Promise((resolve) => {
      this.#drained = resolve;
      setTimeout(resolve, DRAIN_WAIT_MS);
    });
    if (this.uplink.end()) {
      say(this.status, "Microphone off. Sending your last words…");
      await waiting;
    }
    this.#drained = null;
    this.#showOn(false);
    // A warning or a refusal stays in view; otherwise say the microphone is off.
    const keep = ["warn", "error"].includes(this.status.dataset.tone);
    if (!keep) say(this.status, "Microphone off.");
  }

  /** The socket is live (again) or down: audio waits for it. */
  onReady() {
    this.uplink.resume();
  }

  onDrop() {
    this.uplink.pause();
  }

  /** This connection's replies: audio_done, warnings and refusals of its audio. */
  onReply(message) {
    if (message.type === "audio_done") {
      this.#drained?.();
      return;
    }
    if (message.type === "warning") {
      // audio_backlog: the server is behind with this microphone's audio; nothing is lost yet.
      say(this.status, message.message, "warn");
      return;
    }
    if (message.type !== "error") return;
    const stopping = STOPS_THE_MICROPHONE[message.code];
    if (stopping) {
      this.#refused = true;
      this.uplink.discard();
      say(this.status, stopping, "error");
      this.stop();
    } else if (!ABOUT_THE_CONNECTION.has(message.code)) {
      say(this.status, message.message, "warn");
    }
  }

  /** The link expired or was refused: nothing more can be sent. */
  disable() {
    this.stop();
    this.toggle.disabled = true;
  }

  #setMuted(muted, quietly = false) {
    this.#muted = muted;
    this.microphone.setMuted(muted);
    // A toggle keeps its name and says "pressed": a screen reader hears "Mute, pressed".
    this.mute.setAttribute("aria-pressed", String(muted));
    if (!quietly) say(this.status, muted ? "Muted: nobody hears you until you unmute." : "Unmuted.");
  }

  #showOn(on) {
    this.toggle.disabled = false;
    this.toggle.textContent = on ? "Stop microphone" : "Start microphone";
    this.mute.disabled = !on;
    // Both apply when the microphone starts: changing them needs a restart.
    this.processing.disabled = on;
    this.language.disabled = on;
    if (!on && this.#muted) this.#setMuted(false, true);
  }
}
