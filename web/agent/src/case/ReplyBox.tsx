import { Button, Group, NativeSelect, Text, Textarea } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import {
  CHANNELS,
  type Case,
  type CaseStatus,
  type Channel,
  newIdempotencyKey,
  unwrap,
} from '../api/client';
import { useApi } from '../context';
import { useT } from '../i18n/locale';
import { CASE_KEY, VIEW_COUNTS_KEY, VIEW_KEY } from '../live/cache';
import { AttachButton, PendingFiles } from './AttachmentPicker';
import { useAttachments } from './useAttachments';

export function ReplyBox({ item, autoFocus }: { item: Case; autoFocus: boolean }) {
  const t = useT();
  const api = useApi();
  const client = useQueryClient();
  const [text, setText] = useState('');
  const [channel, setChannel] = useState<Channel>(item.channel);
  const [statusAfter, setStatusAfter] = useState<CaseStatus | ''>('');
  const attachments = useAttachments(item.id);
  const idempotencyKey = useRef<string | null>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);

  useEffect(() => {
    if (autoFocus) textarea.current?.focus();
  }, [autoFocus]);

  const send = useMutation({
    mutationFn: async () => {
      // One key per reply: a retry after a lost response cannot post it twice.
      idempotencyKey.current ??= newIdempotencyKey();
      return unwrap(
        await api.POST('/cases/{case_id}/replies', {
          params: { path: { case_id: item.id }, header: { 'Idempotency-Key': idempotencyKey.current } },
          body: { text, channel, status: statusAfter || null, attachments: attachments.files },
        }),
      );
    },
    onSuccess: () => {
      idempotencyKey.current = null;
      setText('');
      attachments.clear();
      setStatusAfter('');
      void client.invalidateQueries({ queryKey: [CASE_KEY, item.id] });
      void client.invalidateQueries({ queryKey: ['timeline', item.requester_id] });
      void client.invalidateQueries({ queryKey: [VIEW_KEY] });
      void client.invalidateQueries({ queryKey: [VIEW_COUNTS_KEY] });
    },
  });

  return (
    <form
      className="composer"
      aria-label={t('case.replyForm')}
      onSubmit={(event) => {
        event.preventDefault();
        if (text.trim()) send.mutate();
      }}
    >
      <Textarea
        ref={textarea}
        label={t('case.reply')}
        placeholder={t('case.replyPlaceholder')}
        autosize
        minRows={3}
        maxRows={14}
        value={text}
        onChange={(event) => {
          setText(event.currentTarget.value);
          idempotencyKey.current = null;
        }}
        onKeyDown={(event) => {
          if (event.key === 'Enter' && (event.metaKey || event.ctrlKey) && text.trim()) send.mutate();
        }}
      />
      <PendingFiles attachments={attachments} />
      <Group gap="sm" align="flex-end" className="composer-actions" wrap="wrap">
        <NativeSelect
          size="xs"
          label={t('case.replyOn')}
          value={channel}
          onChange={(event) => setChannel(event.currentTarget.value as Channel)}
          data={CHANNELS.map((value) => ({ value, label: t(`channel.${value}` as const) }))}
        />
        <NativeSelect
          size="xs"
          label={t('case.afterSending')}
          value={statusAfter}
          onChange={(event) => setStatusAfter(event.currentTarget.value as CaseStatus | '')}
          data={[
            { value: '', label: t('case.keepStatus') },
            { value: 'pending', label: t('status.pending') },
            { value: 'on_hold', label: t('status.on_hold') },
            { value: 'solved', label: t('status.solved') },
          ]}
        />
        <AttachButton attachments={attachments} />
        <div className="toolbar-spacer" />
        <Button type="submit" loading={send.isPending} disabled={!text.trim() || attachments.uploading}>
          {t('case.sendReply')}
        </Button>
      </Group>
      {(send.isError || attachments.error) && (
        <Text role="alert" className="error-text">
          {attachments.error ?? (send.error as Error).message}
        </Text>
      )}
    </form>
  );
}
