// One organisation-glossary term, its explanation per domain, and — for a key with
// glossary:write — correcting or deleting an entry. A correction is what the next meeting
// that hears the term shows.

import { explainFailure, requestJson, serviceKey } from "./api.js";
import { make, say } from "./dom.js";

// A second press within this time confirms a deletion.
const CONFIRM_WINDOW_MS = 5_000;

export class TermEditor {
  #term = null; // {termid, term, explanations}

  constructor({ section, heading, list, status, onChanged }) {
    Object.assign(this, { section, heading, list, status, onChanged });
  }

  async open(termid) {
    say(this.status, "Loading…");
    try {
      this.#term = await requestJson(`/glossary/terms/${encodeURIComponent(termid)}`, {
        credential: serviceKey.get(),
      });
    } catch (error) {
      say(this.status, explainFailure(error, "open this term"), "error");
      return;
    }
    say(this.status, "");
    this.#render();
    this.section.hidden = false;
    this.section.focus();
  }

  #path(domain) {
    return `/glossary/terms/${encodeURIComponent(this.#term.termid)}/${encodeURIComponent(domain)}`;
  }

  #render() {
    this.heading.textContent = this.#term.term;
    this.list.replaceChildren(...this.#term.explanations.map((entry) => this.#entry(entry)));
    if (this.#term.explanations.length === 0) {
      this.list.append(make("li", { className: "empty-note", text: "No explanation is left for this term." }));
    }
  }

  #entry({ domain, explanation }) {
    const correct = make("button", { text: "Correct", attrs: { type: "button" } });
    const remove = make("button", { className: "button-danger", text: "Delete", attrs: { type: "button" } });
    const item = make("li", { className: "explanation", attrs: { "data-domain": domain } }, [
      make("h3", { className: "card-domain-heading", text: domain }),
      make("p", { className: "explanation-text", text: explanation }),
      make("div", { className: "control-row" }, [correct, remove]),
    ]);
    correct.addEventListener("click", () => this.#edit(item, domain, explanation));
    remove.addEventListener("click", () => this.#confirmDelete(remove, domain));
    return item;
  }

  #edit(item, domain, explanation) {
    const fieldId = `edit-${crypto.randomUUID()}`;
    const field = make("textarea", { attrs: { id: fieldId, rows: "4" } });
    field.value = explanation;
    const save = make("button", { className: "button-primary", text: "Save", attrs: { type: "submit" } });
    const cancel = make("button", { text: "Cancel", attrs: { type: "button" } });
    const form = make("form", { className: "form-grid" }, [
      make("label", { text: `Explanation in ${domain}`, attrs: { for: fieldId } }),
      field,
      make("div", { className: "control-row" }, [save, cancel]),
    ]);
    cancel.addEventListener("click", () => this.#render());
    form.addEventListener("submit", async (submit) => {
      submit.preventDefault();
      await this.#save(domain, field.value.trim(), save);
    });
    item.replaceChildren(make("h3", { className: "card-domain-heading", text: domain }), form);
    field.focus();
  }

  async #save(domain, explanation, button) {
    if (!explanation) {
      say(this.status, "An explanation cannot be empty; delete the entry instead.", "error");
      return;
    }
    button.disabled = true;
    try {
      await requestJson(this.#path(domain), {
        credential: serviceKey.get(),
        method: "PUT",
        body: { explanation, term: this.#term.term },
      });
    } catch (error) {
      button.disabled = false;
      say(this.status, explainFailure(error, "change the glossary"), "error");
      return;
    }
    const entry = this.#term.explanations.find((item) => item.domain === domain);
    if (entry) entry.explanation = explanation;
    this.#render();
    this.onChanged(this.#term.termid, domain, explanation);
    say(this.status, `Saved. Meetings from now on explain “${this.#term.term}” (${domain}) this way.`, "ok");
  }

  async #confirmDelete(button, domain) {
    if (button.dataset.armed !== "true") {
      button.dataset.armed = "true";
      button.textContent = "Press again to delete";
      setTimeout(() => {
        button.dataset.armed = "false";
        button.textContent = "Delete";
      }, CONFIRM_WINDOW_MS);
      return;
    }
    button.disabled = true;
    try {
      await requestJson(this.#path(domain), { credential: serviceKey.get(), method: "DELETE" });
    } catch (error) {
      button.disabled = false;
      say(this.status, explainFailure(error, "change the glossary"), "error");
      return;
    }
    this.#term.explanations = this.#term.explanations.filter((item) => item.domain !== domain);
    this.#render();
    this.onChanged(this.#term.termid, domain, null);
    say(this.status, `Deleted the ${domain} explanation of “${this.#term.term}”.`, "ok");
  }
}
