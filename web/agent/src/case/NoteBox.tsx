import { Button, Group, Text, Textarea } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useId, useRef, useState } from 'react';
import { type Case, newIdempotencyKey, unwrap } from '../api/client';
import { useAgents } from '../api/queries';
import { useApi } from '../context';
import { useT } from '../i18n/locale';
import { CASE_KEY } from '../live/cache';
import { useAttachments } from './useAttachments';
import { AttachButton, PendingFiles } from './AttachmentPicker';
import { type MentionQuery, insertMention, mentionAt, suggestAgents } from './mentions';

export function NoteBox({ item }: { item: Case }) {
  const t = useT();
  const api = useApi();
  const client = useQueryClient();
  const agents = useAgents();
  const [text, setText] = useState('');
  const [mention, setMention] = useState<MentionQuery | null>(null);
  const [active, setActive] = useState(0);
  const attachments = useAttachments(item.id);
  const idempotencyKey = useRef<string | null>(null);
  const textarea = useRef<HTMLTextAreaElement>(null);
  const listId = useId();

  const suggestions = mention ? suggestAgents(agents.data ?? [], mention.query) : [];
  const open = suggestions.length > 0;

  const add = useMutation({
    mutationFn: async () => {
      idempotencyKey.current ??= newIdempotencyKey();
      return unwrap(
        await api.POST('/cases/{case_id}/notes', {
          params: { path: { case_id: item.id }, header: { 'Idempotency-Key': idempotencyKey.current } },
          body: { text, attachments: attachments.files },
        }),
      );
    },
    onSuccess: () => {
      idempotencyKey.current = null;
      setText('');
      setMention(null);
      attachments.clear();
      void client.invalidateQueries({ queryKey: [CASE_KEY, item.id] });
    },
  });

  const track = (value: string, caret: number) => {
    const next = mentionAt(value, caret);
    setMention(next);
    setActive(0);
  };

  const choose = (handle: string) => {
    const element = textarea.current;
    if (!mention || !element) return;
    const caret = element.selectionStart ?? text.length;
    const result = insertMention(text, mention, caret, handle);
    setText(result.text);
    setMention(null);
    requestAnimationFrame(() => {
      element.focus();
      element.setSelectionRange(result.caret, result.caret);
    });
  };

  return (
    <form
      className="composer composer-note"
      aria-label={t('case.noteForm')}
      onSubmit={(event) => {
        event.preventDefault();
        if (text.trim()) add.mutate();
      }}
    >
      <Textarea
        ref={textarea}
        label={t('case.internalNote')}
        description={t('case.noteHint')}
        autosize
        minRows={2}
        maxRows={10}
        value={text}
        aria-autocomplete="list"
        aria-controls={open ? listId : undefined}
        aria-activedescendant={open ? `${listId}-${active}` : undefined}
        onChange={(event) => {
          setText(event.currentTarget.value);
          idempotencyKey.current = null;
          track(event.currentTarget.value, event.currentTarget.selectionStart ?? event.currentTarget.value.length);
        }}
        onKeyDown={(event) => {
          if (!open) return;
          if (event.key === 'ArrowDown') {
            event.preventDefault();
            setActive((index) => (index + 1) % suggestions.length);
          } else if (event.key === 'ArrowUp') {
            event.preventDefault();
            setActive((index) => (index - 1 + suggestions.length) % suggestions.length);
          } else if (event.key === 'Enter' || event.key === 'Tab') {
            event.preventDefault();
            choose(suggestions[active].handle);
          } else if (event.key === 'Escape') {
            event.preventDefault();
            setMention(null);
          }
        }}
        onBlur={() => setTimeout(() => setMention(null), 150)}
      />
      {open && (
        <ul className="mention-list" id={listId} role="listbox" aria-label={t('case.mentionSuggestions')}>
          {suggestions.map((agent, index) => (
            <li
              key={agent.id}
              id={`${listId}-${index}`}
              role="option"
              aria-selected={index === active}
              className={index === active ? 'active' : ''}
              onMouseDown={(event) => {
                event.preventDefault();
                choose(agent.handle);
              }}
            >
              <span className="mention-handle">@{agent.handle}</span>
              <span className="mention-name">{agent.name}</span>
            </li>
          ))}
        </ul>
      )}
      <PendingFiles attachments={attachments} />
      <Group justify="space-between" mt="xs">
        <AttachButton attachments={attachments} />
        <Button
          type="submit"
          variant="default"
          loading={add.isPending}
          disabled={!text.trim() || attachments.uploading}
        >
          {t('case.addNote')}
        </Button>
      </Group>
      {(add.isError || attachments.error) && (
        <Text role="alert" className="error-text">
          {attachments.error ?? (add.error as Error).message}
        </Text>
      )}
    </form>
  );
}
