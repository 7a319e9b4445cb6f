// Host controls: start the meeting, stop it, and report whether the glossary was saved. The
// buttons are wired for every role but shown only to hosts: the server decides, and a
// refusal is shown as it comes.

import { explainFailure, requestJson } from "./api.js";
import { say } from "./dom.js";

export class HostControls {
  /**
   * `beforeStop()`: resolves when this page's own microphone has handed in its last words,
   * so stopping loses nothing. `language()`: the meeting's language code or null.
   */
  constructor({ meetingId, token, startButton, stopButton, status, beforeStop, language }) {
    Object.assign(this, { meetingId, token, startButton, stopButton, status, beforeStop, language });
    this.base = `/meeting/${encodeURIComponent(meetingId)}`;
    startButton.addEventListener("click", () => this.start());
    stopButton.addEventListener("click", () => this.stop());
  }

  async start() {
    this.startButton.disabled = true;
    say(this.status, "Starting the meeting…");
    try {
      await requestJson(`${this.base}/start`, {
        credential: this.token,
        method: "POST",
        body: { language: this.language() },
      });
      say(this.status, "The meeting is open. Share links from the start page.", "ok");
    } catch (error) {
      say(this.status, explainFailure(error, "start the meeting"), "error");
    } finally {
      this.startButton.disabled = false;
    }
  }

  async stop() {
    this.stopButton.disabled = true;
    say(this.status, "Stopping: finishing the last words…");
    await this.beforeStop();
    try {
      await requestJson(`${this.base}/stop`, { credential: this.token, method: "POST" });
      say(this.status, "Stopping: explanations in progress finish, then the glossary is saved…");
    } catch (error) {
      say(this.status, explainFailure(error, "stop the meeting"), "error");
      this.stopButton.disabled = false;
    }
  }

  /** Meeting events that end a stop: every page sees them, hosts get the details here. */
  onEvent(event) {
    if (event.type === "upsert_done") {
      this.stopButton.disabled = true;
      say(this.status, `Meeting stopped. The glossary was saved (${event.upserted} terms).`, "ok");
    } else if (event.type === "upsert_error") {
      this.stopButton.disabled = false;
      say(
        this.status,
        `Meeting stopped, but saving the glossary failed (${event.error}). Press Stop again to retry.`,
        "error",
      );
    }
  }
}
