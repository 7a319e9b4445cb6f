// Live captions: a partial line per speaker, rewritten as they speak and replaced by the
// final line; known glossary terms in final lines are buttons that open their card; the view
// follows the newest line until the reader scrolls up, then offers "Jump to live".

import { clockTime, make } from "./dom.js";

// Within this many pixels of the bottom counts as reading live.
const AT_BOTTOM_PX = 24;
// A partial line normally becomes final within a pause; one left this long without news was
// dropped by the server (noise it did not keep), so it goes.
const STALE_PARTIAL_MS = 12_000;

function escapeForRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * A pattern matching any of `terms` as whole words. Only Latin letters and digits count as
 * word characters, so a Korean term still matches when a particle follows it ("쿠버네티스는").
 */
function termPattern(terms) {
  const alternatives = [...new Set(terms.filter((term) => term.trim()))]
    .sort((a, b) => b.length - a.length) // the longest first: "EBITDA bridge" over "EBITDA"
    .map(escapeForRegExp);
  if (alternatives.length === 0) return null;
  return new RegExp(`(?<![A-Za-z0-9])(?:${alternatives.join("|")})(?![A-Za-z0-9])`, "gi");
}

export class CaptionView {
  #partials = new Map(); // speaker → {node, stale}: what they are saying now
  #pattern = null;
  #following = true;

  /**
   * `log`: the list of final lines (inside the page's role="log" live region); `partialBox`: where partial lines go (outside
   * the live region: a screen reader hears each line once, when it is final); `scroller`: the
   * scrolling box; `jumpButton`: "Jump to live"; `onTermClick(term)`.
   */
  constructor({ log, partialBox, scroller, jumpButton, emptyNote, onTermClick }) {
    Object.assign(this, { log, partialBox, scroller, jumpButton, emptyNote, onTermClick });
    scroller.addEventListener("scroll", () => this.#onScroll(), { passive: true });
    jumpButton.addEventListener("click", () => this.jumpToLive());
    log.addEventListener("click", (click) => {
      const term = click.target.closest("button.term-link");
      if (term) this.onTermClick(term.dataset.term);
    });
  }

  /** A `transcript` event: a partial replaces the speaker's previous one; a final ends it. */
  add(event) {
    const speaker = event.speaker ?? "";
    this.#dropPartial(speaker);
    if (event.is_final) {
      this.log.append(this.#line(event));
    } else if (event.text.trim()) {
      const partial = this.#line(event);
      partial.classList.add("caption-partial");
      this.partialBox.append(partial);
      const stale = setTimeout(() => this.#dropPartial(speaker), STALE_PARTIAL_MS);
      this.#partials.set(speaker, { node: partial, stale });
    }
    this.#showEmptyNote();
    if (this.#following) this.#scrollToEnd();
  }

  /** The meeting ended: nobody is speaking any more. */
  clearPartials() {
    for (const speaker of [...this.#partials.keys()]) this.#dropPartial(speaker);
    this.#showEmptyNote();
  }

  /** Terms now known (a new card arrived): highlight them in every final line. */
  setKnownTerms(terms) {
    this.#pattern = termPattern(terms);
    for (const line of this.log.children) {
      const text = line.querySelector(".caption-text");
      this.#fillText(text, text.dataset.text);
    }
    // Highlighted terms may wrap lines differently: stay at the end when following.
    if (this.#following) this.#scrollToEnd();
  }

  jumpToLive() {
    this.#following = true;
    this.jumpButton.hidden = true;
    this.#scrollToEnd();
  }

  #line(event) {
    const when = clockTime(event.timestamp);
    const text = make("p", { className: "caption-text", attrs: { "data-text": event.text } });
    if (event.is_final) this.#fillText(text, event.text);
    else text.textContent = event.text;
    return make("li", { className: "caption", attrs: { "data-seq": String(event.seq) } }, [
      make("p", { className: "caption-meta" }, [
        event.speaker ? make("span", { className: "caption-speaker", text: event.speaker }) : null,
        when ? make("time", { text: when, attrs: { datetime: event.timestamp } }) : null,
      ]),
      text,
    ]);
  }

  #fillText(node, text) {
    node.replaceChildren();
    if (!this.#pattern) {
      node.textContent = text;
      return;
    }
    let from = 0;
    for (const match of text.matchAll(this.#pattern)) {
      node.append(text.slice(from, match.index));
      node.append(
        make("button", {
          className: "term-link",
          text: match[0],
          attrs: { type: "button", "data-term": match[0], title: "Show the explanation" },
        }),
      );
      from = match.index + match[0].length;
    }
    node.append(text.slice(from));
  }

  #dropPartial(speaker) {
    const partial = this.#partials.get(speaker);
    if (!partial) return;
    clearTimeout(partial.stale);
    partial.node.remove();
    this.#partials.delete(speaker);
  }

  #showEmptyNote() {
    this.emptyNote.hidden = this.log.childElementCount + this.partialBox.childElementCount > 0;
  }

  #scrollToEnd() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }

  #onScroll() {
    const { scrollHeight, scrollTop, clientHeight } = this.scroller;
    // Scrolling back down to the end resumes following, as in any chat.
    this.#following = scrollHeight - scrollTop - clientHeight <= AT_BOTTOM_PX;
    this.jumpButton.hidden = this.#following;
  }
}
