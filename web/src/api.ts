// HTTP access to the truce API. The member's API token is kept in sessionStorage (gone when
// the tab closes) and sent as `Authorization: Bearer`; nothing else is stored in the browser.

const TOKEN_KEY = 'truce.token';

export function token(): string | null {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function signIn(t: string): void {
  sessionStorage.setItem(TOKEN_KEY, t);
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  constructor(message: string, readonly status: number) {
    super(message);
  }
}

export function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

async function request(path: string): Promise<Response> {
  const res = await fetch(path, { headers: authHeaders() });
  if (!res.ok) {
    let detail = `${res.status} ${res.statusText}`;
    try {
      const p = await res.json();
      if (p && typeof p.detail === 'string') detail = `${res.status}: ${p.detail}`;
    } catch {
      // not a problem document; keep the status line
    }
    throw new ApiError(`${path}: ${detail}`, res.status);
  }
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await request(path)).json() as Promise<T>;
}

export async function getText(path: string): Promise<string> {
  return (await request(path)).text();
}

/**
 * Follows a Server-Sent Events stream with the token in a header (which EventSource cannot
 * send): reads the body with fetch, dispatches each message, and reconnects after a drop with
 * `Last-Event-ID`, so that no message is lost or repeated.
 */
export async function followSse(
  path: string,
  onMessage: (event: string, data: string) => void,
  onOpen: () => void,
): Promise<void> {
  let lastId: string | null = null;
  for (;;) {
    try {
      const headers = authHeaders();
      if (lastId !== null) headers['Last-Event-ID'] = lastId;
      const res = await fetch(path, { headers: { ...headers, Accept: 'text/event-stream' } });
      if (!res.ok || !res.body) throw new ApiError(`${path}: ${res.status}`, res.status);
      onOpen();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      let event = 'message';
      let data: string[] = [];
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let nl;
        while ((nl = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, nl).replace(/\r$/, '');
          buffer = buffer.slice(nl + 1);
          if (line === '') {
            if (data.length) onMessage(event, data.join('\n'));
            event = 'message';
            data = [];
          } else if (line.startsWith(':')) {
            // a comment (keep-alive)
          } else {
            const colon = line.indexOf(':');
            const field = colon < 0 ? line : line.slice(0, colon);
            const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (field === 'event') event = val;
            else if (field === 'data') data.push(val);
            else if (field === 'id') lastId = val;
          }
        }
      }
    } catch (e) {
      if (e instanceof ApiError && (e.status === 401 || e.status === 403 || e.status === 404)) return;
    }
    await new Promise((r) => setTimeout(r, 3000));
  }
}
