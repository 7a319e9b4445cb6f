// Polls /health so readers learn when the service is degraded (captions or explanations may
// be late). A meeting token gets the report per part; without one only up or down.

const EVERY_MS = 15_000;

const PART_NAMES = {
  store: "storage",
  meetings: "meetings",
  detector: "term detection",
  explainer: "explanations",
  transcriber: "speech recognition",
};

/** "" when all is well, else one sentence naming what is not. */
export function describeHealth(report) {
  if (report.status === "ok") return "";
  const parts = Object.entries(PART_NAMES)
    .filter(([key]) => report[key] && report[key].state !== "ok")
    .map(([key, name]) => `${name} ${report[key].state}`);
  const which = parts.length ? ` (${parts.join(", ")})` : "";
  return `The service is degraded${which}: captions and explanations may be late.`;
}

/** Calls `onReport(report)` now and every 15 s; a failed fetch is left to the socket banner. */
export function watchHealth({ credential, onReport }) {
  const headers = credential ? { Authorization: `Bearer ${credential}` } : {};
  async function check() {
    try {
      const response = await fetch("/health", { headers, cache: "no-store" });
      onReport(await response.json());
    } catch {
      // Unreachable: the connection banner already says so.
    }
  }
  check();
  return setInterval(check, EVERY_MS);
}
