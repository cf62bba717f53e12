import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { IntlProvider } from 'react-intl';
import { describe, expect, it } from 'vitest';
import { type Agent, createApi } from '../src/api/client';
import { RoutingDecision } from '../src/case/AuditTrail';
import type { RuntimeConfig } from '../src/config';
import { AppContext } from '../src/context';
import { de } from '../src/i18n/messages/de';
import { en } from '../src/i18n/messages/en';
import { AvailabilitySelect } from '../src/shell/AvailabilitySelect';

const ME: Agent = {
  id: '01J00000000000000000000001',
  name: 'Ada Agent',
  email: 'ada@caseline.dev',
  handle: 'ada',
  role: 'agent',
  availability: 'away',
  capacity: 10,
  time_zone: 'Europe/Berlin',
};

/** The availability endpoint as the API has it: it answers with the updated agent, or a problem. */
function fakeServer(status = 200) {
  const puts: { path: string; body: unknown }[] = [];
  const fetchImpl = async (input: RequestInfo | URL): Promise<Response> => {
    const request = input as Request;
    const path = new URL(request.url).pathname;
    const body = await request.clone().json();
    puts.push({ path, body });
    if (status !== 200) {
      return new Response(JSON.stringify({ type: 'x', title: 'Forbidden', status, detail: 'no' }), {
        status,
        headers: { 'Content-Type': 'application/problem+json' },
      });
    }
    return new Response(JSON.stringify({ ...ME, ...(body as object) }), {
      status: 200,
      headers: { 'Content-Type': 'application/json' },
    });
  };
  return { puts, fetchImpl: fetchImpl as typeof fetch };
}

function wrap(children: ReactNode, fetchImpl: typeof fetch, client: QueryClient, messages: Record<string, string> = en) {
  const api = createApi({ baseUrl: 'http://api.test', getToken: () => 'T', onUnauthorized: () => {}, fetch: fetchImpl });
  const config: RuntimeConfig = { api_base: 'http://api.test', ws_url: 'ws://x/ws', auth: { mode: 'local' }, default_locale: 'en' };
  return (
    <AppContext.Provider value={{ api, config }}>
      <QueryClientProvider client={client}>
        <MantineProvider env="test">
          <IntlProvider locale="en" messages={messages}>
            {children}
          </IntlProvider>
        </MantineProvider>
      </QueryClientProvider>
    </AppContext.Provider>
  );
}

describe('AvailabilitySelect', () => {
  it('shows the current availability and sets a new one on the signed-in agent', async () => {
    const server = fakeServer();
    const client = new QueryClient();
    client.setQueryData(['me'], ME);
    render(wrap(<AvailabilitySelect me={ME} />, server.fetchImpl, client));
    const select = screen.getByLabelText('Availability') as HTMLSelectElement;
    expect(select.value).toBe('away');
    expect(within(select).getAllByRole('option').map((o) => o.textContent)).toEqual(['Online', 'Away', 'Offline']);

    await userEvent.selectOptions(select, 'online');

    await waitFor(() => expect(client.getQueryData<Agent>(['me'])?.availability).toBe('online'));
    expect(server.puts).toEqual([{ path: `/agents/${ME.id}/availability`, body: { availability: 'online' } }]);
  });

  it('says so when the change is refused', async () => {
    const server = fakeServer(403);
    render(wrap(<AvailabilitySelect me={ME} />, server.fetchImpl, new QueryClient()));
    await userEvent.selectOptions(screen.getByLabelText('Availability'), 'offline');
    expect(await screen.findByText('Your availability could not be changed.')).toBeTruthy();
  });
});

describe('RoutingDecision', () => {
  const changes = {
    trigger: { after: 'case_opened' },
    outcome: { after: 'assigned' },
    method: { after: 'skills' },
    assignee_id: { before: null, after: ME.id },
    reasons: { after: ['category billing needs skill billing', 'team T: Ada fits, with 0 open cases'] },
  };

  it('names the agent and lists every reason in order', () => {
    render(wrap(<RoutingDecision changes={changes} names={new Map([[ME.id, ME.name]])} />, fetch, new QueryClient()));
    expect(screen.getByText('Routed to Ada Agent')).toBeTruthy();
    const reasons = within(screen.getByRole('list', { name: 'Why' })).getAllByRole('listitem');
    expect(reasons.map((li) => li.textContent)).toEqual(changes.reasons.after);
  });

  it('names the agents and teams the reasons mention by id', () => {
    const teamId = '01J0000000000000000000TEAM';
    const named = { ...changes, reasons: { after: [`team ${teamId}: ${ME.id} fits, with 0 open cases`] } };
    const names = new Map([[ME.id, ME.name], [teamId, 'Billing']]);
    render(wrap(<RoutingDecision changes={named} names={names} />, fetch, new QueryClient()));
    const [reason] = within(screen.getByRole('list', { name: 'Why' })).getAllByRole('listitem');
    expect(reason.textContent).toBe('team Billing: Ada Agent fits, with 0 open cases');
  });

  it('speaks German when the desk does', () => {
    const queued = { ...changes, outcome: { after: 'queued' }, method: { after: 'none' }, assignee_id: { after: null } };
    render(wrap(<RoutingDecision changes={queued} names={new Map()} />, fetch, new QueryClient(), de));
    expect(screen.getByText('Wartet: niemand konnte den Fall übernehmen')).toBeTruthy();
    expect(screen.getByRole('list', { name: 'Begründung' })).toBeTruthy();
  });
});
