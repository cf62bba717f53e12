import { MantineProvider } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import type { ReactNode } from 'react';
import { IntlProvider } from 'react-intl';
import { describe, expect, it } from 'vitest';
import RulesScreen, { RulesPage, type RuleRecord, moved } from '../src/admin/RulesScreen';
import { type Agent, createApi } from '../src/api/client';
import { RulesEvaluated } from '../src/case/AuditTrail';
import type { RuntimeConfig } from '../src/config';
import { AppContext } from '../src/context';
import { de } from '../src/i18n/messages/de';
import { en } from '../src/i18n/messages/en';

function record(id: string, name: string, position: number, extra: Partial<RuleRecord['rule']> = {}): RuleRecord {
  return {
    id,
    position,
    version: 1,
    enabled: extra.enabled ?? true,
    updated_at: '2026-12-01T10:00:00Z',
    updated_by: 'ada',
    rule: {
      id, name, description: '', enabled: true, stop: false, triggers: ['case_opened'], when: null,
      actions: [{ type: 'add_tags', tags: ['x'] }], ...extra,
    },
  };
}

const RULES = [
  record('billing-to-billing-team', 'Billing questions go to the Billing team', 0),
  record('big-spender-high-priority', 'Big spenders get high priority', 1),
  record('no-agent-response-escalate', 'No agent response in 4 hours', 2, { triggers: ['case_opened', 'timer'] }),
];

type Call = { method: string; path: string; ifMatch: string | null; body: unknown };
type Answer = { status: number; body: unknown };

/** The rules API as the server has it: each call is recorded; `answers` may override a response. */
function fakeServer(answers: Record<string, Answer> = {}) {
  const calls: Call[] = [];
  let items = RULES;
  let version = 1;
  const fetchImpl = async (input: RequestInfo | URL): Promise<Response> => {
    const request = input as Request;
    const path = new URL(request.url).pathname;
    const text = await request.clone().text();
    const body = text ? JSON.parse(text) : undefined;
    calls.push({ method: request.method, path, ifMatch: request.headers.get('If-Match'), body });
    const key = `${request.method} ${path}`;
    const reply = (status: number, payload: unknown) =>
      new Response(JSON.stringify(payload), {
        status,
        headers: { 'Content-Type': status < 400 ? 'application/json' : 'application/problem+json' },
      });
    if (answers[key]) return reply(answers[key].status, answers[key].body);
    if (key === 'GET /rules') return reply(200, { items, version });
    if (key === 'PUT /rules/order') {
      const ids = (body as { ids: string[] }).ids;
      items = ids.map((id, position) => ({ ...items.find((r) => r.id === id)!, position }));
      version += 1;
      return reply(200, { items, version });
    }
    const toggle = path.match(/^\/rules\/([^/]+)\/(disable|enable)$/);
    if (toggle) {
      items = items.map((r) => (r.id === toggle[1] ? { ...r, enabled: toggle[2] === 'enable', version: r.version + 1 } : r));
      return reply(200, items.find((r) => r.id === toggle[1]));
    }
    return reply(404, { type: 'x', title: 'Not Found', status: 404, detail: 'no' });
  };
  return { calls, fetchImpl: fetchImpl as typeof fetch };
}

