// Small DOM helpers the pages share: no framework, only what the pages repeat.

/** The element with this id; a missing one is a bug in the page's HTML, so say which. */
export function byId(id) {
  const found = document.getElementById(id);
  if (!found) throw new Error(`the page has no #${id}`);
  return found;
}

/**
 * A new element. Text goes in as text, never as HTML: captions, explanations and names come
 * from speech, a model or other people, and are shown exactly as written.
 */
export function make(tag, { className, text, attrs } = {}, children = []) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [name, value] of Object.entries(attrs ?? {})) node.setAttribute(name, value);
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

/**
 * Puts a message in a message element; an empty message hides it (the stylesheet hides
 * `.message:empty`), which keeps live regions in the page so screen readers hear changes.
 * `tone` is one of "info", "ok", "warn", "error".
 */
export function say(node, text, tone = "info") {
  node.textContent = text ?? "";
  node.dataset.tone = tone;
}

/** "14:03:07" in the reader's own time zone; "" for a missing or unreadable timestamp. */
export function clockTime(timestamp) {
  const when = new Date(timestamp ?? "");
  if (Number.isNaN(when.getTime())) return "";
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

/** Copies text to the clipboard; where the browser refuses, selects `field` for Ctrl+C. */
export async function copyText(text, field) {
  try {
    await navigator.clipboard.writeText(text);
    return "Copied.";
  } catch {
    // No clipboard permission (an embedded frame, an old browser): let the reader copy it.
    if (field) {
      field.focus();
      field.select();
    }
    return "Press Ctrl+C (⌘C) to copy the selected link.";
  }
}
