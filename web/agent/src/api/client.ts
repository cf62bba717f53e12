/** The typed API client: openapi-fetch over the generated schema, with auth and the 401 rule. */
import createClient, { type Client, type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema';

export type Schemas = components['schemas'];
export type Case = Schemas['Case'];
export type CaseStatus = Schemas['CaseStatus'];
export type Priority = Schemas['Priority'];
export type Channel = Schemas['Channel'];
export type Agent = Schemas['Agent'];
export type Team = Schemas['Team'];
export type Interaction = Schemas['Interaction'];
export type AttachmentRef = Schemas['AttachmentRef'];
export type Problem = Schemas['Problem'];
export type ViewId = Schemas['ViewId'];
export type BulkResult = Schemas['BulkResult'];
export type TimelineEntry = Schemas['TimelineEntry'];
export type TimelineKind = Schemas['TimelineKind'];

export type Api = Client<paths>;

export const CHANNELS: Channel[] = ['email', 'chat', 'phone', 'web', 'social', 'api'];
export const STATUSES: CaseStatus[] = ['new', 'open', 'pending', 'on_hold', 'solved', 'closed'];
export const PRIORITIES: Priority[] = ['low', 'normal', 'high', 'urgent'];
export const TIMELINE_KINDS: TimelineKind[] = [
  'interaction', 'case_event', 'order', 'payment', 'crash_report', 'crm_change', 'portal_visit', 'profile_change',
];

export class ApiError extends Error {
  readonly status: number;
  readonly problem: Partial<Problem> | undefined;

  constructor(status: number, problem: Partial<Problem> | undefined) {
    super(problem?.detail || problem?.title || `request failed (${status})`);
    this.status = status;
    this.problem = problem;
  }
}

export interface ApiOptions {
  baseUrl: string;
  getToken: () => string | null;
  onUnauthorized: () => void;
  /** Sent as X-Api-Key when the deployment meters web clients by a usage plan. */
  apiKey?: string;
  fetch?: typeof fetch;
}

export function createApi({ baseUrl, getToken, onUnauthorized, apiKey, fetch: fetchImpl }: ApiOptions): Api {
  // Requests are built with absolute URLs: "same origin" (an empty api_base) means this page's origin.
  const origin = baseUrl || globalThis.location?.origin || '';
  const client = createClient<paths>({ baseUrl: origin, fetch: fetchImpl ?? ((input) => globalThis.fetch(input)) });
  const auth: Middleware = {
    onRequest({ request }) {
      const token = getToken();
      if (token) request.headers.set('Authorization', `Bearer ${token}`);
      if (apiKey) request.headers.set('X-Api-Key', apiKey);
      return request;
    },
    onResponse({ response }) {
      if (response.status === 401) onUnauthorized();
      return response;
    },
  };
  client.use(auth);
  return client;
}

/** The If-Match value for a case version (the API's ETag is the quoted version). */
export function ifMatch(version: number): string {
  return `"${version}"`;
}

/** The version an ETag header names, or null. */
export function versionFromEtag(etag: string | null | undefined): number | null {
  const match = etag?.match(/^(?:W\/)?"?(\d+)"?$/);
  return match ? Number(match[1]) : null;
}

export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}

interface FetchResult<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The body of a successful call, or an ApiError carrying the problem details. */
export function unwrap<T>(result: FetchResult<T>): T {
  if (result.error !== undefined || !result.response.ok) {
    throw new ApiError(result.response.status, result.error as Partial<Problem> | undefined);
  }
  return result.data as T;
}
