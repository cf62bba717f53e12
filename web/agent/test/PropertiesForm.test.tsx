import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { IntlProvider } from 'react-intl';
import { describe, expect, it } from 'vitest';
import { type Case, createApi } from '../src/api/client';
import { PropertiesForm } from '../src/case/PropertiesForm';
import type { RuntimeConfig } from '../src/config';
import { AppContext } from '../src/context';
import { en } from '../src/i18n/messages/en';

const ID = '01J00000000000000000000000';

/** A tiny in-memory API: the case with a version, If-Match checked like the real one. */
function fakeServer(initial: Case) {
  let current = { ...initial };
  const seen: { method: string; path: string; ifMatch: string | null; body: unknown }[] = [];
  const fetchImpl = async (input: RequestInfo | URL): Promise<Response> => {
    const request = input as Request;
    const path = new URL(request.url).pathname;
    const body = request.method === 'GET' ? undefined : await request.clone().json();
    seen.push({ method: request.method, path, ifMatch: request.headers.get('if-match'), body });
    const reply = (status: number, payload: unknown) =>
      new Response(JSON.stringify(payload), {
        status,
        headers: { 'Content-Type': status >= 400 ? 'application/problem+json' : 'application/json', ETag: `"${current.version}"` },
      });
    if (request.method === 'GET' && path === `/cases/${ID}`) return reply(200, { case: current, interactions: [] });
    if (path === '/agents' || path === '/teams') return reply(200, { items: [] });
    if (request.method === 'PATCH' || request.method === 'PUT') {
      if (request.headers.get('if-match') !== `"${current.version}"`) {
        return reply(412, { type: 'x', title: 'Precondition Failed', status: 412, detail: 'stale', current_version: current.version });
      }
      current = { ...current, ...(body as object), version: (current.version ?? 1) + 1 };
      return reply(200, current);
    }
    return reply(404, { type: 'x', title: 'Not Found', status: 404, detail: path });
  };
  return {
    seen,
    fetchImpl: fetchImpl as typeof fetch,
    current: () => current,
    /** Someone at another desk saves first. */
    otherDeskSaves(changes: Partial<Case>) {
      current = { ...current, ...changes, version: (current.version ?? 1) + 1 };
    },
  };
}

function renderForm(item: Case, server: ReturnType<typeof fakeServer>) {
  const api = createApi({ baseUrl: 'http://api.test', getToken: () => 'T', onUnauthorized: () => {}, fetch: server.fetchImpl });
  const config: RuntimeConfig = { api_base: 'http://api.test', ws_url: 'ws://x/ws', auth: { mode: 'local' }, default_locale: 'en' };
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  return render(
    <AppContext.Provider value={{ api, config }}>
      <QueryClientProvider client={client}>
        <MantineProvider env="test">
          <IntlProvider locale="en" messages={en}>
            <PropertiesForm item={item} etag={`"${item.version}"`} />
          </IntlProvider>
        </MantineProvider>
      </QueryClientProvider>
    </AppContext.Provider>,
  );
}

const start: Case = {
  id: ID,
  number: 42,
  subject: 'Printer on fire',
  channel: 'email',
  requester_id: '01J0000000000000000000000R',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  status: 'open',
  priority: 'normal',
  tags: ['hardware'],
  category: null,
  version: 3,
};

describe('case properties form', () => {
  it('saves only the changed fields with If-Match', async () => {
    const server = fakeServer(start);
    renderForm(start, server);
    const form = screen.getByRole('form', { name: 'Case properties' });
    await userEvent.selectOptions(within(form).getByLabelText('Priority'), 'high');
    await userEvent.click(within(form).getByRole('button', { name: 'Save changes' }));
    await waitFor(() => expect(server.current().priority).toBe('high'));
    const patch = server.seen.find((call) => call.method === 'PATCH');
    expect(patch).toMatchObject({ ifMatch: '"3"', body: { priority: 'high' } });
    expect(server.seen.some((call) => call.method === 'PUT')).toBe(false);
  });

  it('shows what someone else changed on 412 and re-applies mine on top with the new ETag', async () => {
    const server = fakeServer(start);
    renderForm(start, server);
    const form = screen.getByRole('form', { name: 'Case properties' });
    await userEvent.selectOptions(within(form).getByLabelText('Priority'), 'urgent');
    server.otherDeskSaves({ status: 'pending', tags: ['hardware', 'vip'] });
    await userEvent.click(within(form).getByRole('button', { name: 'Save changes' }));

    const dialog = await screen.findByRole('alertdialog', { name: 'This case changed' });
    const rows = within(dialog).getAllByRole('row').slice(1).map((row) => row.textContent);
    expect(rows).toEqual(['StatusPendingOpen', 'Tagshardware, viphardware']);
    // Nothing of mine was written yet.
    expect(server.current()).toMatchObject({ status: 'pending', priority: 'normal', version: 4 });

    await userEvent.click(within(dialog).getByRole('button', { name: 'Apply my changes again' }));
    await waitFor(() => expect(server.current().priority).toBe('urgent'));
    expect(server.current()).toMatchObject({ status: 'pending', tags: ['hardware', 'vip'], version: 5 });
    const patches = server.seen.filter((call) => call.method === 'PATCH');
    expect(patches.map((call) => call.ifMatch)).toEqual(['"3"', '"4"']);
    expect(patches[1].body).toEqual({ priority: 'urgent' });
  });

  it('"Use their version" drops my edits and shows theirs', async () => {
    const server = fakeServer(start);
    renderForm(start, server);
    const form = screen.getByRole('form', { name: 'Case properties' });
    await userEvent.selectOptions(within(form).getByLabelText('Status'), 'solved');
    server.otherDeskSaves({ status: 'pending' });
    await userEvent.click(within(form).getByRole('button', { name: 'Save changes' }));
    const dialog = await screen.findByRole('alertdialog', { name: 'This case changed' });
    expect(within(dialog).getByRole('row', { name: /Status/ })).toHaveTextContent('StatusPendingSolved');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Use their version' }));
    await waitFor(() => expect(screen.queryByRole('alertdialog')).toBeNull());
    expect(within(form).getByLabelText('Status')).toHaveValue('pending');
    expect(server.current()).toMatchObject({ status: 'pending', version: 4 });
    expect(within(form).getByRole('button', { name: 'Save changes' })).toBeDisabled();
  });
});
