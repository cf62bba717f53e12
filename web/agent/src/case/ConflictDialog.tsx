import { Button, Group, Modal, Text } from '@mantine/core';
import type { Agent, Team } from '../api/client';
import { type Translate, useT } from '../i18n/locale';
import type { CaseFields, ConflictRow, FieldName } from './conflict';

interface Props {
  rows: ConflictRow[] | null;
  agents: Agent[];
  teams: Team[];
  onUseTheirs: () => void;
  onApplyMine: () => void;
}

const FIELD_LABEL: Record<FieldName, 'case.status' | 'case.priority' | 'case.assignee' | 'case.team' | 'case.category' | 'case.tags'> = {
  status: 'case.status',
  priority: 'case.priority',
  assignee_id: 'case.assignee',
  team_id: 'case.team',
  category: 'case.category',
  tags: 'case.tags',
};

export function describeValue(
  field: FieldName,
  value: CaseFields[FieldName],
  t: Translate,
  agents: Agent[],
  teams: Team[],
): string {
  switch (field) {
    case 'status':
      return t(`status.${value as CaseFields['status']}` as const);
    case 'priority':
      return t(`priority.${value as CaseFields['priority']}` as const);
    case 'assignee_id':
      return value ? (agents.find((agent) => agent.id === value)?.name ?? String(value)) : t('queue.unassigned');
    case 'team_id':
      return value ? (teams.find((team) => team.id === value)?.name ?? String(value)) : t('case.noTeam');
    case 'tags':
      return (value as string[]).length ? (value as string[]).join(', ') : t('common.none');
    default:
      return (value as string) || t('common.none');
  }
}

/** Shown on 412: what someone else changed, beside my value, and the two ways on. Nothing is overwritten unseen. */
export function ConflictDialog({ rows, agents, teams, onUseTheirs, onApplyMine }: Props) {
  const t = useT();
  return (
    <Modal.Root opened={rows !== null} onClose={onUseTheirs} centered size="lg" closeOnClickOutside={false}>
      <Modal.Overlay />
      {/* Mantine renders role="dialog"; this one interrupts a save, so it is an alertdialog. */}
      <Modal.Content ref={(element: HTMLElement | null) => element?.setAttribute('role', 'alertdialog')}>
        <Modal.Header>
          <Modal.Title>{t('conflict.title')}</Modal.Title>
        </Modal.Header>
        <Modal.Body>
      <Text size="sm" mb="sm">
        {t('conflict.explain')}
      </Text>
      {rows && rows.length > 0 ? (
        <table className="conflict-table" aria-label={t('conflict.changes')}>
          <thead>
            <tr>
              <th scope="col">{t('conflict.field')}</th>
              <th scope="col">{t('conflict.theirs')}</th>
              <th scope="col">{t('conflict.mine')}</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((row) => (
              <tr key={row.field} className={row.clash ? 'clash' : ''}>
                <th scope="row">{t(FIELD_LABEL[row.field])}</th>
                <td>{describeValue(row.field, row.theirs, t, agents, teams)}</td>
                <td>{describeValue(row.field, row.mine, t, agents, teams)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <Text size="sm">{t('conflict.nothingOverlaps')}</Text>
      )}
      <Group justify="flex-end" mt="lg">
        <Button variant="default" onClick={onUseTheirs}>
          {t('conflict.useTheirs')}
        </Button>
        <Button onClick={onApplyMine}>{t('conflict.applyMine')}</Button>
      </Group>
        </Modal.Body>
      </Modal.Content>
    </Modal.Root>
  );
}
