/** The numbers and failure lines the "Bulk update results" dialog shows. */
import type { BulkResult } from '../api/client';

export interface BulkFailure {
  caseId: string;
  number: number | null;
  status: number;
  reason: string;
}

export interface BulkSummary {
  ok: number;
  failed: number;
  failures: BulkFailure[];
  succeededIds: string[];
}

export function summariseBulk(result: BulkResult, numberOf: (caseId: string) => number | undefined): BulkSummary {
  const failures: BulkFailure[] = [];
  const succeededIds: string[] = [];
  for (const item of result.results) {
    if (item.ok) {
      succeededIds.push(item.case_id);
      continue;
    }
    failures.push({
      caseId: item.case_id,
      number: numberOf(item.case_id) ?? null,
      status: item.status,
      reason: item.detail || `HTTP ${item.status}`,
    });
  }
  failures.sort((a, b) => (a.number ?? Number.MAX_SAFE_INTEGER) - (b.number ?? Number.MAX_SAFE_INTEGER));
  // Trust the per-case results over the totals should they ever disagree.
  return { ok: succeededIds.length, failed: failures.length, failures, succeededIds };
}
