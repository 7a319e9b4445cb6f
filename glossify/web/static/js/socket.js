// One meeting's event stream over a WebSocket that survives drops. It reconnects with
// backoff and asks for `?since=<last seq>`, so a reader misses nothing; every event carries a
// meeting-wide, gap-free seq, so events replayed twice are recognised and dropped.

import { ApiError, requestJson } from "./api.js";

export const SocketState = Object.freeze({
  CONNECTING: "connecting",
  LIVE: "live",
  RECONNECTING: "reconnecting",
  WAITING_FOR_HOST: "waiting_for_host",
  EXPIRED: "expired",
  REFUSED: "refused",
});

const FIRST_RETRY_MS = 500;
const MAX_RETRY_MS = 10_000;
const WAITING_FOR_HOST_RETRY_MS = 5_000;
const PING_EVERY_MS = 10_000;
// The server answers a ping at once. Silence this long means the connection is dead even if
// the browser has not noticed yet (a sleeping laptop, a NAT that forgot the connection).
const SILENCE_LIMIT_MS = 25_000;
const CLOSE_TOKEN_EXPIRED = 4401;
const CLOSE_MEETING_NOT_FOUND = 4404;

export class MeetingSocket {
  #ws = null;
  #ready = false;
  #lastSeq = 0;
  #attempt = 0;
  #retryTimer = null;
  #pingTimer = null;
  #lastHeard = 0;
  #expired = false;

  /**
   * `onEvent(event)`: each meeting event once, in seq order. `onReply(message)`: this
   * connection's own replies (error, audio_done). `onState(state, detail)`: a SocketState.
   * `onReady()`: the socket is live (again). `onDrop()`: it is down.
   */
  constructor({ meetingId, token, onEvent, onReply, onState, onReady, onDrop }) {
    this.meetingId = meetingId;
    this.token = token;
    this.callbacks = { onEvent, onReply, onState, onReady, onDrop };
  }

  get lastSeq() {
    return this.#lastSeq;
  }

  get isLive() {
    return this.#ready && this.#ws?.readyState === WebSocket.OPEN;
  }

  start() {
    // Back online after a drop: try at once rather than at the end of the backoff.
    window.addEventListener("online", () => {
      if (this.#retryTimer !== null) this.#retryNow();
    });
    this.#connect();
  }

  sendJson(message) {
    if (!this.isLive) return false;
    this.#ws.send(JSON.stringify(message));
    return true;
  }

  sendBinary(data) {
    if (!this.isLive) return false;
    this.#ws.send(data);
    return true;
  }

  #connect() {
    this.#retryTimer = null;
    const first = this.#lastSeq === 0 && this.#attempt === 0;
    this.#setState(first ? SocketState.CONNECTING : SocketState.RECONNECTING);
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const path = `/meeting/${encodeURIComponent(this.meetingId)}/ws?since=${this.#lastSeq}`;
    // The credential goes in a subprotocol entry, not the URL, which proxies write to logs.
    const ws = new WebSocket(`${scheme}//${location.host}${path}`, [
      "glossify.v1",
      `access_token.${this.token}`,
    ]);
    ws.binaryType = "arraybuffer";
    let opened = false;
    ws.onopen = () => {
      opened = true;
      this.#lastHeard = Date.now();
    };
    ws.onmessage = (message) => this.#receive(message.data);
    // An error is always followed by a close, which decides what to do next.
    ws.onclose = (closed) => {
      if (this.#ws === ws) this.#closed(closed.code, opened);
    };
    this.#ws = ws;
  }

  #receive(data) {
    this.#lastHeard = Date.now();
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === "ready") {
      this.#ready = true;
      this.#attempt = 0;
      this.#startPinging();
      this.#setState(SocketState.LIVE);
      this.callbacks.onReady?.();
    } else if (typeof message.seq === "number") {
      if (message.seq <= this.#lastSeq) return; // replayed after a reconnect: already shown
      this.#lastSeq = message.seq;
      this.callbacks.onEvent(message);
    } else if (message.type !== "pong") {
      if (message.type === "error" && message.code === "token_expired") this.#expired = true;
      this.callbacks.onReply?.(message);
    }
  }

  #closed(code, opened) {
    const wasReady = this.#ready;
    this.#ws = null;
    this.#ready = false;
    this.#stopPinging();
    if (wasReady) this.callbacks.onDrop?.();
    if (code === CLOSE_TOKEN_EXPIRED || this.#expired) {
      this.#setState(SocketState.EXPIRED);
    } else if (code === CLOSE_MEETING_NOT_FOUND) {
      this.#retryIn(WAITING_FOR_HOST_RETRY_MS, SocketState.WAITING_FOR_HOST);
    } else if (!opened) {
      // A refused handshake reaches a browser as a bare close; REST says why.
      this.#diagnoseRefusal();
    } else {
      this.#retryWithBackoff();
    }
  }

  async #diagnoseRefusal() {
    const statusPath = `/meeting/${encodeURIComponent(this.meetingId)}/stop/status`;
    try {
      await requestJson(statusPath, { credential: this.token });
    } catch (error) {
      const status = error instanceof ApiError ? error.status : 0;
      if (status === 401) {
        this.#setState(error.code === "expired" ? SocketState.EXPIRED : SocketState.REFUSED, error);
        return;
      }
      if (status === 404) {
        this.#retryIn(WAITING_FOR_HOST_RETRY_MS, SocketState.WAITING_FOR_HOST);
        return;
      }
      if (status === 403) {
        this.#setState(SocketState.REFUSED, error);
        return;
      }
    }
    // The credential is fine, or nothing answered: a quota or the network. Try again.
    this.#retryWithBackoff();
  }

  #retryWithBackoff() {
    const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** this.#attempt);
    this.#attempt += 1;
    // Jitter: many readers dropped at once must not all come back at the same instant.
    this.#retryIn(ceiling / 2 + (Math.random() * ceiling) / 2, SocketState.RECONNECTING);
  }

  #retryIn(delayMs, state) {
    this.#setState(state, { retryInMs: delayMs });
    this.#retryTimer = setTimeout(() => this.#connect(), delayMs);
  }

  #retryNow() {
    clearTimeout(this.#retryTimer);
    this.#connect();
  }

  #startPinging() {
    this.#stopPinging();
    this.#pingTimer = setInterval(() => {
      if (Date.now() - this.#lastHeard > SILENCE_LIMIT_MS) {
        const dead = this.#ws;
        this.#ws = null; // its close event, whenever it comes, is no longer ours
        dead?.close();
        this.#closed(1006, true);
        return;
      }
      this.sendJson({ type: "ping" });
    }, PING_EVERY_MS);
  }

  #stopPinging() {
    clearInterval(this.#pingTimer);
    this.#pingTimer = null;
  }

  #setState(state, detail = null) {
    this.callbacks.onState?.(state, detail);
  }
}
