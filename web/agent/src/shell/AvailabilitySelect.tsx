import { NativeSelect } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { type Agent, unwrap } from '../api/client';
import { useApi } from '../context';
import { useT } from '../i18n/locale';

export const AVAILABILITIES = ['online', 'away', 'offline'] as const;
type Availability = (typeof AVAILABILITIES)[number];

function isAvailability(value: string): value is Availability {
  return (AVAILABILITIES as readonly string[]).includes(value);
}

/** The signed-in agent's availability: routing only hands cases to agents who are online. */
export function AvailabilitySelect({ me }: { me: Agent }) {
  const t = useT();
  const api = useApi();
  const client = useQueryClient();
  const change = useMutation({
    mutationFn: async (availability: Availability) =>
      unwrap(
        await api.PUT('/agents/{agent_id}/availability', {
          params: { path: { agent_id: me.id } },
          body: { availability },
        }),
      ),
    onSuccess: (agent) => client.setQueryData(['me'], agent),
  });
  const current = change.isPending && change.variables ? change.variables : (me.availability ?? 'offline');
  return (
    <NativeSelect
      label={t('shell.availability')}
      size="xs"
      className="availability-select"
      value={current}
      disabled={change.isPending}
      error={change.isError ? t('shell.availabilityFailed') : undefined}
      onChange={(event) => {
        const next = event.currentTarget.value;
        if (isAvailability(next)) change.mutate(next);
      }}
      data={AVAILABILITIES.map((value) => ({ value, label: t(`availability.${value}`) }))}
    />
  );
}
