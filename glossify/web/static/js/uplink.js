// Sends the microphone's frames on the meeting socket. While the socket is down the frames
// wait in a bounded buffer and go out after reconnecting, so a short drop loses no speech;
// past the bound the oldest are dropped and the speaker is told plainly how much was lost.

import { SAMPLE_RATE } from "./mic.js";

const FRAME_SECONDS = 0.1;
export const MAX_BUFFERED_SECONDS = 30;

function seconds(frames) {
  return (frames * FRAME_SECONDS).toFixed(1);
}

export class AudioUplink {
  #buffer = [];
  #dropped = 0;
  #active = false;
  #streaming = false; // audio_start sent on the current connection
  #language = null;

  /** `socket`: a MeetingSocket; `onNotice(text, tone)`: tell the speaker something. */
  constructor({ socket, onNotice, maxBufferedSeconds = MAX_BUFFERED_SECONDS }) {
    this.socket = socket;
    this.onNotice = onNotice;
    this.maxFrames = Math.round(maxBufferedSeconds / FRAME_SECONDS);
  }

  /** A new stream: `language` is a code ("en", "ko") or null to let the server detect it. */
  begin(language) {
    this.#active = true;
    this.#language = language || null;
    this.#buffer = [];
    this.#dropped = 0;
    this.#announce();
  }

  push(frame) {
    if (!this.#active) return;
    if (this.#streaming && this.#buffer.length === 0 && this.socket.sendBinary(frame)) return;
    this.#streaming = false;
    this.#buffer.push(frame);
    if (this.#buffer.length > this.maxFrames) {
      this.#buffer.shift();
      this.#dropped += 1;
    }
  }

  /** The socket is live again: the server ended the old stream, so announce a new one. */
  resume() {
    if (this.#active) this.#announce();
  }

  /** The socket dropped: frames wait from now on. */
  pause() {
    this.#streaming = false;
  }

  /** Ends the stream; returns whether the server was told (it then answers audio_done). */
  end() {
    if (!this.#active) return false;
    this.#active = false;
    const unsent = this.#buffer.length + this.#dropped;
    this.#buffer = [];
    const told = this.#streaming && this.socket.sendJson({ type: "audio_end" });
    this.#streaming = false;
    if (unsent > 0) {
      this.onNotice(`${seconds(unsent)} s of audio could not be sent: the connection was down.`, "warn");
    }
    return told;
  }

  /** The server refused this audio: drop what waits and send nothing more. */
  discard() {
    this.#active = false;
    this.#streaming = false;
    this.#buffer = [];
    this.#dropped = 0;
  }

  #announce() {
    const start = { type: "audio_start", sample_rate: SAMPLE_RATE, encoding: "pcm_s16le" };
    if (!this.socket.sendJson({ ...start, language: this.#language })) return;
    const waited = this.#buffer.length;
    while (this.#buffer.length > 0) {
      if (!this.socket.sendBinary(this.#buffer[0])) return; // dropped again; keep the rest
      this.#buffer.shift();
    }
    this.#streaming = true;
    if (this.#dropped > 0) {
      this.onNotice(
        `Reconnected. ${seconds(this.#dropped)} s of audio were lost while the connection was down (only the last ${seconds(this.maxFrames)} s are kept); the ${seconds(waited)} s after that were sent.`,
        "warn",
      );
    } else if (waited > 0) {
      this.onNotice(`Reconnected. The ${seconds(waited)} s of audio recorded meanwhile were sent.`, "ok");
    }
    this.#dropped = 0;
  }
}
