import { Button, Group, Modal, TextInput } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useNavigate } from 'react-router';
import { type Channel, type Priority, type ViewId, newIdempotencyKey, unwrap } from '../api/client';
import { useApi } from '../context';
import { useT } from '../i18n/locale';

interface Props {
  viewId: ViewId;
  channel: Channel | '';
  priority: Priority | '';
}

export function SaveViewButton({ viewId, channel, priority }: Props) {
  const t = useT();
  const api = useApi();
  const client = useQueryClient();
  const navigate = useNavigate();
  const [opened, setOpened] = useState(false);
  const [name, setName] = useState('');
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST('/saved-views', {
          params: { header: { 'Idempotency-Key': newIdempotencyKey() } },
          body: { name: name.trim(), view_id: viewId, filters: { channel: channel || null, priority: priority || null } },
        }),
      ),
    onSuccess: async (saved) => {
      await client.invalidateQueries({ queryKey: ['saved-views'] });
      setOpened(false);
      setName('');
      navigate(`/desk/saved/${saved.id}`);
    },
  });
  return (
    <>
      <Button size="xs" variant="default" onClick={() => setOpened(true)}>
        {t('queue.saveView')}
      </Button>
      <Modal
        opened={opened}
        onClose={() => setOpened(false)}
        title={t('queue.saveView')}
        centered
        closeButtonProps={{ 'aria-label': t('common.close') }}
      >
        <form
          onSubmit={(event) => {
            event.preventDefault();
            if (name.trim()) save.mutate();
          }}
        >
          <TextInput
            label={t('queue.viewName')}
            value={name}
            maxLength={80}
            required
            data-autofocus
            onChange={(event) => setName(event.currentTarget.value)}
            error={save.isError ? (save.error as Error).message : undefined}
          />
          <Group justify="flex-end" mt="md">
            <Button type="submit" loading={save.isPending}>
              {t('common.save')}
            </Button>
          </Group>
        </form>
      </Modal>
    </>
  );
}
