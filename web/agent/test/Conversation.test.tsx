import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { render, screen, within } from '@testing-library/react';
import { IntlProvider } from 'react-intl';
import { describe, expect, it } from 'vitest';
import { type Interaction, createApi } from '../src/api/client';
import { Conversation } from '../src/case/Conversation';
import type { RuntimeConfig } from '../src/config';
import { AppContext } from '../src/context';
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

function show(interactions: Interaction[]) {
  const api = createApi({ baseUrl: 'http://api.test', getToken: () => 'T', onUnauthorized: () => {} });
  const config: RuntimeConfig = { api_base: '', ws_url: 'ws://x/ws', auth: { mode: 'local' }, default_locale: 'en' };
  const tree = (items: Interaction[]) => (
    <AppContext.Provider value={{ api, config }}>
      <QueryClientProvider client={new QueryClient()}>
        <IntlProvider locale="en" messages={en}>
          <Conversation caseId={CASE} interactions={items} />
        </IntlProvider>
      </QueryClientProvider>
    </AppContext.Provider>
  );
  const view = render(tree(interactions));
  return view;
}

const RAW = { key: 'cases/x/raw.eml', filename: 'message.eml', content_type: 'message/rfc822', size: 2048,
  sha256: 'a'.repeat(64) };

describe('inbound email in the conversation', () => {
  it('folds the quoted history away and links the original message', () => {
    show([
      message('1', {
        direction: 'inbound', author: { kind: 'customer', id: 'C', name: 'Alice' },
        text: 'Still broken.', quoted_text: 'On Monday Ada wrote:\n> Try a restart', raw_ref: RAW,
      }),
      message('2', { text: 'No quote here' }),
    ]);
    const [inbound, outbound] = screen.getAllByRole('listitem').filter((li) => li.classList.contains('message'));
    const fold = inbound.querySelector('details');
    expect(fold).not.toBeNull();
    expect(fold).not.toHaveAttribute('open');
    expect(within(inbound).getByText('Show quoted text').tagName).toBe('SUMMARY');
    expect(within(inbound).getByText(/Try a restart/)).toBeInTheDocument();
    expect(within(inbound).getByText('Original message')).toBeInTheDocument();
    expect(outbound.querySelector('details')).toBeNull();
    expect(within(outbound).queryByText('Original message')).toBeNull();
  });
});
