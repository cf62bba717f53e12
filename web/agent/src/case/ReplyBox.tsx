import { Button, Group, NativeSelect, Text, Textarea } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import {
  type AttachmentRef,
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
import { uploadAttachment } from './upload';

export function ReplyBox({ item, autoFocus }: { item: Case; autoFocus: boolean }) {
  const t = useT();
  const api = useApi();
  const client = useQueryClient();
  const [text, setText] = useState('');
  const [channel, setChannel] = useState<Channel>(item.channel);
  const [statusAfter, setStatusAfter] = useState<CaseStatus | ''>('');
  const [files, setFiles] = useState<AttachmentRef[]>([]);
  const [uploading, setUploading] = useState(false);
  const [uploadError, setUploadError] = useState<string | null>(null);
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
          body: { text, channel, status: statusAfter || null, attachments: files },
        }),
      );
    },
    onSuccess: () => {
      idempotencyKey.current = null;
      setText('');
      setFiles([]);
      setStatusAfter('');
      void client.invalidateQueries({ queryKey: [CASE_KEY, item.id] });
      void client.invalidateQueries({ queryKey: ['timeline', item.requester_id] });
      void client.invalidateQueries({ queryKey: [VIEW_KEY] });
      void client.invalidateQueries({ queryKey: [VIEW_COUNTS_KEY] });
    },
  });

  const addFiles = async (list: FileList | null) => {
    if (!list || list.length === 0) return;
    setUploading(true);
    setUploadError(null);
    try {
      const uploaded: AttachmentRef[] = [];
      for (const file of Array.from(list)) uploaded.push(await uploadAttachment(api, item.id, file));
      setFiles((current) => [...current, ...uploaded]);
    } catch (error) {
      setUploadError((error as Error).message);
    } finally {
      setUploading(false);
    }
  };

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
      {files.length > 0 && (
        <ul className="pending-files" aria-label={t('case.attachments')}>
          {files.map((file) => (
            <li key={file.sha256}>
              {file.filename}
              <Button
                size="compact-xs"
                variant="subtle"
                color="gray"
                aria-label={t('case.removeAttachment', { name: file.filename })}
                onClick={() => setFiles((current) => current.filter((other) => other.sha256 !== file.sha256))}
              >
                ×
              </Button>
            </li>
          ))}
        </ul>
      )}
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
        <label className="file-button">
          <input
            type="file"
            multiple
            className="visually-hidden"
            onChange={(event) => {
              void addFiles(event.currentTarget.files);
              event.currentTarget.value = '';
            }}
          />
          <span>{uploading ? t('case.uploading') : t('case.attachFiles')}</span>
        </label>
        <div className="toolbar-spacer" />
        <Button type="submit" loading={send.isPending} disabled={!text.trim() || uploading}>
          {t('case.sendReply')}
        </Button>
      </Group>
      {(send.isError || uploadError) && (
        <Text role="alert" className="error-text">
          {uploadError ?? (send.error as Error).message}
        </Text>
      )}
    </form>
  );
}
