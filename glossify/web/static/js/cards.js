// Glossary cards, newest first: each explained term with its domain, explanation, where the
// explanation came from and when; a filter box narrows them; `show` brings one into view.

import { clockTime, make } from "./dom.js";

const SOURCES = {
  glossary: "Organisation glossary",
  reference: "Reference glossary",
  external: "External",
};

/** Where an explanation came from, in words: a model backend, a glossary, or outside. */
export function sourceLabel(source) {
  return SOURCES[source] ?? `Model${source ? ` (${source})` : ""}`;
}

function normalise(text) {
  return (text ?? "").toLocaleLowerCase().trim();
}

export class CardList {
  #cards = []; // {event, node}, oldest first
  #highlightTimer = null;

  constructor({ list, filterInput, countLabel, emptyNote }) {
    Object.assign(this, { list, filterInput, countLabel, emptyNote });
    filterInput.addEventListener("input", () => this.#applyFilter());
  }

  /** Every term with a card, for highlighting in captions. */
  get terms() {
    return this.#cards.map(({ event }) => event.entity);
  }

  /** A `terms` event: a new card on top. */
  add(event) {
    const node = this.#card(event);
    this.#cards.push({ event, node });
    this.list.prepend(node);
    this.#applyFilter();
  }

  /** Shows the newest card of `term`: clears a filter that hides it, scrolls to it. */
  show(term) {
    const wanted = normalise(term);
    const found = this.#cards.findLast(({ event }) => normalise(event.entity) === wanted);
    if (!found) return;
    if (found.node.hidden) {
      this.filterInput.value = "";
      this.#applyFilter();
    }
    found.node.scrollIntoView({ block: "nearest", behavior: "smooth" });
    found.node.focus({ preventScroll: true });
    for (const { node } of this.#cards) node.classList.remove("card-highlight");
    found.node.classList.add("card-highlight");
    clearTimeout(this.#highlightTimer);
    this.#highlightTimer = setTimeout(() => found.node.classList.remove("card-highlight"), 2500);
  }

  #card(event) {
    const when = clockTime(event.timestamp);
    const headingId = `card-${event.seq}-term`;
    // `abstained`: the explainer had no confident explanation; the body says so, no domain.
    const abstained = event.abstained === true;
    return make(
      "li",
      {
        className: abstained ? "card card-abstained" : "card",
        attrs: { "data-seq": String(event.seq), tabindex: "-1", "aria-labelledby": headingId },
      },
      [
        make("div", { className: "card-head" }, [
          make("h3", { className: "card-term", text: event.entity, attrs: { id: headingId } }),
          abstained ? null : make("span", { className: "card-domain", text: event.domain }),
        ]),
        make("p", { className: "card-body", text: event.body }),
        make("p", { className: "card-meta" }, [
          make("span", {
            className: "card-source",
            text: sourceLabel(event.source),
            attrs: { "data-source": event.source ?? "" },
          }),
          when ? make("time", { text: when, attrs: { datetime: event.timestamp } }) : null,
        ]),
      ],
    );
  }

  #applyFilter() {
    const query = normalise(this.filterInput.value);
    let shown = 0;
    for (const { event, node } of this.#cards) {
      const text = normalise(`${event.entity} ${event.domain} ${event.body}`);
      node.hidden = query !== "" && !text.includes(query);
      if (!node.hidden) shown += 1;
    }
    const total = this.#cards.length;
    this.countLabel.textContent = query ? `(${shown} of ${total})` : total ? `(${total})` : "";
    this.emptyNote.hidden = shown > 0;
    this.emptyNote.textContent =
      total === 0 ? "Explained terms appear here, newest first." : "No term matches the filter.";
  }
}
