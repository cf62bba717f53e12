import { Button, Group, NativeSelect, Text, TextInput } from '@mantine/core';
import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { ApiError, type Case, PRIORITIES, STATUSES, ifMatch, unwrap, versionFromEtag } from '../api/client';
import { useAgents, useTeams } from '../api/queries';
import { useApi } from '../context';
import { useT } from '../i18n/locale';
import { CASE_KEY, VIEW_COUNTS_KEY, VIEW_KEY } from '../live/cache';
import { formatTags, invalidTags, parseTags } from '../lib/tags';
import { ConflictDialog } from './ConflictDialog';
import {
  ASSIGNMENT_FIELDS,
  type CaseFields,
  type ConflictRow,
  PATCH_FIELDS,
  changedFields,
  conflictRows,
  fieldsOf,
  reapply,
} from './conflict';
import { fetchCase } from './useCase';

interface Snapshot {
  fields: CaseFields;
  version: number;
}

interface Conflict {
  rows: ConflictRow[];
  theirs: Snapshot;
  mine: CaseFields;
}

/** Saves only what I changed, each request with If-Match of the version my edits started from. */
export function PropertiesForm({ item, etag }: { item: Case; etag: string }) {
  const t = useT();
  const api = useApi();
  const client = useQueryClient();
  const agents = useAgents();
  const teams = useTeams();
  const loadedVersion = versionFromEtag(etag) ?? item.version ?? 1;
  const [base, setBase] = useState<Snapshot>(() => ({ fields: fieldsOf(item), version: loadedVersion }));
  const [form, setForm] = useState<CaseFields>(() => fieldsOf(item));
  const [tagText, setTagText] = useState(() => formatTags(item.tags));
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const [conflict, setConflict] = useState<Conflict | null>(null);

  const mine: CaseFields = { ...form, tags: parseTags(tagText) };
  const dirty = changedFields(base.fields, mine).length > 0;
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;

  // A newer version arriving (live update, my own reply) refreshes an untouched form; edits in progress keep
  // their base, so saving them meets If-Match and any clash comes up in the dialog instead of being lost.
  useEffect(() => {
    if (loadedVersion <= base.version || dirtyRef.current || saving) return;
    const fields = fieldsOf(item);
    setBase({ fields, version: loadedVersion });
    setForm(fields);
    setTagText(formatTags(fields.tags));
  }, [item, loadedVersion, base.version, saving]);

  const resetTo = (snapshot: Snapshot) => {
    setBase(snapshot);
    setForm(snapshot.fields);
    setTagText(formatTags(snapshot.fields.tags));
  };

  const save = async (from: Snapshot, edited: CaseFields) => {
    const changed = changedFields(from.fields, edited);
    if (changed.length === 0) return;
    setSaving(true);
    setError(null);
    setSaved(false);
    let version = from.version;
    let latest: Case | null = null;
    try {
      const patch = changed.filter((field) => PATCH_FIELDS.includes(field));
      if (patch.length) {
        const body: Record<string, unknown> = {};
        for (const field of patch) body[field] = field === 'category' ? edited.category.trim() || null : edited[field];
        const result = await api.PATCH('/cases/{case_id}', {
          params: { path: { case_id: item.id }, header: { 'if-match': ifMatch(version) } },
          body,
        });
        latest = unwrap(result);
        version = versionFromEtag(result.response.headers.get('ETag')) ?? latest.version ?? version + 1;
      }
      if (changed.some((field) => ASSIGNMENT_FIELDS.includes(field))) {
        const result = await api.PUT('/cases/{case_id}/assignment', {
          params: { path: { case_id: item.id }, header: { 'if-match': ifMatch(version) } },
          body: { assignee_id: edited.assignee_id, team_id: edited.team_id },
        });
        latest = unwrap(result);
        version = versionFromEtag(result.response.headers.get('ETag')) ?? latest.version ?? version + 1;
      }
      if (latest) resetTo({ fields: fieldsOf(latest), version });
      setSaved(true);
      void client.invalidateQueries({ queryKey: [CASE_KEY, item.id] });
      void client.invalidateQueries({ queryKey: [VIEW_KEY] });
      void client.invalidateQueries({ queryKey: [VIEW_COUNTS_KEY] });
    } catch (failure) {
      if (failure instanceof ApiError && failure.status === 412) {
        const fresh = await fetchCase(api, item.id);
        client.setQueryData([CASE_KEY, item.id], fresh);
        const theirs: Snapshot = {
          fields: fieldsOf(fresh.case),
          version: versionFromEtag(fresh.etag) ?? fresh.case.version ?? 1,
        };
        // What I saved before the 412 (the PATCH of a two-step save) is already theirs now.
        setConflict({ rows: conflictRows(from.fields, edited, theirs.fields), theirs, mine: edited });
      } else {
        setError((failure as Error).message);
      }
    } finally {
      setSaving(false);
    }
  };

  const badTags = invalidTags(mine.tags);
  const set = <K extends keyof CaseFields>(field: K, value: CaseFields[K]) => {
    setSaved(false);
    setForm((current) => ({ ...current, [field]: value }));
  };

  return (
    <form
      className="properties panel"
      aria-label={t('case.properties')}
      onSubmit={(event) => {
        event.preventDefault();
        if (!badTags.length) void save(base, mine);
      }}
    >
      <h2 className="panel-title">{t('case.properties')}</h2>
      <div className="properties-grid">
        <NativeSelect
          size="xs"
          label={t('case.status')}
          value={form.status}
          onChange={(event) => set('status', event.currentTarget.value as CaseFields['status'])}
          data={STATUSES.map((value) => ({ value, label: t(`status.${value}` as const) }))}
        />
        <NativeSelect
          size="xs"
          label={t('case.priority')}
          value={form.priority}
          onChange={(event) => set('priority', event.currentTarget.value as CaseFields['priority'])}
          data={PRIORITIES.map((value) => ({ value, label: t(`priority.${value}` as const) }))}
        />
        <NativeSelect
          size="xs"
          label={t('case.assignee')}
          value={form.assignee_id ?? ''}
          onChange={(event) => set('assignee_id', event.currentTarget.value || null)}
          data={[
            { value: '', label: t('queue.unassigned') },
            ...(agents.data ?? []).map((agent) => ({ value: agent.id, label: agent.name })),
            ...(form.assignee_id && !agents.data?.some((agent) => agent.id === form.assignee_id)
              ? [{ value: form.assignee_id, label: '…' }]
              : []),
          ]}
        />
        <NativeSelect
          size="xs"
          label={t('case.team')}
          value={form.team_id ?? ''}
          onChange={(event) => set('team_id', event.currentTarget.value || null)}
          data={[
            { value: '', label: t('case.noTeam') },
            ...(teams.data ?? []).map((team) => ({ value: team.id, label: team.name })),
            ...(form.team_id && !teams.data?.some((team) => team.id === form.team_id)
              ? [{ value: form.team_id, label: '…' }]
              : []),
          ]}
        />
        <TextInput
          size="xs"
          label={t('case.category')}
          value={form.category}
          maxLength={100}
          onChange={(event) => set('category', event.currentTarget.value)}
        />
        <TextInput
          size="xs"
          label={t('case.tags')}
          placeholder={t('bulk.tagsPlaceholder')}
          value={tagText}
          onChange={(event) => {
            setSaved(false);
            setTagText(event.currentTarget.value);
          }}
          error={badTags.length ? t('case.badTags', { tags: badTags.join(', ') }) : undefined}
        />
      </div>
      <Group justify="space-between" mt="sm" gap="xs">
        <Text size="xs" className="muted" aria-live="polite">
          {saved ? t('case.saved') : dirty ? t('case.unsaved') : ''}
        </Text>
        <Group gap="xs">
          {dirty && (
            <Button size="xs" variant="subtle" color="gray" onClick={() => resetTo(base)}>
              {t('case.discard')}
            </Button>
          )}
          <Button size="xs" type="submit" loading={saving} disabled={!dirty || badTags.length > 0}>
            {t('case.saveChanges')}
          </Button>
        </Group>
      </Group>
      {error && (
        <Text role="alert" className="error-text">
          {error}
        </Text>
      )}
      <ConflictDialog
        rows={conflict?.rows ?? null}
        agents={agents.data ?? []}
        teams={teams.data ?? []}
        onUseTheirs={() => {
          if (conflict) resetTo(conflict.theirs);
          setConflict(null);
        }}
        onApplyMine={() => {
          if (!conflict) return;
          const next = reapply(base.fields, conflict.mine, conflict.theirs.fields);
          const from = conflict.theirs;
          setConflict(null);
          setBase(from);
          setForm(next);
          setTagText(formatTags(next.tags));
          void save(from, next);
        }}
      />
    </form>
  );
}
