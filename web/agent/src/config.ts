/** Runtime configuration served next to the SPA as /config.json (the local gateway or the AWS web stack). */
export type AuthConfig =
  | { mode: 'local' }
  | { mode: 'cognito'; domain: string; client_id: string; redirect_uri: string };

export interface RuntimeConfig {
  api_base: string;
  ws_url: string;
  auth: AuthConfig;
  default_locale: string;
  /** The first-party usage plan's key (AWS); API Gateway meters web clients by it. Not a secret. */
  api_key?: string;
}

export function parseConfig(raw: unknown, location: Pick<Location, 'protocol' | 'host'>): RuntimeConfig {
  const data = (raw && typeof raw === 'object' ? raw : {}) as Partial<RuntimeConfig>;
  const wsScheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const auth = data.auth && data.auth.mode === 'cognito' ? data.auth : ({ mode: 'local' } as const);
  return {
    api_base: (data.api_base ?? '').replace(/\/+$/, ''),
    ws_url: data.ws_url || `${wsScheme}//${location.host}/ws`,
    auth,
    default_locale: data.default_locale || 'en',
    ...(data.api_key ? { api_key: data.api_key } : {}),
  };
}

export async function loadConfig(): Promise<RuntimeConfig> {
  let raw: unknown = {};
  try {
    const response = await fetch('/config.json', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (response.ok) raw = await response.json();
  } catch {
    // No config served (a bare static host): same-origin API and local sign-in.
  }
  return parseConfig(raw, window.location);
}
