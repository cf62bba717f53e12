import { Button, Modal, NativeSelect, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type BulkResult, type Case, type CaseStatus, STATUSES, newIdempotencyKey, unwrap } from '../api/client';
import { useAgents, useTeams } from '../api/queries';
import { useApi } from '../context';
import { useT } from '../i18n/locale';
import { VIEW_COUNTS_KEY, VIEW_KEY } from '../live/cache';
import { invalidTags, parseTags } from '../lib/tags';
import { type BulkSummary, summariseBulk } from './bulkSummary';

/** The API takes at most this many cases per request; larger selections go in several. */
export const BULK_CHUNK = 500;
const NO_CHANGE = '';
const CLEAR = '__none__';

interface Props {
  selected: Map<string, Case>;
  onClear: () => void;
  /** Called with the per-case outcome; the screen shows it and drops the updated cases from the selection. */
  onDone: (summary: BulkSummary) => void;
}

export function BulkBar({ selected, onClear, onDone }: Props) {
  const t = useT();
  const api = useApi();
  const client = useQueryClient();
  const agents = useAgents();
  const teams = useTeams();
  const [status, setStatus] = useState('');
  const [assignee, setAssignee] = useState('');
  const [team, setTeam] = useState('');
  const [tagText, setTagText] = useState('');
  const count = selected.size;
  const tags = parseTags(tagText);
  const badTags = invalidTags(tags);
  const nothingChosen = !status && !assignee && !team && tags.length === 0;

  const apply = useMutation({
    mutationFn: async (): Promise<BulkResult> => {
      const changes: Record<string, unknown> = {};
      if (status) changes.status = status as CaseStatus;
      if (assignee) changes.assignee_id = assignee === CLEAR ? null : assignee;
      if (team) changes.team_id = team === CLEAR ? null : team;
      if (tags.length) changes.add_tags = tags;
      const ids = [...selected.keys()];
      const merged: BulkResult = { succeeded: 0, failed: 0, results: [] };
      for (let start = 0; start < ids.length; start += BULK_CHUNK) {
        const part = unwrap(
          await api.POST('/cases/bulk', {
            params: { header: { 'Idempotency-Key': newIdempotencyKey() } },
            body: { case_ids: ids.slice(start, start + BULK_CHUNK), changes },
          }),
        );
        merged.succeeded += part.succeeded;
        merged.failed += part.failed;
        merged.results.push(...part.results);
      }
      return merged;
    },
    onSuccess: (result) => {
      onDone(summariseBulk(result, (id) => selected.get(id)?.number));
      void client.invalidateQueries({ queryKey: [VIEW_KEY] });
      void client.invalidateQueries({ queryKey: [VIEW_COUNTS_KEY] });
    },
  });

  return (
    <section className="bulk-bar" aria-label={t('bulk.region')}>
      <Text fw={600} className="bulk-count">
        {t('bulk.selected', { count })}
      </Text>
      <NativeSelect
        size="xs"
        label={t('bulk.setStatus')}
        value={status}
        onChange={(event) => setStatus(event.currentTarget.value)}
        data={[
          { value: NO_CHANGE, label: t('bulk.noChange') },
          ...STATUSES.map((value) => ({ value, label: t(`status.${value}` as const) })),
        ]}
      />
      <NativeSelect
        size="xs"
        label={t('bulk.assignTo')}
        value={assignee}
        onChange={(event) => setAssignee(event.currentTarget.value)}
        data={[
          { value: NO_CHANGE, label: t('bulk.noChange') },
          { value: CLEAR, label: t('queue.unassigned') },
          ...(agents.data ?? []).map((agent) => ({ value: agent.id, label: agent.name })),
        ]}
      />
      <NativeSelect
        size="xs"
        label={t('bulk.setTeam')}
        value={team}
        onChange={(event) => setTeam(event.currentTarget.value)}
        data={[
          { value: NO_CHANGE, label: t('bulk.noChange') },
          { value: CLEAR, label: t('case.noTeam') },
          ...(teams.data ?? []).map((item) => ({ value: item.id, label: item.name })),
        ]}
      />
      <TextInput
        size="xs"
        label={t('bulk.addTags')}
        placeholder={t('bulk.tagsPlaceholder')}
        value={tagText}
        onChange={(event) => setTagText(event.currentTarget.value)}
        error={badTags.length ? t('case.badTags', { tags: badTags.join(', ') }) : undefined}
      />
      <div className="bulk-actions">
        <Button
          size="xs"
          loading={apply.isPending}
          disabled={nothingChosen || badTags.length > 0}
          onClick={() => apply.mutate()}
        >
          {t('bulk.apply', { count })}
        </Button>
        <Button size="xs" variant="subtle" color="gray" onClick={onClear}>
          {t('bulk.clear')}
        </Button>
      </div>
      {apply.isError && (
        <Text role="alert" className="error-text">
          {(apply.error as Error).message}
        </Text>
      )}
    </section>
  );
}

export function BulkResultsDialog({ summary, onClose }: { summary: BulkSummary | null; onClose: () => void }) {
  const t = useT();
  return (
    <Modal opened={summary !== null} onClose={onClose} title={t('bulk.resultsTitle')} centered withCloseButton={false}>
      {summary && (
        <>
          <Text fw={600}>{t('bulk.resultLine', { ok: summary.ok, failed: summary.failed })}</Text>
          {summary.failures.length > 0 && (
            <ul className="failure-list" aria-label={t('bulk.failures')}>
              {summary.failures.map((failure) => (
                <li key={failure.caseId}>
                  <strong>{failure.number !== null ? `#${failure.number}` : failure.caseId}</strong>
                  {' — '}
                  {failure.reason}
                </li>
              ))}
            </ul>
          )}
          <Button mt="md" onClick={onClose}>
            {t('common.close')}
          </Button>
        </>
      )}
    </Modal>
  );
}
