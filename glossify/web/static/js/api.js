// REST calls of protocol v1 with a bearer credential (a meeting token or a service key), and
// the plain-language sentence a person sees when one is refused.

export const EXPIRED_MESSAGE = "This link has expired — ask the host for a new one.";

/** A refused or failed request: `status` 0 and `code` "network" when nothing answered. */
export class ApiError extends Error {
  constructor(status, code, message, retryAfterS = null) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.retryAfterS = retryAfterS;
  }
}

function headersFor(credential, hasBody) {
  const headers = {};
  // The server refuses JSON bodies not labelled as JSON (415): cross-site forms cannot send it.
  if (hasBody) headers["Content-Type"] = "application/json";
  if (credential) headers.Authorization = `Bearer ${credential}`;
  return headers;
}

async function send(path, { credential, method = "GET", body } = {}) {
  const hasBody = body !== undefined;
  try {
    return await fetch(path, {
      method,
      headers: headersFor(credential, hasBody),
      body: hasBody ? JSON.stringify(body) : undefined,
      cache: "no-store",
    });
  } catch {
    throw new ApiError(0, "network", "the server cannot be reached");
  }
}

async function refusal(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // Not JSON: a proxy's error page. The status still says enough.
  }
  const retryAfter = Number.parseInt(response.headers.get("Retry-After") ?? "", 10);
  return new ApiError(
    response.status,
    body.code ?? `http_${response.status}`,
    body.message ?? response.statusText,
    Number.isFinite(retryAfter) ? retryAfter : null,
  );
}

/** The JSON answer of a request, or an ApiError. */
export async function requestJson(path, options = {}) {
  const response = await send(path, options);
  if (!response.ok) throw await refusal(response);
  return response.status === 204 ? null : response.json();
}

function filenameFrom(disposition) {
  const encoded = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition ?? "");
  if (encoded) return decodeURIComponent(encoded[1]);
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition ?? "");
  return plain ? plain[1] : null;
}

/**
 * Downloads an attachment that needs a bearer credential: a plain link cannot send the
 * Authorization header, so fetch it, then hand the browser the bytes as a Blob.
 * Returns the file name used.
 */
export async function downloadAttachment(path, credential, fallbackName) {
  const response = await send(path, { credential });
  if (!response.ok) throw await refusal(response);
  const blob = await response.blob();
  const name = filenameFrom(response.headers.get("Content-Disposition")) ?? fallbackName;
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  link.hidden = true;
  document.body.append(link);
  link.click();
  link.remove();
  // The download reads the Blob after this returns; release it once it surely has.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
  return name;
}

const FORBIDDEN = {
  role_too_low: (action) => `Your link does not allow you to ${action}.`,
  missing_scope: (action) => `This key is not allowed to ${action}.`,
  key_required: (action) => `Only a service key may ${action}; a meeting link cannot.`,
  wrong_meeting: (action) => `This link is for another meeting, so it cannot ${action}.`,
  origin_not_allowed: (action) => `This page's address is not allowed to ${action}.`,
};

/** What to tell a person whose attempt to `action` ("stop the meeting") failed. */
export function explainFailure(error, action) {
  if (!(error instanceof ApiError)) return `Could not ${action}: ${error?.message ?? error}.`;
  switch (error.status) {
    case 0:
      return `Could not ${action}: the server cannot be reached. Check the connection and try again.`;
    case 401:
      if (error.code === "expired") return EXPIRED_MESSAGE;
      if (error.code === "missing_credentials") return `Could not ${action}: a key or link is needed.`;
      return `Could not ${action}: this key or link is not valid.`;
    case 403:
      return (FORBIDDEN[error.code] ?? ((what) => `You are not allowed to ${what}.`))(action);
    case 404:
      return `Could not ${action}: not found (${error.message}).`;
    case 429:
      return `Too many requests — try again in ${error.retryAfterS ?? "a few"} s.`;
    default:
      return `Could not ${action}: ${error.message} (${error.status}).`;
  }
}

const KEY_STORAGE = "glossify.serviceKey";

/**
 * A pasted service key lives in this tab's sessionStorage only: it is gone when the tab
 * closes and no other tab or site can read it.
 */
export const serviceKey = {
  get: () => sessionStorage.getItem(KEY_STORAGE) ?? "",
  set: (key) => sessionStorage.setItem(KEY_STORAGE, key),
  forget: () => sessionStorage.removeItem(KEY_STORAGE),
};
