import { QueryClient } from '@tanstack/react-query';
import { describe, expect, it } from 'vitest';
import type { Case } from '../src/api/client';
import { applyCaseChange, mergeCaseIntoPage } from '../src/live/cache';
import type { LiveCase } from '../src/live/messages';
import { parseLiveMessage } from '../src/live/messages';

function makeCase(id: string, version: number, extra: Partial<Case> = {}): Case {
  return {
    id,
    number: 100,
    subject: 'Subject',
    channel: 'email',
    requester_id: 'R',
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    status: 'open',
    priority: 'normal',
    tags: ['keep-me'],
    version,
    ...extra,
  };
}

function live(id: string, version: number, extra: Partial<LiveCase> = {}): LiveCase {
  const { tags: _tags, ...rest } = makeCase(id, version);
  return { ...rest, status: 'pending', priority: 'urgent', updated_at: '2026-01-02T00:00:00Z', ...extra } as LiveCase;
}

describe('live update merge', () => {
  it('updates the matching row in place and keeps fields the frame does not carry', () => {
    const page = { items: [makeCase('A', 1), makeCase('B', 1)], next_cursor: 'c1' };
    const next = mergeCaseIntoPage(page, live('B', 2));
    expect(next).not.toBe(page);
    expect(next.items[0]).toBe(page.items[0]);
    expect(next.items[1]).toMatchObject({ id: 'B', status: 'pending', priority: 'urgent', version: 2, tags: ['keep-me'] });
    expect(next.next_cursor).toBe('c1');
  });

  it('ignores stale or duplicate frames', () => {
    const page = { items: [makeCase('A', 5)] };
    expect(mergeCaseIntoPage(page, live('A', 4))).toBe(page);
    expect(mergeCaseIntoPage(page, live('A', 5))).toBe(page);
    expect(mergeCaseIntoPage(page, live('Z', 9))).toBe(page);
  });

  it('applies to every cached queue page and to the open case', () => {
    const client = new QueryClient();
    client.setQueryData(['view', 'all_open', { limit: 25 }], { items: [makeCase('A', 1)] });
    client.setQueryData(['view', 'mine', { limit: 50 }], { items: [makeCase('A', 1), makeCase('B', 1)] });
    client.setQueryData(['case', 'A'], { case: makeCase('A', 1), etag: '"1"', interactions: [] });
    expect(applyCaseChange(client, live('A', 3, { assignee_id: '01J0000000000000000000000C' }))).toBe(true);
    const allOpen = client.getQueryData<{ items: Case[] }>(['view', 'all_open', { limit: 25 }]);
    const mine = client.getQueryData<{ items: Case[] }>(['view', 'mine', { limit: 50 }]);
    expect(allOpen?.items[0]).toMatchObject({ status: 'pending', version: 3, assignee_id: '01J0000000000000000000000C' });
    expect(mine?.items[0].version).toBe(3);
    expect(mine?.items[1].version).toBe(1);
    const detail = client.getQueryData<{ case: Case; etag: string }>(['case', 'A']);
    expect(detail?.case.status).toBe('pending');
    expect(detail?.etag).toBe('"3"');
  });

  it('reports when nothing cached was touched', () => {
    const client = new QueryClient();
    client.setQueryData(['view', 'all_open', {}], { items: [makeCase('A', 1)] });
    expect(applyCaseChange(client, live('Q', 2))).toBe(false);
  });

  it('parses case.changed and pong frames and rejects junk', () => {
    const frame = { type: 'case.changed', event_type: 'caseline.case.status_changed', event_id: 'e1', case: live('A', 2) };
    expect(parseLiveMessage(JSON.stringify(frame))).toMatchObject({ type: 'case.changed', case: { id: 'A' } });
    expect(parseLiveMessage('{"type":"pong"}')).toEqual({ type: 'pong' });
    expect(parseLiveMessage('not json')).toBeNull();
    expect(parseLiveMessage('{"type":"case.changed","case":{"id":"A"}}')).toBeNull();
    expect(parseLiveMessage('{"type":"other"}')).toBeNull();
  });
});
