// The JSON API of `carebase serve` (docs/api.md). The session is an
// HttpOnly cookie; state-changing calls send the CSRF token from login or
// /api/me. A 401 anywhere sends the user back to the login page.

let csrf = null;
let onUnauthenticated = () => {};

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

export function setUnauthenticatedHandler(fn) { onUnauthenticated = fn; }

async function request(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['X-CSRF-Token'] = csrf;
  const r = await fetch(path, {
    method, headers, credentials: 'same-origin', cache: 'no-store',
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  let data = null;
  try { data = await r.json(); } catch { data = null; }
  if (!r.ok) {
    const e = data && data.error ? data.error : {};
    if (r.status === 401 && e.code === 'unauthenticated') onUnauthenticated();
    throw new ApiError(r.status, e.code, e.message);
  }
  return data;
}

export function get(path, params) {
  const q = params ? new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== '')) : null;
  return request('GET', q && [...q].length ? `${path}?${q}` : path);
}

export async function login(user, password) {
  const r = await request('POST', '/api/login', { user, password });
  csrf = r.csrf;
  return r;
}

export async function me() {
  const r = await request('GET', '/api/me');
  csrf = r.csrf;
  return r;
}

export async function logout() {
  try { await request('POST', '/api/logout', {}); } finally { csrf = null; }
}
