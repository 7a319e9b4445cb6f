// Export buttons: the meeting's glossary as CSV, Markdown or JSON, downloaded with the
// page's token (a plain link could not carry it).

import { downloadAttachment, explainFailure } from "./api.js";
import { say } from "./dom.js";

const EXTENSIONS = { csv: "csv", md: "md", json: "json" };

export function wireExport({ meetingId, token, buttons, status }) {
  for (const button of buttons) {
    const format = button.dataset.format;
    button.addEventListener("click", async () => {
      button.disabled = true;
      say(status, `Preparing the ${button.textContent.trim()} file…`);
      const query = new URLSearchParams({ format });
      const path = `/meeting/${encodeURIComponent(meetingId)}/export?${query}`;
      try {
        const name = await downloadAttachment(path, token, `glossary-${meetingId}.${EXTENSIONS[format]}`);
        say(status, `Downloaded ${name}.`, "ok");
      } catch (error) {
        say(status, explainFailure(error, "export the glossary"), "error");
      } finally {
        button.disabled = false;
      }
    });
  }
}
