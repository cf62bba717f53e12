/** Calls to routes outside the generated schema (attachments), with the same auth and problem handling. */
import { getToken } from '../auth/session';
import { ApiError, type Problem } from './client';

export async function requestJson<T>(baseUrl: string, path: string, init: RequestInit = {}): Promise<T> {
  const headers = new Headers(init.headers);
  headers.set('Accept', 'application/json');
  if (init.body && !headers.has('Content-Type')) headers.set('Content-Type', 'application/json');
  const token = getToken();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  const response = await fetch(`${baseUrl}${path}`, { ...init, headers });
  const text = await response.text();
  const body = text ? (JSON.parse(text) as unknown) : undefined;
  if (!response.ok) throw new ApiError(response.status, body as Partial<Problem> | undefined);
  return body as T;
}

export interface DownloadLink {
  url: string;
  expires_at?: string;
  filename?: string;
  content_type?: string;
}

export interface UploadTicket {
  upload_url: string;
  method: string;
  headers: Record<string, string>;
  attachment: { key: string; filename: string; content_type: string; size: number; sha256: string };
}
