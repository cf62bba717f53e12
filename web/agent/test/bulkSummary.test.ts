import { describe, expect, it } from 'vitest';
import { summariseBulk } from '../src/queue/bulkSummary';

describe('bulk result summary', () => {
  it('counts and lists failures by case number with the reason, lowest number first', () => {
    const numbers: Record<string, number> = { A: 101, B: 102, C: 103 };
    const summary = summariseBulk(
      {
        succeeded: 1,
        failed: 2,
        results: [
          { case_id: 'C', ok: false, status: 409, detail: 'a closed case cannot change status' },
          { case_id: 'A', ok: true, status: 200, version: 4 },
          { case_id: 'B', ok: false, status: 403, detail: null },
        ],
      },
      (id) => numbers[id],
    );
    expect(summary.ok).toBe(1);
    expect(summary.failed).toBe(2);
    expect(summary.succeededIds).toEqual(['A']);
    expect(summary.failures).toEqual([
      { caseId: 'B', number: 102, status: 403, reason: 'HTTP 403' },
      { caseId: 'C', number: 103, status: 409, reason: 'a closed case cannot change status' },
    ]);
  });

  it('handles a large all-successful batch', () => {
    const results = Array.from({ length: 150 }, (_, i) => ({ case_id: `id${i}`, ok: true, status: 200, version: 2 }));
    const summary = summariseBulk({ succeeded: 150, failed: 0, results }, () => 1);
    expect(summary).toMatchObject({ ok: 150, failed: 0, failures: [] });
  });

  it('keeps failures of cases it cannot name', () => {
    const summary = summariseBulk(
      { succeeded: 0, failed: 1, results: [{ case_id: 'Z', ok: false, status: 404, detail: 'no such case' }] },
      () => undefined,
    );
    expect(summary.failures[0]).toMatchObject({ caseId: 'Z', number: null, reason: 'no such case' });
  });
});
