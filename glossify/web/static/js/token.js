// A meeting link carries its token in the fragment (#token=…), which browsers never send to
// a server, so it stays out of access logs. The page reads the token's claims only to label
// itself and to choose which controls to show; the server checks every request.

const ROLE_RANK = Object.freeze({ listener: 1, speaker: 2, host: 3 });

/** The token in a fragment such as "#token=eyJ…", or null when there is none. */
export function tokenFromFragment(fragment) {
  const token = new URLSearchParams((fragment ?? "").replace(/^#/, "")).get("token");
  return token && token.split(".").length === 3 ? token : null;
}

/** The token's claims ({mid, role, sub, exp, …}), unverified; null when unreadable. */
export function readClaims(token) {
  try {
    const base64 = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = base64 + "=".repeat((4 - (base64.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (char) => char.charCodeAt(0));
    // UTF-8: display names may be in any script ("김민지").
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims !== null && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

/** Whether `role` may do what `needed` may (listener < speaker < host). */
export function roleAllows(role, needed) {
  return (ROLE_RANK[role] ?? 0) >= ROLE_RANK[needed];
}

/** The meeting id in a meeting page's path (/m/{mid}), or null. */
export function meetingIdFromPath(pathname) {
  const match = /^\/m\/([A-Za-z0-9_-]{1,64})\/?$/.exec(pathname);
  return match ? match[1] : null;
}
