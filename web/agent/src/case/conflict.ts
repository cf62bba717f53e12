/** The editable properties of a case and how two edits of them relate, for the 412 conflict dialog. */
import type { Case, CaseStatus, Priority } from '../api/client';

export interface CaseFields {
  status: CaseStatus;
  priority: Priority;
  assignee_id: string | null;
  team_id: string | null;
  category: string;
  tags: string[];
}

export type FieldName = keyof CaseFields;
export const FIELD_NAMES: FieldName[] = ['status', 'priority', 'assignee_id', 'team_id', 'category', 'tags'];
/** Fields that PATCH /cases/{id} changes; the rest go through PUT /cases/{id}/assignment. */
export const PATCH_FIELDS: FieldName[] = ['status', 'priority', 'category', 'tags'];
export const ASSIGNMENT_FIELDS: FieldName[] = ['assignee_id', 'team_id'];

export function fieldsOf(item: Case): CaseFields {
  return {
    status: item.status ?? 'new',
    priority: item.priority ?? 'normal',
    assignee_id: item.assignee_id ?? null,
    team_id: item.team_id ?? null,
    category: item.category ?? '',
    tags: [...(item.tags ?? [])],
  };
}

export function sameValue<K extends FieldName>(field: K, a: CaseFields[K], b: CaseFields[K]): boolean {
  if (field === 'tags') {
    const left = [...(a as string[])].sort();
    const right = [...(b as string[])].sort();
    return left.length === right.length && left.every((tag, i) => tag === right[i]);
  }
  return a === b;
}

/** The fields that differ between two snapshots. */
export function changedFields(from: CaseFields, to: CaseFields): FieldName[] {
  return FIELD_NAMES.filter((field) => !sameValue(field, from[field], to[field]));
}

export interface ConflictRow<K extends FieldName = FieldName> {
  field: K;
  theirs: CaseFields[K];
  mine: CaseFields[K];
  /** I had edited this field too, so re-applying mine overwrites theirs (on purpose, after seeing it). */
  clash: boolean;
}

/**
 * What someone else changed since I loaded `base`, beside my value of the same field.
 * `mine` is my form; `theirs` the case as it is now.
 */
export function conflictRows(base: CaseFields, mine: CaseFields, theirs: CaseFields): ConflictRow[] {
  const edited = new Set(changedFields(base, mine));
  return changedFields(base, theirs).map((field) => ({
    field,
    theirs: theirs[field],
    mine: mine[field],
    clash: edited.has(field) && !sameValue(field, mine[field], theirs[field]),
  }));
}

/** Their version with only my edited fields laid over it: nothing they changed and I did not touch is lost. */
export function reapply(base: CaseFields, mine: CaseFields, theirs: CaseFields): CaseFields {
  const next: CaseFields = { ...theirs, tags: [...theirs.tags] };
  for (const field of changedFields(base, mine)) {
    (next as unknown as Record<FieldName, unknown>)[field] = field === 'tags' ? [...mine.tags] : mine[field];
  }
  return next;
}
