import { describe, expect, it, vi } from 'vitest';
import { ApiError, createApi, ifMatch, unwrap, versionFromEtag } from '../src/api/client';

function recorder(respond: (request: Request) => Response) {
  const requests: Request[] = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL) => {
    const request = input as Request;
    requests.push(request);
    return respond(request);
  });
  return { requests, fetchImpl: fetchImpl as unknown as typeof fetch };
}

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'Content-Type': 'application/json', ...headers } });

describe('API client', () => {
  it('sends the bearer token from the session', async () => {
    const { requests, fetchImpl } = recorder(() => json({ items: [] }));
    const api = createApi({ baseUrl: 'http://api.test', getToken: () => 'T1', onUnauthorized: () => {}, fetch: fetchImpl });
    await api.GET('/views');
    expect(requests[0].url).toBe('http://api.test/views');
    expect(requests[0].headers.get('Authorization')).toBe('Bearer T1');
  });

  it('sends the usage-plan key when the deployment has one, and none otherwise', async () => {
    const { requests, fetchImpl } = recorder(() => json({ items: [] }));
    const metered = createApi({
      baseUrl: 'http://api.test', getToken: () => 'T1', onUnauthorized: () => {}, apiKey: 'k-123', fetch: fetchImpl,
    });
    await metered.GET('/views');
    const plain = createApi({ baseUrl: 'http://api.test', getToken: () => 'T1', onUnauthorized: () => {}, fetch: fetchImpl });
    await plain.GET('/views');
    expect(requests[0].headers.get('X-Api-Key')).toBe('k-123');
    expect(requests[1].headers.has('X-Api-Key')).toBe(false);
  });

  it('sends no Authorization header without a token', async () => {
    const { requests, fetchImpl } = recorder(() => json({ items: [] }));
    const api = createApi({ baseUrl: 'http://api.test', getToken: () => null, onUnauthorized: () => {}, fetch: fetchImpl });
    await api.GET('/views');
    expect(requests[0].headers.has('Authorization')).toBe(false);
  });

  it('calls onUnauthorized on 401 and surfaces the problem', async () => {
    const onUnauthorized = vi.fn();
    const { fetchImpl } = recorder(() =>
      json({ type: 'x', title: 'Unauthorized', status: 401, detail: 'invalid token' }, 401),
    );
    const api = createApi({ baseUrl: 'http://api.test', getToken: () => 'old', onUnauthorized, fetch: fetchImpl });
    const result = await api.GET('/agents/me');
    expect(onUnauthorized).toHaveBeenCalledTimes(1);
    expect(() => unwrap(result)).toThrow(ApiError);
    try {
      unwrap(result);
    } catch (error) {
      expect((error as ApiError).status).toBe(401);
      expect((error as ApiError).message).toBe('invalid token');
    }
  });

  it('puts If-Match on PATCH and Idempotency-Key on create', async () => {
    const { requests, fetchImpl } = recorder((request) =>
      request.method === 'PATCH' ? json({ id: 'A' }, 200, { ETag: '"8"' }) : json({ id: 'N' }, 201),
    );
    const api = createApi({ baseUrl: 'http://api.test', getToken: () => 'T', onUnauthorized: () => {}, fetch: fetchImpl });
    const patched = await api.PATCH('/cases/{case_id}', {
      params: { path: { case_id: '01J0000000000000000000000A' }, header: { 'if-match': ifMatch(7) } },
      body: { status: 'pending' },
    });
    expect(requests[0].headers.get('if-match')).toBe('"7"');
    expect(await requests[0].clone().json()).toEqual({ status: 'pending' });
    expect(versionFromEtag(patched.response.headers.get('ETag'))).toBe(8);
    await api.POST('/cases/{case_id}/notes', {
      params: { path: { case_id: '01J0000000000000000000000A' }, header: { 'Idempotency-Key': 'k-1' } },
      body: { text: 'hello @dev' },
    });
    expect(requests[1].headers.get('Idempotency-Key')).toBe('k-1');
  });

  it('reads versions from strong and weak ETags', () => {
    expect(versionFromEtag('"12"')).toBe(12);
    expect(versionFromEtag('W/"3"')).toBe(3);
    expect(versionFromEtag('3')).toBe(3);
    expect(versionFromEtag('abc')).toBeNull();
    expect(versionFromEtag(null)).toBeNull();
  });
});
