import type { Interaction } from '../api/client';
import { useT } from '../i18n/locale';

export type DeliveryState = 'queued' | 'sent' | 'delivered' | 'bounced' | 'failed';
const STATES: readonly DeliveryState[] = ['queued', 'sent', 'delivered', 'bounced', 'failed'];
const TROUBLE: readonly DeliveryState[] = ['bounced', 'failed'];

/** Where an outbound message stands with the provider; updated live as the case is fetched again. */
export function deliveryOf(item: Interaction): { state: DeliveryState; detail: string | null } | null {
  if (item.direction !== 'outbound' || item.visibility === 'internal') return null;
  const state = (item.delivery?.status ?? item.delivery_status) as DeliveryState | null | undefined;
  if (!state || !STATES.includes(state)) return null;
  return { state, detail: item.delivery?.detail ?? null };
}

export function DeliveryBadge({ item }: { item: Interaction }) {
  const t = useT();
  const delivery = deliveryOf(item);
  if (!delivery) return null;
  const label = t('delivery.label', { status: t(`delivery.${delivery.state}` as const) });
  const trouble = TROUBLE.includes(delivery.state);
  return (
    <>
      <span className={`pill delivery delivery-${delivery.state}`} title={delivery.detail ?? undefined}>
        {label}
      </span>
      {trouble && delivery.detail && <span className="delivery-detail">{delivery.detail}</span>}
    </>
  );
}
