/** /desk/admin/rules: the automation rules in order. Admins edit, reorder and switch them; supervisors look and try. */
import {
  Alert,
  Badge,
  Button,
  Center,
  Checkbox,
  Group,
  Loader,
  Modal,
  Stack,
  Table,
  Text,
  TextInput,
  Textarea,
  Title,
} from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { ApiError, type Schemas, ifMatch, unwrap } from '../api/client';
import { useMe } from '../api/queries';
import { useApi } from '../context';
import { useT } from '../i18n/locale';
import type { MessageKey } from '../i18n/catalogs';
import { parseCaseNumbers } from '../lib/caseNumbers';

export type RuleRecord = Schemas['RuleRecord'];
export type Rule = Schemas['Rule'];
export type RuleTrigger = Schemas['RuleTrigger'];
export type DryRun = Schemas['DryRun'];

export const RULES_KEY = ['rules'] as const;
export const TRIGGERS: RuleTrigger[] = [
  'case_opened', 'interaction_added', 'status_changed', 'sla_warning', 'sla_breach', 'timer',
];

/** The ids with one moved a place up (-1) or down (+1). */
export function moved(ids: string[], index: number, by: -1 | 1): string[] {
  const target = index + by;
  if (target < 0 || target >= ids.length) return ids;
  const next = [...ids];
  [next[index], next[target]] = [next[target], next[index]];
  return next;
}

function useRules() {
  const api = useApi();
  return useQuery({ queryKey: RULES_KEY, queryFn: async () => unwrap(await api.GET('/rules')) });
}

export default function RulesScreen() {
  const t = useT();
  const me = useMe();
  const role = me.data?.role ?? 'agent';
  if (me.isPending) return <Loader role="status" aria-label={t('common.loading')} />;
  if (role !== 'admin' && role !== 'supervisor') {
    return (
      <Alert color="orange" role="alert" m="md">
        {t('rules.forbidden')}
      </Alert>
    );
  }
  return <RulesPage admin={role === 'admin'} />;
}

