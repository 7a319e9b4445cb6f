// The start page: join with a meeting link, or — with a service key that may mint tokens —
// make a new meeting's host, speaker and listener links.

import { explainFailure, requestJson, serviceKey } from "./api.js";
import { byId, copyText, say } from "./dom.js";
import { meetingIdFromPath, tokenFromFragment } from "./token.js";

const MEETING_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** "meeting-20260512-3f9a1c": readable, sortable by day, and hard to guess. */
function newMeetingId() {
  const day = new Date().toISOString().slice(0, 10).replaceAll("-", "");
  const random = crypto.getRandomValues(new Uint8Array(4));
  const suffix = Array.from(random, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `meeting-${day}-${suffix}`;
}

/** The same-origin meeting page a pasted link points at, or null. */
function meetingLink(text) {
  let url;
  try {
    url = new URL(text.trim(), location.origin);
  } catch {
    return null;
  }
  const ours = url.origin === location.origin;
  return ours && meetingIdFromPath(url.pathname) && tokenFromFragment(url.hash) ? url : null;
}

function wireJoin() {
  const status = byId("join-status");
  byId("join-form").addEventListener("submit", (submit) => {
    submit.preventDefault();
    const url = meetingLink(byId("join-link").value);
    if (!url) {
      say(
        status,
        `That is not a meeting link of this server. It looks like ${location.origin}/m/<meeting>#token=…`,
        "error",
      );
      return;
    }
    location.assign(url.href);
  });
}

async function mint(key, meetingId, role, subject) {
  return requestJson(`/meeting/${encodeURIComponent(meetingId)}/tokens`, {
    credential: key,
    method: "POST",
    body: { role, subject },
  });
}

function showLinks(meetingId, minted) {
  const absolute = (url) => new URL(url, location.origin).href;
  byId("minted-meeting").textContent = meetingId;
  byId("minted-expiry").textContent = new Date(minted.host.expires_at).toLocaleString();
  byId("open-host").href = absolute(minted.host.url);
  byId("speaker-link").value = absolute(minted.speaker.url);
  byId("listener-link").value = absolute(minted.listener.url);
  byId("minted").hidden = false;
  byId("open-host").focus();
}

function wireStart() {
  const keyField = byId("service-key");
  const status = byId("start-status");
  keyField.value = serviceKey.get();
  byId("start-form").addEventListener("submit", async (submit) => {
    submit.preventDefault();
    const key = keyField.value.trim();
    const meetingId = byId("meeting-id").value.trim() || newMeetingId();
    const name = byId("host-name").value.trim() || "Host";
    if (!key) {
      say(status, "Paste a service key first.", "error");
      keyField.focus();
      return;
    }
    if (!MEETING_ID.test(meetingId)) {
      say(status, "A meeting id has 1–64 letters, digits, - or _.", "error");
      return;
    }
    serviceKey.set(key);
    say(status, "Making the links…");
    try {
      const [host, speaker, listener] = await Promise.all([
        mint(key, meetingId, "host", name),
        mint(key, meetingId, "speaker", "Speaker"),
        mint(key, meetingId, "listener", "Listener"),
      ]);
      showLinks(meetingId, { host, speaker, listener });
      say(status, "Links ready. Open the meeting, then share the links.", "ok");
    } catch (error) {
      say(status, explainFailure(error, "make meeting links"), "error");
    }
  });
  for (const button of document.querySelectorAll("button[data-copy]")) {
    button.addEventListener("click", async () => {
      const field = byId(button.dataset.copy);
      say(byId("copy-status"), await copyText(field.value, field), "ok");
    });
  }
}

wireJoin();
wireStart();
