/** How urgent a case's next SLA target is, for highlighting. */
export type SlaState = 'overdue' | 'soon' | 'ok';

export const SOON_MS = 60 * 60 * 1000;

export function slaState(dueAt: string | null | undefined, now: number): SlaState | null {
  if (!dueAt) return null;
  const due = Date.parse(dueAt);
  if (Number.isNaN(due)) return null;
  if (due <= now) return 'overdue';
  return due - now <= SOON_MS ? 'soon' : 'ok';
}
