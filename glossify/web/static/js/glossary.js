// The organisation glossary page: search terms by text and domain, page through them, and
// open a term to see its explanation in each domain; editing lives in glossary-editor.js.

import { explainFailure, requestJson, serviceKey } from "./api.js";
import { byId, make, say } from "./dom.js";
import { TermEditor } from "./glossary-editor.js";

const PAGE_SIZE = 25;

class GlossarySearch {
  #nextAfter = null;
  #query = { q: "", domain: "" };
  #generation = 0; // a new search makes the answers of older ones stale

  constructor({ onOpen }) {
    this.onOpen = onOpen;
    this.results = byId("results");
    this.more = byId("more-results");
    this.status = byId("search-status");
    byId("search-form").addEventListener("submit", (submit) => {
      submit.preventDefault();
      this.search();
    });
    this.more.addEventListener("click", () => this.#loadPage());
  }

  async loadDomains() {
    const select = byId("search-domain");
    try {
      const { domains } = await requestJson("/glossary/domains", { credential: serviceKey.get() });
      const chosen = select.value;
      select.replaceChildren(make("option", { text: "All domains", attrs: { value: "" } }));
      for (const domain of domains) select.append(make("option", { text: domain, attrs: { value: domain } }));
      select.value = domains.includes(chosen) ? chosen : "";
    } catch {
      // The search itself reports what is wrong; the list just stays "All domains".
    }
  }

  async search() {
    this.#query = { q: byId("search-text").value.trim(), domain: byId("search-domain").value };
    this.#nextAfter = null;
    this.#generation += 1;
    this.results.replaceChildren();
    await this.#loadPage();
  }

  /** A term's row changed (a correction) or went away (a deletion). */
  refreshRow(termid, domain, explanation) {
    const row = this.results.querySelector(
      `li[data-termid="${CSS.escape(termid)}"][data-domain="${CSS.escape(domain)}"]`,
    );
    if (!row) return;
    if (explanation === null) row.remove();
    else row.querySelector(".result-text").textContent = explanation;
  }

  async #loadPage() {
    const params = new URLSearchParams({ ...this.#query, limit: String(PAGE_SIZE) });
    if (this.#nextAfter !== null) params.set("after", String(this.#nextAfter));
    const generation = this.#generation;
    this.more.disabled = true;
    say(this.status, "Searching…");
    try {
      const page = await requestJson(`/glossary/terms?${params}`, { credential: serviceKey.get() });
      if (generation !== this.#generation) return;
      for (const entry of page.terms) this.results.append(this.#row(entry));
      this.#nextAfter = page.next_after ?? null;
      this.more.hidden = this.#nextAfter === null;
      const count = this.results.childElementCount;
      say(this.status, count ? `${count} shown${this.more.hidden ? "" : "; more below"}.` : "No term matches.");
    } catch (error) {
      if (generation !== this.#generation) return;
      this.more.hidden = true;
      say(this.status, explainFailure(error, "search the glossary"), "error");
    } finally {
      this.more.disabled = false;
    }
  }

  #row(entry) {
    const open = make("button", { className: "result-term", text: entry.term, attrs: { type: "button" } });
    open.addEventListener("click", () => this.onOpen(entry.termid));
    return make("li", { className: "result", attrs: { "data-termid": entry.termid, "data-domain": entry.domain } }, [
      make("div", { className: "card-head" }, [open, make("span", { className: "card-domain", text: entry.domain })]),
      make("p", { className: "result-text", text: entry.explanation }),
    ]);
  }
}

function wireKey(onChange) {
  const field = byId("service-key");
  const status = byId("key-status");
  field.value = serviceKey.get();
  byId("key-form").addEventListener("submit", (submit) => {
    submit.preventDefault();
    const key = field.value.trim();
    if (key) serviceKey.set(key);
    else serviceKey.forget();
    say(status, key ? "Key in use for this tab." : "No key in use.", "ok");
    onChange();
  });
  byId("forget-key").addEventListener("click", () => {
    serviceKey.forget();
    field.value = "";
    say(status, "Key forgotten.", "ok");
    onChange();
  });
}

function main() {
  let search = null;
  const editor = new TermEditor({
    section: byId("term-detail"),
    heading: byId("detail-heading"),
    list: byId("explanations"),
    status: byId("detail-status"),
    onChanged: (termid, domain, explanation) => search.refreshRow(termid, domain, explanation),
  });
  search = new GlossarySearch({ onOpen: (termid) => editor.open(termid) });
  const reload = () => {
    search.loadDomains();
    search.search();
  };
  wireKey(reload);
  if (serviceKey.get()) reload();
  else say(byId("search-status"), "Paste a service key above to search the glossary.");
}

main();
