import { describe, expect, it } from 'vitest';
import { insertMention, mentionAt, suggestAgents } from '../src/case/mentions';
import { parseConfig } from '../src/config';
import { parseCaseNumbers } from '../src/lib/caseNumbers';
import { slaState } from '../src/lib/sla';
import { invalidTags, parseTags } from '../src/lib/tags';
import type { Agent } from '../src/api/client';

describe('small rules', () => {
  it('classifies SLA due times', () => {
    const now = Date.parse('2026-03-01T12:00:00Z');
    expect(slaState(null, now)).toBeNull();
    expect(slaState('2026-03-01T11:59:00Z', now)).toBe('overdue');
    expect(slaState('2026-03-01T12:30:00Z', now)).toBe('soon');
    expect(slaState('2026-03-01T14:00:00Z', now)).toBe('ok');
  });

  it('parses tags and case numbers', () => {
    expect(parseTags(' Billing, refund ,billing,, two words')).toEqual(['billing', 'refund', 'two-words']);
    expect(invalidTags(['ok', '-bad', 'fine:1'])).toEqual(['-bad']);
    expect(parseCaseNumbers('#10234, #10235 10236;#10234')).toEqual({ numbers: [10234, 10235, 10236], invalid: [] });
    expect(parseCaseNumbers('#12, abc, #0')).toEqual({ numbers: [12], invalid: ['abc', '#0'] });
  });

  it('finds the mention at the caret and completes it', () => {
    expect(mentionAt('ask @gr', 7)).toEqual({ start: 4, query: 'gr' });
    expect(mentionAt('mail a@b', 8)).toBeNull();
    expect(mentionAt('@', 1)).toEqual({ start: 0, query: '' });
    const agents = [
      { id: '1', name: 'Grace Mensah', handle: 'grace', email: 'g@x.io' },
      { id: '2', name: 'Hugo Salas', handle: 'hugo', email: 'h@x.io' },
      { id: '3', name: 'Agnes Grün', handle: 'agnes', email: 'a@x.io' },
    ] as Agent[];
    expect(suggestAgents(agents, 'gr').map((agent) => agent.handle)).toEqual(['grace', 'agnes']);
    expect(suggestAgents(agents, '').length).toBe(3);
    const done = insertMention('ask @gr now', { start: 4, query: 'gr' }, 7, 'grace');
    expect(done).toEqual({ text: 'ask @grace  now', caret: 11 });
  });

  it('reads /config.json with safe defaults', () => {
    const location = { protocol: 'https:', host: 'desk.example.com' };
    expect(parseConfig({}, location)).toEqual({
      api_base: '',
      ws_url: 'wss://desk.example.com/ws',
      auth: { mode: 'local' },
      default_locale: 'en',
    });
    const cognito = {
      api_base: 'https://api.example.com/',
      ws_url: 'wss://x.execute-api.eu-west-1.amazonaws.com/live',
      auth: { mode: 'cognito', domain: 'https://p.auth.eu-west-1.amazoncognito.com', client_id: 'c', redirect_uri: 'https://desk/' },
      default_locale: 'de',
    };
    expect(parseConfig(cognito, location)).toMatchObject({ api_base: 'https://api.example.com', auth: { mode: 'cognito' } });
    expect(parseConfig({ ...cognito, api_key: 'k-1' }, location).api_key).toBe('k-1');
    expect(parseConfig(cognito, location)).not.toHaveProperty('api_key');
  });
});