export function RulesPage({ admin }: { admin: boolean }) {
  const t = useT();
  const api = useApi();
  const client = useQueryClient();
  const rules = useRules();
  const [editing, setEditing] = useState<RuleRecord | 'new' | null>(null);
  const [trying, setTrying] = useState<RuleRecord | null>(null);
  const [notice, setNotice] = useState<string | null>(null);

  const refresh = () => client.invalidateQueries({ queryKey: RULES_KEY });
  const onConflict = (error: unknown) => {
    if (error instanceof ApiError && error.status === 412) {
      setNotice(t('rules.orderConflict'));
      refresh();
    } else {
      setNotice(error instanceof Error ? error.message : String(error));
    }
  };
  const reorder = useMutation({
    mutationFn: async ({ ids, version }: { ids: string[]; version: number }) =>
      unwrap(await api.PUT('/rules/order', { body: { ids }, params: { header: { 'if-match': ifMatch(version) } } })),
    onSuccess: (listing) => {
      setNotice(null);
      client.setQueryData(RULES_KEY, listing);
    },
    onError: onConflict,
  });
  const toggle = useMutation({
    mutationFn: async (record: RuleRecord) => {
      const params = { path: { rule_id: record.id }, header: { 'if-match': ifMatch(record.version) } };
      return unwrap(
        record.enabled
          ? await api.POST('/rules/{rule_id}/disable', { params })
          : await api.POST('/rules/{rule_id}/enable', { params }),
      );
    },
    onSuccess: () => {
      setNotice(null);
      refresh();
    },
    onError: onConflict,
  });

  if (rules.isPending) {
    return (
      <Center p="xl">
        <Loader role="status" aria-label={t('common.loading')} />
      </Center>
    );
  }
  if (rules.isError || !rules.data) {
    return (
      <Alert color="red" role="alert" m="md">
        {t('rules.loadFailed')}
      </Alert>
    );
  }
  const { items, version } = rules.data;
  const ids = items.map((r) => r.id);
  return (
    <Stack p="md" gap="md">
      <Group justify="space-between">
        <Title order={1} size="h2">
          {t('rules.title')}
        </Title>
        {admin && <Button onClick={() => setEditing('new')}>{t('rules.new')}</Button>}
      </Group>
      <Text c="dimmed">{t('rules.intro')}</Text>
      {notice && (
        <Alert color="orange" role="status" withCloseButton onClose={() => setNotice(null)}>
          {notice}
        </Alert>
      )}
      {items.length === 0 ? (
        <Text>{t('rules.empty')}</Text>
      ) : (
        <Table striped withTableBorder aria-label={t('rules.title')}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>{t('rules.position')}</Table.Th>
              <Table.Th>{t('rules.name')}</Table.Th>
              <Table.Th>{t('rules.triggers')}</Table.Th>
              <Table.Th>{t('rules.state')}</Table.Th>
              <Table.Th>{t('rules.actions')}</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((record, index) => (
              <Table.Tr key={record.id} aria-label={record.rule.name}>
                <Table.Td>{index + 1}</Table.Td>
                <Table.Td>
                  <Text fw={600}>{record.rule.name}</Text>
                  <Text size="xs" c="dimmed">
                    {record.id}
                  </Text>
                </Table.Td>
                <Table.Td>
                  {record.rule.triggers.map((trigger) => t(`rules.trigger.${trigger}` as MessageKey)).join(', ')}
                </Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    <Badge color={record.enabled ? 'green' : 'gray'}>
                      {record.enabled ? t('rules.enabled') : t('rules.disabled')}
                    </Badge>
                    {record.rule.stop && <Badge color="orange">{t('rules.stops')}</Badge>}
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Group gap={4} wrap="wrap">
                    {admin && (
                      <>
                        <Button size="compact-xs" variant="default" disabled={index === 0 || reorder.isPending}
                          onClick={() => reorder.mutate({ ids: moved(ids, index, -1), version })}>
                          {t('rules.moveUp')}
                        </Button>
                        <Button size="compact-xs" variant="default"
                          disabled={index === items.length - 1 || reorder.isPending}
                          onClick={() => reorder.mutate({ ids: moved(ids, index, 1), version })}>
                          {t('rules.moveDown')}
                        </Button>
                        <Button size="compact-xs" variant="default" disabled={toggle.isPending}
                          onClick={() => toggle.mutate(record)}>
                          {record.enabled ? t('rules.disable') : t('rules.enable')}
                        </Button>
                        <Button size="compact-xs" variant="default" onClick={() => setEditing(record)}>
                          {t('rules.edit')}
                        </Button>
                      </>
                    )}
                    <Button size="compact-xs" variant="default" onClick={() => setTrying(record)}>
                      {t('rules.dryRun')}
                    </Button>
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {editing && (
        <RuleEditor
          record={editing === 'new' ? null : editing}
          onClose={() => setEditing(null)}
          onSaved={() => {
            setEditing(null);
            refresh();
          }}
        />
      )}
      {trying && <DryRunDialog record={trying} onClose={() => setTrying(null)} />}
    </Stack>
  );
}

const BLANK: Rule = {
  id: '',
  name: '',
  description: '',
  enabled: true,
  triggers: ['case_opened'],
  when: null,
  actions: [{ type: 'add_tags', tags: ['new-tag'] }],
  stop: false,
};

interface FieldError {
  field: string;
  message: string;
}

/** Name, triggers and stop as fields; conditions and actions as JSON, validated by the API on save. */
export function RuleEditor({ record, onClose, onSaved }: {
  record: RuleRecord | null;
  onClose: () => void;
  onSaved: (saved: RuleRecord) => void;
}) {
  const t = useT();
  const api = useApi();
  const start = record?.rule ?? BLANK;
  const [id, setId] = useState(start.id);
  const [name, setName] = useState(start.name);
  const [triggers, setTriggers] = useState<string[]>(start.triggers);
  const [stop, setStop] = useState(start.stop ?? false);
  const [json, setJson] = useState(JSON.stringify({ when: start.when ?? null, actions: start.actions }, null, 2));
  const [problem, setProblem] = useState<{ detail: string; errors: FieldError[] } | null>(null);

  const save = useMutation({
    mutationFn: async (body: Rule) => {
      if (record) {
        const params = { path: { rule_id: record.id }, header: { 'if-match': ifMatch(record.version) } };
        return unwrap(await api.PUT('/rules/{rule_id}', { params, body }));
      }
      return unwrap(await api.POST('/rules', { body }));
    },
    onSuccess: onSaved,
    onError: (error) => {
      if (error instanceof ApiError && error.status === 412) {
        setProblem({ detail: t('rules.editor.conflict'), errors: [] });
      } else if (error instanceof ApiError) {
        const errors = (error.problem?.errors ?? []).map((e: FieldError) => ({
          field: e.field.replace(/^body\./, ''),
          message: e.message,
        }));
        setProblem({ detail: error.problem?.detail ?? error.message, errors });
      } else {
        setProblem({ detail: String(error), errors: [] });
      }
    },
  });

  const submit = () => {
    let parsed: { when?: unknown; actions?: unknown };
    try {
      parsed = JSON.parse(json);
    } catch (error) {
      setProblem({ detail: t('rules.editor.badJson', { error: (error as Error).message }), errors: [] });
      return;
    }
    setProblem(null);
    const body = { ...start, ...parsed, id, name, triggers, stop } as Rule;
    save.mutate(body);
  };

  return (
    <Modal opened onClose={onClose} size="lg" closeButtonProps={{ 'aria-label': t('common.close') }}
      title={record ? t('rules.editor.titleEdit', { name: record.rule.name }) : t('rules.editor.titleNew')}>
      <Stack gap="sm">
        {!record && <TextInput label={t('rules.editor.id')} value={id} onChange={(e) => setId(e.currentTarget.value)} />}
        <TextInput label={t('rules.name')} value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <Checkbox.Group label={t('rules.triggers')} value={triggers} onChange={setTriggers}>
          <Group gap="sm" mt={4}>
            {TRIGGERS.map((trigger) => (
              <Checkbox key={trigger} value={trigger} label={t(`rules.trigger.${trigger}` as MessageKey)} />
            ))}
          </Group>
        </Checkbox.Group>
        <Checkbox label={t('rules.editor.stop')} checked={stop} onChange={(e) => setStop(e.currentTarget.checked)} />
        <Textarea label={t('rules.editor.json')} description={t('rules.editor.jsonHint')} value={json}
          onChange={(e) => setJson(e.currentTarget.value)} autosize minRows={8} maxRows={24}
          styles={{ input: { fontFamily: 'ui-monospace, monospace', fontSize: 13 } }} />
        {problem && (
          <Alert color="red" role="alert" title={t('rules.editor.invalid')}>
            <Text size="sm">{problem.detail}</Text>
            {problem.errors.length > 0 && (
              <ul>
                {problem.errors.map((error) => (
                  <li key={`${error.field}:${error.message}`}>
                    <code>{error.field}</code>: {error.message}
                  </li>
                ))}
              </ul>
            )}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            {t('rules.editor.cancel')}
          </Button>
          <Button onClick={submit} loading={save.isPending}>
            {t('common.save')}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** Find the case by its number, then ask the API what the rule would do to it and why. */
export function DryRunDialog({ record, onClose }: { record: RuleRecord; onClose: () => void }) {
  const t = useT();
  const api = useApi();
  const [number, setNumber] = useState('');
  const [error, setError] = useState<string | null>(null);
  const run = useMutation({
    mutationFn: async (caseNumber: number) => {
      const found = await api.GET('/cases/by-number/{number}', { params: { path: { number: caseNumber } } });
      if (found.response.status === 404) throw new Error(t('rules.dry.notFound', { number: `#${caseNumber}` }));
      const target = unwrap(found);
      return unwrap(
        await api.POST('/rules/{rule_id}/dry-run', {
          params: { path: { rule_id: record.id } },
          body: { case_id: target.id },
        }),
      );
    },
    onMutate: () => setError(null),
    onError: (failure) => setError(failure instanceof Error ? failure.message : String(failure)),
  });
  const submit = () => {
    const { numbers, invalid } = parseCaseNumbers(number);
    if (numbers.length !== 1 || invalid.length > 0) {
      setError(t('rules.dry.notFound', { number }));
      return;
    }
    run.mutate(numbers[0]);
  };
  const result = run.data;
  return (
    <Modal opened onClose={onClose} size="lg" title={t('rules.dry.title', { name: record.rule.name })}
      closeButtonProps={{ 'aria-label': t('common.close') }}>
      <Stack gap="sm">
        <Text size="sm" c="dimmed">
          {t('rules.dry.hint')}
        </Text>
        <form
          onSubmit={(event) => {
            event.preventDefault();
            submit();
          }}
        >
          <Group align="flex-end">
            <TextInput label={t('rules.dry.caseNumber')} value={number} placeholder="#10234"
              onChange={(e) => setNumber(e.currentTarget.value)} />
            <Button type="submit" loading={run.isPending}>
              {t('rules.dry.run')}
            </Button>
          </Group>
        </form>
        {error && (
          <Alert color="red" role="alert">
            {error}
          </Alert>
        )}
        {result && <DryRunResult result={result} />}
      </Stack>
    </Modal>
  );
}

function DryRunResult({ result }: { result: DryRun }) {
  const t = useT();
  const changes = Object.entries(result.case_changes ?? {});
  return (
    <Stack gap="xs" aria-live="polite">
      <Badge color={result.matched ? 'green' : 'gray'} size="lg">
        {result.matched ? t('rules.dry.matched') : t('rules.dry.notMatched')}
      </Badge>
      {!result.enabled && <Text size="sm">{t('rules.dry.disabled')}</Text>}
      <Text fw={600}>{t('rules.dry.why')}</Text>
      <Text size="sm">
        {result.explanation.detail}
        {result.explanation.decided_by ? ` (${result.explanation.decided_by})` : ''}
      </Text>
      {result.matched && (
        <>
          <Text fw={600}>{t('rules.dry.what')}</Text>
          <ul>
            {result.actions.map((planned, index) => (
              <li key={index}>
                <code>{String((planned.action as { type?: string }).type)}</code>
                {planned.text ? `: ${planned.text}` : ''}
                {planned.note ? ` (${planned.note})` : ''}
              </li>
            ))}
          </ul>
          <Text fw={600}>{t('rules.dry.changes')}</Text>
          {changes.length === 0 ? (
            <Text size="sm">{t('rules.dry.noChanges')}</Text>
          ) : (
            <ul>
              {changes.map(([field, value]) => (
                <li key={field}>
                  <code>{field}</code>: {JSON.stringify(value)}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </Stack>
  );
}
