/** Small presentational pieces shared by the queue and the case screens. */
import type { CaseStatus, Channel, Priority } from '../api/client';
import { useFormatDateTime, useT } from '../i18n/locale';
import { slaState } from '../lib/sla';
import { useNow } from '../lib/useNow';

export function StatusBadge({ status }: { status: CaseStatus | undefined }) {
  const t = useT();
  const value = status ?? 'new';
  return <span className={`pill status-${value}`}>{t(`status.${value}` as const)}</span>;
}

export function PriorityBadge({ priority }: { priority: Priority | undefined }) {
  const t = useT();
  const value = priority ?? 'normal';
  return <span className={`pill priority-${value}`}>{t(`priority.${value}` as const)}</span>;
}

export function ChannelLabel({ channel }: { channel: Channel | null | undefined }) {
  const t = useT();
  if (!channel) return null;
  return <span className="channel">{t(`channel.${channel}` as const)}</span>;
}

/** The next SLA target in the agent's zone, marked when it is overdue or less than an hour away. */
export function SlaDue({ dueAt, withLabel = false }: { dueAt: string | null | undefined; withLabel?: boolean }) {
  const t = useT();
  const format = useFormatDateTime();
  const now = useNow();
  const state = slaState(dueAt, now);
  if (!state || !dueAt) return <span className="sla-none">{withLabel ? t('sla.none') : '—'}</span>;
  return (
    <span className={`sla sla-${state}`}>
      {withLabel && <span className="sla-caption">{t('sla.due')} </span>}
      <time dateTime={dueAt}>{format(dueAt)}</time>
      {state !== 'ok' && <span className="sla-flag">{t(state === 'overdue' ? 'sla.overdue' : 'sla.soon')}</span>}
    </span>
  );
}

export function DateTime({ iso }: { iso: string | null | undefined }) {
  const format = useFormatDateTime();
  if (!iso) return null;
  return <time dateTime={iso}>{format(iso)}</time>;
}
