import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen } from '@testing-library/react';
import { IntlProvider } from 'react-intl';
import { describe, expect, it } from 'vitest';
import { type Interaction, createApi } from '../src/api/client';
import { Conversation } from '../src/case/Conversation';
import type { RuntimeConfig } from '../src/config';
import { AppContext } from '../src/context';
import { de } from '../src/i18n/messages/de';
import { en } from '../src/i18n/messages/en';

const CASE = '01J00000000000000000000000';

function message(id: string, extra: Partial<Interaction> = {}): Interaction {
  return {
    id: `01J0000000000000000000000${id}`,
    case_id: CASE,
    customer_id: '01J0000000000000000000000C',
    channel: 'email',
    direction: 'outbound',
    visibility: 'public',
    author: { kind: 'agent', id: 'A', name: 'Ada Agent' },
    text: `message ${id}`,
    created_at: '2026-11-02T09:00:00Z',
    ...extra,
  } as Interaction;
}

function show(interactions: Interaction[], locale: 'en' | 'de' = 'en') {
  const api = createApi({ baseUrl: 'http://api.test', getToken: () => 'T', onUnauthorized: () => {} });
  const config: RuntimeConfig = { api_base: '', ws_url: 'ws://x/ws', auth: { mode: 'local' }, default_locale: 'en' };
  const tree = (items: Interaction[]) => (
    <AppContext.Provider value={{ api, config }}>
      <QueryClientProvider client={new QueryClient()}>
        <IntlProvider locale={locale} messages={locale === 'de' ? de : en}>
          <Conversation caseId={CASE} interactions={items} />
        </IntlProvider>
      </QueryClientProvider>
    </AppContext.Provider>
  );
  const view = render(tree(interactions));
  return { ...view, update: (items: Interaction[]) => view.rerender(tree(items)) };
}

const at = '2026-11-02T09:00:05Z';

describe('delivery badge', () => {
  it('labels each outbound email with its delivery state and leaves other messages alone', () => {
    show([
      message('1', { direction: 'inbound', author: { kind: 'customer', id: 'C', name: 'Alice' } }),
      message('2', { delivery_status: 'queued' }),
      message('3', { delivery_status: 'sent', delivery: { status: 'sent', provider_id: 'p-3', updated_at: at } }),
      message('4', { visibility: 'internal', delivery_status: 'queued' }),
      message('5', { channel: 'chat', delivery_status: null }),
    ]);
    const items = screen.getAllByRole('listitem');
    expect(items).toHaveLength(5);
    expect(items[0]).not.toHaveTextContent(/Delivery:/);
    expect(items[1]).toHaveTextContent('Delivery: queued');
    expect(items[2]).toHaveTextContent('Delivery: sent');
    expect(items[3]).not.toHaveTextContent(/Delivery:/);
    expect(items[4]).not.toHaveTextContent(/Delivery:/);
  });

  it('shows why a message bounced or failed', () => {
    const reason = 'Permanent/General: alice@example.com: 5.1.1 smtp; 550 user unknown';
    show([message('1', { delivery_status: 'bounced', delivery: { status: 'bounced', detail: reason, updated_at: at } })]);
    const badge = screen.getByText('Delivery: bounced');
    expect(badge).toHaveAttribute('title', reason);
    expect(screen.getByText(reason)).toBeInTheDocument();
  });

  it('follows the case when it is fetched again after a delivery event', () => {
    const queued = message('1', { delivery_status: 'queued' });
    const view = show([queued]);
    expect(screen.getByText('Delivery: queued')).toBeInTheDocument();
    view.update([{ ...queued, delivery_status: 'delivered', delivery: { status: 'delivered', updated_at: at } }]);
    expect(screen.queryByText('Delivery: queued')).not.toBeInTheDocument();
    expect(screen.getByText('Delivery: delivered')).toBeInTheDocument();
  });

  it('speaks the agent language', () => {
    show([message('1', { delivery_status: 'failed', delivery: { status: 'failed', detail: '451 try later', updated_at: at } })], 'de');
    expect(screen.getByText('Zustellung: fehlgeschlagen')).toBeInTheDocument();
  });
});
