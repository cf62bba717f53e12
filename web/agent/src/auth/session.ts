/** The bearer token lives in sessionStorage: one tab, gone when the tab closes. */
const TOKEN_KEY = 'caseline.token';
const EXPIRES_KEY = 'caseline.token_expires_at';
const RETURN_KEY = 'caseline.return_to';

type Listener = () => void;
const listeners = new Set<Listener>();

export function getToken(): string | null {
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (!token) return null;
  const expires = sessionStorage.getItem(EXPIRES_KEY);
  if (expires && Date.parse(expires) <= Date.now()) {
    clearToken();
    return null;
  }
  return token;
}

export function setToken(token: string, expiresAt?: string | null): void {
  sessionStorage.setItem(TOKEN_KEY, token);
  if (expiresAt) sessionStorage.setItem(EXPIRES_KEY, expiresAt);
  else sessionStorage.removeItem(EXPIRES_KEY);
  listeners.forEach((listener) => listener());
}

export function clearToken(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  sessionStorage.removeItem(EXPIRES_KEY);
  listeners.forEach((listener) => listener());
}

export function onTokenChange(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Where to go back to after signing in again. */
export function rememberReturnTo(path: string): void {
  if (path.startsWith('/desk/')) sessionStorage.setItem(RETURN_KEY, path);
}

export function takeReturnTo(): string {
  const path = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  return path && path.startsWith('/desk/') ? path : '/desk/views/mine';
}
