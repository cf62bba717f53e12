import { describe, expect, it } from 'vitest';
import type { Case } from '../src/api/client';
import { changedFields, conflictRows, fieldsOf, reapply } from '../src/case/conflict';

const base = fieldsOf({
  id: '01J0000000000000000000000A',
  number: 7,
  subject: 'Printer on fire',
  channel: 'email',
  requester_id: '01J0000000000000000000000B',
  created_at: '2026-01-01T00:00:00Z',
  updated_at: '2026-01-01T00:00:00Z',
  status: 'open',
  priority: 'normal',
  tags: ['hardware'],
  category: 'printing',
  version: 3,
} as Case);

describe('conflict diff', () => {
  it('lists only the fields someone else changed, beside my value', () => {
    const mine = { ...base, priority: 'high' as const };
    const theirs = { ...base, status: 'pending' as const, tags: ['hardware', 'vip'] };
    const rows = conflictRows(base, mine, theirs);
    expect(rows.map((row) => row.field)).toEqual(['status', 'tags']);
    expect(rows[0]).toMatchObject({ theirs: 'pending', mine: 'open', clash: false });
    expect(rows[1]).toMatchObject({ theirs: ['hardware', 'vip'], mine: ['hardware'] });
  });

  it('marks a field both of us changed differently as a clash', () => {
    const mine = { ...base, status: 'solved' as const };
    const theirs = { ...base, status: 'pending' as const };
    expect(conflictRows(base, mine, theirs)).toEqual([
      { field: 'status', theirs: 'pending', mine: 'solved', clash: true },
    ]);
  });

  it('treats tags as a set', () => {
    expect(changedFields(base, { ...base, tags: ['hardware'] })).toEqual([]);
    expect(changedFields({ ...base, tags: ['a', 'b'] }, { ...base, tags: ['b', 'a'] })).toEqual([]);
    expect(changedFields(base, { ...base, tags: [] })).toEqual(['tags']);
  });

  it('re-applies only my edited fields on top of their version', () => {
    const mine = { ...base, priority: 'urgent' as const, category: 'fire' };
    const theirs = { ...base, status: 'pending' as const, assignee_id: '01J0000000000000000000000C' };
    const next = reapply(base, mine, theirs);
    expect(next).toEqual({ ...theirs, priority: 'urgent', category: 'fire' });
    // Their status and assignee survive; nothing they did is lost.
    expect(next.status).toBe('pending');
    expect(next.assignee_id).toBe('01J0000000000000000000000C');
  });

  it('keeps my value where we both edited the same field', () => {
    const mine = { ...base, status: 'solved' as const };
    const theirs = { ...base, status: 'pending' as const };
    expect(reapply(base, mine, theirs).status).toBe('solved');
  });
});
