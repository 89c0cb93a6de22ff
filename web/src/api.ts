// HTTP access to the truce API. A member's token (when the server has tokens) is kept in
// sessionStorage and sent as `Authorization: Bearer`; nothing else is stored in the browser.

const TOKEN_KEY = 'truce.token';
const PARTY_KEY = 'truce.party';

export interface Session {
  token: string | null;
  party: string | null;
}

export function session(): Session {
  return { token: sessionStorage.getItem(TOKEN_KEY), party: sessionStorage.getItem(PARTY_KEY) };
}

export function signIn(token: string, party: string): void {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
  if (party) sessionStorage.setItem(PARTY_KEY, party);
  else sessionStorage.removeItem(PARTY_KEY);
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(PARTY_KEY);
}

export class ApiError extends Error {}

async function request(path: string): Promise<Response> {
  const headers: Record<string, string> = {};
  const { token } = session();
  if (token) headers.Authorization = `Bearer ${token}`;
  const res = await fetch(path, { headers });
  if (!res.ok) {
    let detail = `${res.status} ${res.statusText}`;
    try {
      const p = await res.json();
      if (p && typeof p.detail === 'string') detail = `${res.status}: ${p.detail}`;
    } catch {
      // not a problem document; keep the status line
    }
    throw new ApiError(`${path}: ${detail}`);
  }
  return res;
}

export async function getJson<T>(path: string): Promise<T> {
  return (await request(path)).json() as Promise<T>;
}

export async function getText(path: string): Promise<string> {
  return (await request(path)).text();
}
