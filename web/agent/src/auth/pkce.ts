/** Cognito hosted UI with the authorization-code flow and PKCE (RFC 7636). */
import type { AuthConfig } from '../config';

type CognitoConfig = Extract<AuthConfig, { mode: 'cognito' }>;
const VERIFIER_KEY = 'caseline.pkce_verifier';
const STATE_KEY = 'caseline.pkce_state';

function base64url(bytes: Uint8Array): string {
  let binary = '';
  bytes.forEach((byte) => (binary += String.fromCharCode(byte)));
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

export function randomVerifier(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  return base64url(bytes);
}

export async function challengeFor(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

export async function authorizeUrl(config: CognitoConfig): Promise<string> {
  const verifier = randomVerifier();
  const state = randomVerifier();
  sessionStorage.setItem(VERIFIER_KEY, verifier);
  sessionStorage.setItem(STATE_KEY, state);
  const params = new URLSearchParams({
    response_type: 'code',
    client_id: config.client_id,
    redirect_uri: config.redirect_uri,
    scope: 'openid email profile',
    state,
    code_challenge_method: 'S256',
    code_challenge: await challengeFor(verifier),
  });
  return `${config.domain.replace(/\/+$/, '')}/oauth2/authorize?${params}`;
}

export interface TokenResult {
  token: string;
  expiresAt: string;
}

/** Exchanges the code the hosted UI sent back; the ID token carries the groups and our custom claims. */
export async function exchangeCode(config: CognitoConfig, code: string, state: string | null): Promise<TokenResult> {
  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  const expected = sessionStorage.getItem(STATE_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  sessionStorage.removeItem(STATE_KEY);
  if (!verifier || !expected || state !== expected) throw new Error('sign-in state does not match; start again');
  const response = await fetch(`${config.domain.replace(/\/+$/, '')}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: config.client_id,
      code,
      redirect_uri: config.redirect_uri,
      code_verifier: verifier,
    }),
  });
  if (!response.ok) throw new Error(`token exchange failed (${response.status})`);
  const body = (await response.json()) as { id_token: string; expires_in: number };
  return { token: body.id_token, expiresAt: new Date(Date.now() + body.expires_in * 1000).toISOString() };
}
