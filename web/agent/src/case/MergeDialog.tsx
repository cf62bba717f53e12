import { Alert, Button, Group, Modal, Text, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ApiError, type Case, newIdempotencyKey, unwrap } from '../api/client';
import { useApi } from '../context';
import { useT } from '../i18n/locale';
import { CASE_KEY, VIEW_COUNTS_KEY, VIEW_KEY } from '../live/cache';
import { parseCaseNumbers } from '../lib/caseNumbers';

interface MergeDone {
  mergeId: string;
  numbers: number[];
  undoUntil: number;
}

/** The last merge into a case stays undoable while its window lasts, also after looking at another screen. */
const storageKey = (caseId: string) => `caseline.merge.${caseId}`;

export function loadMerge(caseId: string, now: number): MergeDone | null {
  try {
    const raw = sessionStorage.getItem(storageKey(caseId));
    const done = raw ? (JSON.parse(raw) as MergeDone) : null;
    return done && done.undoUntil > now ? done : null;
  } catch {
    return null;
  }
}

function storeMerge(caseId: string, done: MergeDone | null): void {
  if (done) sessionStorage.setItem(storageKey(caseId), JSON.stringify(done));
  else sessionStorage.removeItem(storageKey(caseId));
}

export function MergeControls({ item }: { item: Case }) {
  const t = useT();
  const api = useApi();
  const client = useQueryClient();
  const [opened, setOpened] = useState(false);
  const [text, setText] = useState('');
  const [inputError, setInputError] = useState<string | null>(null);
  const [done, setDoneState] = useState<MergeDone | null>(() => loadMerge(item.id, Date.now()));
  const setDone = (next: MergeDone | null) => {
    storeMerge(item.id, next);
    setDoneState(next);
  };
  const [undone, setUndone] = useState(false);

  const refresh = () => {
    void client.invalidateQueries({ queryKey: [CASE_KEY] });
    void client.invalidateQueries({ queryKey: ['case-summary'] });
    void client.invalidateQueries({ queryKey: [VIEW_KEY] });
    void client.invalidateQueries({ queryKey: [VIEW_COUNTS_KEY] });
  };

  const merge = useMutation({
    mutationFn: async (numbers: number[]) => {
      const sources: Case[] = [];
      for (const number of numbers) {
        const result = await api.GET('/cases/by-number/{number}', { params: { path: { number } } });
        if (result.response.status === 404) throw new Error(t('merge.notFound', { number }));
        sources.push(unwrap(result));
      }
      const ids = sources.map((source) => source.id).filter((id) => id !== item.id);
      if (ids.length === 0) throw new Error(t('merge.nothing'));
      return unwrap(
        await api.POST('/cases/{case_id}/merge', {
          params: { path: { case_id: item.id }, header: { 'Idempotency-Key': newIdempotencyKey() } },
          body: { source_ids: ids },
        }),
      );
    },
    onSuccess: (result, numbers) => {
      setOpened(false);
      setText('');
      setUndone(false);
      setDone({ mergeId: result.merge_id, numbers, undoUntil: Date.parse(result.undo_until) });
      refresh();
    },
  });

  const undo = useMutation({
    mutationFn: async (mergeId: string) =>
      unwrap(
        await api.POST('/merges/{merge_id}/undo', {
          params: { path: { merge_id: mergeId }, header: { 'Idempotency-Key': newIdempotencyKey() } },
        }),
      ),
    onSuccess: () => {
      setDone(null);
      setUndone(true);
      refresh();
    },
  });

  // The undo button goes when the undo window closes.
  useEffect(() => {
    if (!done) return undefined;
    const clear = () => {
      storeMerge(item.id, null);
      setDoneState(null);
    };
    const left = done.undoUntil - Date.now();
    if (left <= 0) {
      clear();
      return undefined;
    }
    const timer = setTimeout(clear, Math.min(left, 2 ** 31 - 1));
    return () => clearTimeout(timer);
  }, [done, item.id]);

  const submit = () => {
    const parsed = parseCaseNumbers(text);
    if (parsed.invalid.length) {
      setInputError(t('merge.invalid', { items: parsed.invalid.join(', ') }));
      return;
    }
    if (parsed.numbers.length === 0) {
      setInputError(t('merge.nothing'));
      return;
    }
    setInputError(null);
    merge.mutate(parsed.numbers);
  };

  const mergeError = merge.error instanceof ApiError ? merge.error.message : (merge.error as Error | null)?.message;

  return (
    <>
      <Button size="xs" variant="default" onClick={() => setOpened(true)} disabled={Boolean(item.merged_into)}>
        {t('merge.button')}
      </Button>
      {done && (
        <Alert color="teal" role="alert" className="merge-alert">
          <Group justify="space-between" gap="sm">
            <Text size="sm">
              {t('merge.merged', { numbers: done.numbers.map((number) => `#${number}`).join(', ') })}
            </Text>
            <Button size="xs" variant="default" loading={undo.isPending} onClick={() => undo.mutate(done.mergeId)}>
              {t('merge.undo')}
            </Button>
          </Group>
          {undo.isError && <Text className="error-text">{(undo.error as Error).message}</Text>}
        </Alert>
      )}
      {undone && (
        <Alert color="gray" role="alert" className="merge-alert" withCloseButton onClose={() => setUndone(false)}
          closeButtonLabel={t('common.close')}>
          {t('merge.undone')}
        </Alert>
      )}
      <Modal
        opened={opened}
        onClose={() => setOpened(false)}
        title={t('merge.button')}
        centered
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        <form
          onSubmit={(event) => {
            event.preventDefault();
            submit();
          }}
        >
          <Text size="sm" mb="sm">
            {t('merge.explain', { number: item.number })}
          </Text>
          <TextInput
            label={t('merge.numbers')}
            placeholder="#10234, #10235"
            value={text}
            data-autofocus
            onChange={(event) => setText(event.currentTarget.value)}
            error={inputError ?? mergeError}
          />
          <Group justify="flex-end" mt="md">
            <Button type="submit" loading={merge.isPending}>
              {t('merge.submit')}
            </Button>
          </Group>
        </form>
      </Modal>
    </>
  );
}
