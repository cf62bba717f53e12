import { render, screen, within } from '@testing-library/react';
import { IntlProvider } from 'react-intl';
import { describe, expect, it } from 'vitest';
import type { Case } from '../src/api/client';
import { type SlaClock, SlaClocks, clockTime } from '../src/case/SlaClocks';
import { de } from '../src/i18n/messages/de';
import { en } from '../src/i18n/messages/en';
import { es } from '../src/i18n/messages/es';

const MESSAGES = { en, de, es };

function caseWith(sla: Case['sla']): Case {
  return {
    id: '01J00000000000000000000000',
    number: 7,
    subject: 'Invoice wrong',
    status: 'open',
    priority: 'high',
    channel: 'web',
    requester_id: '01J0000000000000000000000C',
    created_at: '2026-06-03T13:00:00Z',
    updated_at: '2026-06-05T13:00:00Z',
    version: 4,
    sla,
  } as Case;
}

const LIST: SlaClock[] = [
  { target: 'first_response', state: 'breached', due_at: '2026-06-05T13:00:00Z', breached_at: '2026-06-05T13:00:00Z', cycle: 1 },
  { target: 'next_response', state: 'met', due_at: '2026-06-05T15:00:00Z', stopped_at: '2026-06-05T14:10:00Z', cycle: 2 },
  { target: 'resolution', state: 'paused', due_at: null, cycle: 1 },
];
const CLOCKS: NonNullable<Case['sla']> = { policy_id: 'office', clocks: LIST };

function show(item: Case, locale: keyof typeof MESSAGES = 'en', timeZone = 'Europe/Berlin') {
  return render(
    <IntlProvider locale={locale} messages={MESSAGES[locale]} timeZone={timeZone}>
      <SlaClocks item={item} />
    </IntlProvider>,
  );
}

describe('SLA clocks on the case', () => {
  it('shows each target with its state chip and its time in the agent zone', () => {
    show(caseWith(CLOCKS));
    const rows = within(screen.getByRole('region', { name: 'SLA clocks' })).getAllByRole('listitem');
    expect(rows).toHaveLength(3);
    expect(rows[0]).toHaveTextContent('First response');
    expect(within(rows[0]).getByText('Breached')).toHaveClass('sla-chip-breached');
    // 13:00 UTC is 15:00 in Berlin (summer time)
    expect(rows[0]).toHaveTextContent(/breached Jun 5, 2026, 3:00\sPM/);
    expect(within(rows[1]).getByText('Met')).toHaveClass('sla-chip-met');
    expect(rows[1].querySelector('time')).toHaveAttribute('dateTime', '2026-06-05T14:10:00Z');
    expect(within(rows[2]).getByText('Paused')).toHaveClass('sla-chip-paused');
    expect(rows[2]).toHaveTextContent('stopped while paused');
  });

  it('follows the agent zone, not the browser', () => {
    show(caseWith(CLOCKS), 'en', 'America/New_York');
    expect(screen.getAllByRole('listitem')[0]).toHaveTextContent(/Jun 5, 2026, 9:00\sAM/);
  });

  it('shows running and warning clocks with their due time', () => {
    show(caseWith({ policy_id: 'default', clocks: [
      { target: 'first_response', state: 'warning', due_at: '2026-06-05T13:00:00Z', warning_at: '2026-06-05T11:00:00Z', cycle: 1 },
      { target: 'resolution', state: 'running', due_at: '2026-06-08T13:00:00Z', cycle: 1 },
    ] }));
    const rows = screen.getAllByRole('listitem');
    expect(within(rows[0]).getByText('Warning')).toHaveClass('sla-chip-warning');
    expect(rows[0]).toHaveTextContent(/due Jun 5, 2026, 3:00\sPM/);
    expect(within(rows[1]).getByText('Running')).toHaveClass('sla-chip-running');
  });

  it('speaks German and Spanish', () => {
    const german = show(caseWith(CLOCKS), 'de');
    expect(screen.getByRole('region', { name: 'SLA-Uhren' })).toBeInTheDocument();
    expect(screen.getByText('Verletzt')).toBeInTheDocument();
    expect(screen.getByText('Erste Antwort')).toBeInTheDocument();
    german.unmount();
    show(caseWith(CLOCKS), 'es');
    expect(screen.getByText('Incumplido')).toBeInTheDocument();
    expect(screen.getByText('En pausa')).toBeInTheDocument();
  });

  it('renders nothing for a case without clocks', () => {
    const { container } = show(caseWith(null));
    expect(container).toBeEmptyDOMElement();
  });

  it('picks the time that matters for each state', () => {
    expect(clockTime(LIST[0])).toBe('2026-06-05T13:00:00Z');
    expect(clockTime(LIST[1])).toBe('2026-06-05T14:10:00Z');
    expect(clockTime(LIST[2])).toBeNull();
  });
});