function wrap(children: ReactNode, fetchImpl: typeof fetch, client = new QueryClient(), messages: Record<string, string> = en) {
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

const rowNames = () =>
  screen.getAllByRole('row').slice(1).map((row) => row.getAttribute('aria-label'));

describe('moved', () => {
  it('swaps a rule with its neighbour and leaves the ends alone', () => {
    expect(moved(['a', 'b', 'c'], 0, 1)).toEqual(['b', 'a', 'c']);
    expect(moved(['a', 'b', 'c'], 2, -1)).toEqual(['a', 'c', 'b']);
    expect(moved(['a', 'b', 'c'], 0, -1)).toEqual(['a', 'b', 'c']);
  });
});

describe('Rules page', () => {
  it('lists the rules in order and moves one down with the listing version as If-Match', async () => {
    const server = fakeServer();
    render(wrap(<RulesPage admin />, server.fetchImpl));
    await screen.findByRole('table', { name: 'Automation rules' });
    expect(rowNames()).toEqual(RULES.map((r) => r.rule.name));
    const first = screen.getByRole('row', { name: RULES[0].rule.name });
    expect(within(first).getByRole('button', { name: 'Move up' })).toBeDisabled();

    await userEvent.click(within(first).getByRole('button', { name: 'Move down' }));

    await waitFor(() => expect(rowNames()[1]).toBe(RULES[0].rule.name));
    const put = server.calls.find((c) => c.method === 'PUT')!;
    expect(put).toMatchObject({ path: '/rules/order', ifMatch: '"1"' });
    expect(put.body).toEqual({ ids: ['big-spender-high-priority', 'billing-to-billing-team', 'no-agent-response-escalate'] });
  });

  it('disables a rule with its own version', async () => {
    const server = fakeServer();
    render(wrap(<RulesPage admin />, server.fetchImpl));
    const row = await screen.findByRole('row', { name: RULES[1].rule.name });
    await userEvent.click(within(row).getByRole('button', { name: 'Disable' }));
    await waitFor(() => expect(within(screen.getByRole('row', { name: RULES[1].rule.name })).getByText('Disabled')).toBeInTheDocument());
    expect(server.calls).toContainEqual(
      expect.objectContaining({ method: 'POST', path: '/rules/big-spender-high-priority/disable', ifMatch: '"1"' }),
    );
  });

  it('shows the fields the API refused when a rule is saved', async () => {
    const server = fakeServer({
      'PUT /rules/billing-to-billing-team': {
        status: 422,
        body: {
          type: 'https://caseline.dev/problems/validation-failed', title: 'Unprocessable Entity', status: 422,
          detail: 'invalid fields: body.when.equals.field',
          errors: [{ field: 'body.when.equals.field', message: "Value error, case has no field 'priorty'", type: 'value_error' }],
        },
      },
    });
    render(wrap(<RulesPage admin />, server.fetchImpl));
    const row = await screen.findByRole('row', { name: RULES[0].rule.name });
    await userEvent.click(within(row).getByRole('button', { name: 'Edit' }));
    const dialog = await screen.findByRole('dialog');
    const json = within(dialog).getByLabelText(/Conditions and actions/);
    await userEvent.clear(json);
    await userEvent.click(json);
    await userEvent.paste('{"when": {"op": "equals", "field": "case.priorty", "value": "high"}, "actions": [{"type": "add_tags", "tags": ["x"]}]}');
    await userEvent.click(within(dialog).getByRole('checkbox', { name: /Stop: no later rule/ }));
    await userEvent.click(within(dialog).getByRole('button', { name: 'Save' }));

    const alert = await within(dialog).findByRole('alert');
    expect(alert).toHaveTextContent('when.equals.field');
    expect(alert).toHaveTextContent("case has no field 'priorty'");
    const put = server.calls.find((c) => c.method === 'PUT')!;
    expect(put.ifMatch).toBe('"1"');
    expect(put.body).toMatchObject({ id: 'billing-to-billing-team', stop: true, when: { field: 'case.priorty' } });
  });

  it('runs a rule against a case number and shows what it would do and why', async () => {
    const server = fakeServer({
      'GET /cases/by-number/10042': { status: 200, body: { id: '01J00000000000000000000042', number: 10042 } },
      'POST /rules/billing-to-billing-team/dry-run': {
        status: 200,
        body: {
          rule_id: 'billing-to-billing-team', case_id: '01J00000000000000000000042', case_number: 10042,
          trigger: 'case_opened', at: '2026-12-04T10:00:00Z', matched: true, enabled: true,
          explanation: { rule_id: 'billing-to-billing-team', outcome: 'matched', decided_by: 'when.any[0]', detail: "case.subject mentions 'invoice'" },
          actions: [{ rule_id: 'billing-to-billing-team', action: { type: 'set_team', team: 'Billing' }, agent_ids: [], note: '' }],
          case_changes: { team_id: '01J000000000000000000000BB' },
        },
      },
    });
    render(wrap(<RulesPage admin={false} />, server.fetchImpl));
    const row = await screen.findByRole('row', { name: RULES[0].rule.name });
    expect(within(row).queryByRole('button', { name: 'Move down' })).toBeNull(); // supervisors only look
    await userEvent.click(within(row).getByRole('button', { name: 'Dry run' }));
    const dialog = await screen.findByRole('dialog');
    await userEvent.type(within(dialog).getByLabelText('Case number'), '#10042');
    await userEvent.click(within(dialog).getByRole('button', { name: 'Try on this case' }));

    expect(await within(dialog).findByText('Matches: it would act')).toBeInTheDocument();
    expect(within(dialog).getByText(/case.subject mentions 'invoice'/)).toBeInTheDocument();
    expect(within(dialog).getByText('team_id')).toBeInTheDocument();
    expect(server.calls.find((c) => c.path.endsWith('/dry-run'))?.body).toEqual({ case_id: '01J00000000000000000000042' });
  });

  it('tells agents the page is not for them and speaks German when asked', async () => {
    const agent = { id: '01J00000000000000000000001', role: 'agent' } as Agent;
    const client = new QueryClient();
    client.setQueryData(['me'], agent);
    render(wrap(<RulesScreen />, fakeServer().fetchImpl, client));
    expect(await screen.findByRole('alert')).toHaveTextContent('Rules are for supervisors and admins.');

    render(wrap(<RulesPage admin />, fakeServer().fetchImpl, new QueryClient(), de));
    const row = await screen.findByRole('row', { name: RULES[0].rule.name });
    expect(within(row).getByRole('button', { name: 'Nach unten' })).toBeEnabled();
  });
});

describe('RulesEvaluated', () => {
  it('says which rules matched, why, and what their actions did, with team names for ids', () => {
    const changes = {
      rules: {
        before: null,
        after: {
          event: { trigger: 'case_opened' },
          matched: ['billing-to-billing-team'],
          rules: [
            { rule_id: 'billing-to-billing-team', outcome: 'matched', decided_by: 'when.any[0]', detail: "case.subject mentions 'billing'" },
            { rule_id: 'big-spender-high-priority', outcome: 'not_matched', detail: 'customer.spend_this_year.amount is not there' },
            { rule_id: 'no-agent-response-escalate', outcome: 'not_triggered', detail: 'listens to timer' },
          ],
          actions: [{ rule_id: 'welcome', type: 'add_note', result: 'note added' }],
        },
      },
    };
    const names = new Map([['01J000000000000000000000BB', 'Billing']]);
    render(wrap(<RulesEvaluated changes={changes} names={names} />, fakeServer().fetchImpl));
    expect(screen.getByText('Rules matched: billing-to-billing-team')).toBeInTheDocument();
    const why = screen.getByRole('list', { name: 'Why' });
    expect(within(why).getAllByRole('listitem').map((li) => li.textContent)).toEqual([
      "billing-to-billing-team: case.subject mentions 'billing'",
      'big-spender-high-priority: customer.spend_this_year.amount is not there',
    ]);
    expect(screen.getByText(/note added/)).toBeInTheDocument();
  });
});
