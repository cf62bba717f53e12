import type { Case } from '../api/client';

/** The case fields every case.changed frame carries (the queue row's fields). */
export type LiveCase = Pick<
  Case,
  | 'id' | 'number' | 'subject' | 'status' | 'priority' | 'assignee_id' | 'team_id' | 'requester_id'
  | 'requester_name' | 'channel' | 'due_at' | 'updated_at' | 'version' | 'merged_into'
>;

export interface CaseChanged {
  type: 'case.changed';
  event_type: string;
  event_id: string;
  case: LiveCase;
}

export type LiveMessage = CaseChanged | { type: 'pong' };

export function parseLiveMessage(text: string): LiveMessage | null {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    return null;
  }
  if (!data || typeof data !== 'object') return null;
  const message = data as { type?: unknown; case?: unknown };
  if (message.type === 'pong') return { type: 'pong' };
  if (message.type !== 'case.changed' || !message.case || typeof message.case !== 'object') return null;
  const item = message.case as Partial<LiveCase>;
  if (typeof item.id !== 'string' || typeof item.version !== 'number') return null;
  return data as CaseChanged;
}
