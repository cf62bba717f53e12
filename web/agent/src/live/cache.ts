/** Folding a case.changed frame into what react-query already holds, so rows change in place. */
import type { QueryClient } from '@tanstack/react-query';
import type { Case } from '../api/client';
import type { LiveCase } from './messages';

export interface CasePageData {
  items: Case[];
  next_cursor?: string | null;
}

export interface CaseDetailData {
  case: Case;
  etag: string;
  interactions: unknown[];
  next_cursor?: string | null;
}

/** The page with the incoming case's fields applied, or the same object when nothing changed. */
export function mergeCaseIntoPage<T extends CasePageData>(page: T, incoming: LiveCase): T {
  let changed = false;
  const items = page.items.map((item) => {
    if (item.id !== incoming.id || (item.version ?? 0) >= incoming.version) return item;
    changed = true;
    return { ...item, ...incoming };
  });
  return changed ? { ...page, items } : page;
}

export const VIEW_KEY = 'view';
export const VIEW_COUNTS_KEY = 'views';
export const CASE_KEY = 'case';

/** Applies the change to every cached queue page and to the open case; returns true when a row changed. */
export function applyCaseChange(client: QueryClient, incoming: LiveCase): boolean {
  let touched = false;
  client.setQueriesData<CasePageData>({ queryKey: [VIEW_KEY] }, (page) => {
    if (!page) return page;
    const next = mergeCaseIntoPage(page, incoming);
    if (next !== page) touched = true;
    return next;
  });
  client.setQueryData<CaseDetailData>([CASE_KEY, incoming.id], (detail) => {
    if (!detail || (detail.case.version ?? 0) >= incoming.version) return detail;
    touched = true;
    return { ...detail, case: { ...detail.case, ...incoming }, etag: `"${incoming.version}"` };
  });
  return touched;
}
