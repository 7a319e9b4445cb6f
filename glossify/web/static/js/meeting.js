// The meeting page, /m/{mid}#token=…: live captions, glossary cards, the microphone for
// speakers and hosts, host controls, export, and what the connection and service are doing.

import { EXPIRED_MESSAGE, explainFailure } from "./api.js";
import { CaptionView } from "./captions.js";
import { CardList } from "./cards.js";
import { byId, copyText, say } from "./dom.js";
import { wireExport } from "./exporter.js";
import { describeHealth, watchHealth } from "./health.js";
import { HostControls } from "./host.js";
import { MeetingSocket, SocketState } from "./socket.js";
import { SpeakerPanel } from "./speaking.js";
import { meetingIdFromPath, readClaims, roleAllows, tokenFromFragment } from "./token.js";

const ROLE_NAMES = { listener: "listener", speaker: "speaker", host: "host" };

const SHARE_NOTES = {
  listener: "Copies this page's link. It lets anyone who has it listen to this meeting.",
  speaker:
    "Copies this page's link. It lets anyone who has it speak in this meeting as you: share it only with yourself. The host makes listener links on the start page.",
  host: "Copies this page's link. It lets anyone who has it host and stop this meeting: share it only with co-hosts. Make listener and speaker links on the start page.",
};

const CONNECTION = {
  [SocketState.CONNECTING]: ["Connecting…", ""],
  [SocketState.LIVE]: ["Live", ""],
  [SocketState.RECONNECTING]: [
    "Reconnecting…",
    "Connection lost — reconnecting. Whatever is said meanwhile will appear when it is back.",
  ],
  [SocketState.WAITING_FOR_HOST]: [
    "Waiting for the host",
    "The meeting has not started yet. This page joins as soon as the host starts it.",
  ],
  [SocketState.EXPIRED]: ["Link expired", ""],
  [SocketState.REFUSED]: ["Not allowed", ""],
};

function showIdentity(claims) {
  const role = ROLE_NAMES[claims.role] ?? "unknown role";
  byId("identity").textContent = claims.sub ? `${claims.sub} · ${role}` : role;
}

function startCaptionsAndCards() {
  const cards = new CardList({
    list: byId("cards"),
    filterInput: byId("card-filter"),
    countLabel: byId("card-count"),
    emptyNote: byId("cards-empty"),
  });
  const captions = new CaptionView({
    log: byId("captions"),
    partialBox: byId("partials"),
    scroller: byId("caption-scroller"),
    jumpButton: byId("jump-to-live"),
    emptyNote: byId("captions-empty"),
    onTermClick: (term) => cards.show(term),
  });
  return { cards, captions };
}

function wireShare(role) {
  const field = byId("my-link");
  const status = byId("share-status");
  byId("share-note").textContent = SHARE_NOTES[role] ?? SHARE_NOTES.listener;
  byId("copy-link").addEventListener("click", async () => {
    field.value = location.href;
    const outcome = await copyText(location.href, null);
    // Where the clipboard is refused, show the link selected for the reader to copy.
    field.hidden = outcome === "Copied.";
    if (!field.hidden) {
      field.focus();
      field.select();
    }
    say(status, outcome, outcome === "Copied." ? "ok" : "info");
  });
}

function showEnded(event) {
  const status = byId("meeting-status");
  if (event.type === "upsert_done") {
    say(status, `This meeting has ended. Its glossary was saved (${event.upserted} terms).`, "ok");
  } else if (event.type === "upsert_error") {
    say(status, "This meeting has ended, but its glossary could not be saved yet.", "warn");
  }
}

function main() {
  const meetingId = meetingIdFromPath(location.pathname);
  const token = tokenFromFragment(location.hash);
  const claims = token ? readClaims(token) : null;
  byId("meeting-title").textContent = meetingId ?? "unknown meeting";
  if (meetingId) document.title = `${meetingId} · Glossify`;
  const alert = byId("alert-banner");
  const pill = byId("connection-state");
  if (!meetingId || !claims) {
    say(alert, "This page needs a meeting link (…/m/<meeting>#token=…). Ask the host for one.", "error");
    pill.textContent = "No link";
    document.body.dataset.connection = SocketState.REFUSED;
    return;
  }
  showIdentity(claims);
  const role = claims.role;
  const { cards, captions } = startCaptionsAndCards();
  let speaker = null;
  let host = null;

  const socket = new MeetingSocket({
    meetingId,
    token,
    onEvent(event) {
      if (event.type === "transcript") {
        captions.add(event);
      } else if (event.type === "terms") {
        cards.add(event);
        captions.setKnownTerms(cards.terms);
      } else if (event.type === "upsert_done" || event.type === "upsert_error") {
        captions.clearPartials();
        showEnded(event);
        host?.onEvent(event);
      }
    },
    onReply: (message) => speaker?.onReply(message),
    onReady: () => speaker?.onReady(),
    onDrop: () => speaker?.onDrop(),
    onState(state, detail) {
      const [label, banner] = CONNECTION[state];
      document.body.dataset.connection = state;
      pill.textContent = label;
      pill.dataset.state = state;
      say(byId("connection-banner"), banner, "warn");
      if (state === SocketState.EXPIRED || state === SocketState.REFUSED) {
        const text = state === SocketState.EXPIRED ? EXPIRED_MESSAGE : explainFailure(detail, "join this meeting");
        say(alert, text, "error");
        speaker?.disable();
      }
    },
  });

  if (roleAllows(role, "speaker")) byId("mic-panel").hidden = false;
  if (roleAllows(role, "host")) byId("host-panel").hidden = false;
  // Wired for every role: a control a role lacks is hidden, and if it is used anyway the
  // server refuses and the page says so.
  speaker = new SpeakerPanel({
    socket,
    toggle: byId("mic-toggle"),
    mute: byId("mic-mute"),
    processing: byId("mic-processing"),
    language: byId("mic-language"),
    meter: byId("mic-level"),
    status: byId("mic-status"),
  });
  host = new HostControls({
    meetingId,
    token,
    startButton: byId("meeting-start"),
    stopButton: byId("meeting-stop"),
    status: byId("host-status"),
    beforeStop: () => speaker.stop(),
    language: () => byId("mic-language").value || null,
  });
  wireShare(role);
  wireExport({
    meetingId,
    token,
    buttons: document.querySelectorAll("button.export"),
    status: byId("export-status"),
  });
  watchHealth({
    credential: token,
    onReport: (report) => say(byId("health-banner"), describeHealth(report), "warn"),
  });
  socket.start();
}

main();
