import { Alert, Button, Loader, NativeSelect } from '@mantine/core';
import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import { FormattedNumber } from 'react-intl';
import { Link } from 'react-router';
import { CHANNELS, type Channel, TIMELINE_KINDS, type TimelineKind, unwrap } from '../api/client';
import { useApi } from '../context';
import { useT } from '../i18n/locale';
import { ChannelLabel, DateTime, PriorityBadge, StatusBadge } from '../shell/bits';

const TIMELINE_PAGE = 20;

/** Profile, value, other open cases and the unified timeline of the case's customer. */
export default function Customer360({ customerId, currentCaseId }: { customerId: string; currentCaseId: string }) {
  const t = useT();
  const api = useApi();
  const overview = useQuery({
    queryKey: ['customer360', customerId],
    queryFn: async () =>
      unwrap(
        await api.GET('/customers/{customer_id}/360', {
          params: { path: { customer_id: customerId }, query: { page_size: 1 } },
        }),
      ),
  });
  if (overview.isPending) {
    return (
      <aside className="customer panel" aria-label={t('customer.region')}>
        <Loader role="status" size="sm" aria-label={t('common.loading')} />
      </aside>
    );
  }
  if (overview.isError) {
    return (
      <aside className="customer panel" aria-label={t('customer.region')}>
        <Alert color="red" role="alert" title={t('customer.failed')} />
      </aside>
    );
  }
  const { customer, open_cases: openCases, counts } = overview.data;
  const others = openCases.filter((item) => item.case_id !== currentCaseId);
  return (
    <aside className="customer panel" aria-label={t('customer.region')}>
      <h2 className="customer-name">{customer.name}</h2>
      <dl className="facts">
        <div>
          <dt>{t('customer.tier')}</dt>
          <dd>
            <span className={`pill tier-${customer.tier ?? 'standard'}`}>
              {t(`tier.${customer.tier ?? 'standard'}` as const)}
            </span>
          </dd>
        </div>
        <div>
          <dt>{t('customer.lifetimeValue')}</dt>
          <dd>
            {customer.lifetime_value ? (
              <FormattedNumber
                value={Number(customer.lifetime_value.amount)}
                style="currency"
                currency={customer.lifetime_value.currency}
              />
            ) : (
              '—'
            )}
          </dd>
        </div>
        <div>
          <dt>{t('customer.email')}</dt>
          <dd className="wrap-anywhere">{customer.emails?.[0] ?? '—'}</dd>
        </div>
        <div>
          <dt>{t('customer.cases')}</dt>
          <dd>{counts.cases_total ?? openCases.length}</dd>
        </div>
      </dl>

      <h3 className="panel-subtitle" id={`other-${customerId}`}>
        {t('customer.otherOpen')}
      </h3>
      <ul className="other-cases" aria-label={t('customer.otherOpen')}>
        {others.map((item) => (
          <li key={item.case_id}>
            <Link to={`/desk/cases/${item.case_id}`} className="case-link">
              #{item.number}
            </Link>
            <span className="other-subject">{item.subject}</span>
            <span className="other-badges">
              <StatusBadge status={item.status as never} />
              <PriorityBadge priority={item.priority as never} />
            </span>
          </li>
        ))}
        {others.length === 0 && <li className="muted">{t('customer.noOtherOpen')}</li>}
      </ul>

      <Timeline customerId={customerId} />
    </aside>
  );
}

function Timeline({ customerId }: { customerId: string }) {
  const t = useT();
  const api = useApi();
  const [kind, setKind] = useState<TimelineKind | ''>('');
  const [channel, setChannel] = useState<Channel | ''>('');
  const timeline = useInfiniteQuery({
    queryKey: ['timeline', customerId, { kind, channel }],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET('/customers/{customer_id}/timeline', {
          params: {
            path: { customer_id: customerId },
            query: { limit: TIMELINE_PAGE, cursor: pageParam, kind: kind || undefined, channel: channel || undefined },
          },
        }),
      ),
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });

  // Scrolling the last entry into view loads the next page.
  const sentinel = useRef<HTMLLIElement>(null);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = timeline;
  useEffect(() => {
    const element = sentinel.current;
    if (!element || !hasNextPage || typeof IntersectionObserver === 'undefined') return undefined;
    const observer = new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting) && !isFetchingNextPage) void fetchNextPage();
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage, timeline.data]);

  const entries = timeline.data?.pages.flatMap((page) => page.items) ?? [];
  return (
    <section className="timeline-section" aria-labelledby={`timeline-${customerId}`}>
      <h3 className="panel-subtitle" id={`timeline-${customerId}`}>
        {t('customer.timeline')}
      </h3>
      <div className="timeline-filters">
        <NativeSelect
          size="xs"
          label={t('customer.kind')}
          value={kind}
          onChange={(event) => setKind(event.currentTarget.value as TimelineKind | '')}
          data={[
            { value: '', label: t('customer.allKinds') },
            ...TIMELINE_KINDS.map((value) => ({ value, label: t(`kind.${value}` as const) })),
          ]}
        />
        <NativeSelect
          size="xs"
          label={t('customer.channel')}
          value={channel}
          onChange={(event) => setChannel(event.currentTarget.value as Channel | '')}
          data={[
            { value: '', label: t('queue.anyChannel') },
            ...CHANNELS.map((value) => ({ value, label: t(`channel.${value}` as const) })),
          ]}
        />
      </div>
      {timeline.isError && <Alert color="red" role="alert" title={t('customer.timelineFailed')} />}
      <ol className="timeline" aria-label={t('customer.timeline')} aria-busy={timeline.isFetching}>
        {entries.map((entry) => (
          <li key={entry.id} className={`timeline-entry kind-${entry.kind}`}>
            <div className="timeline-head">
              <span className="timeline-kind">{t(`kind.${entry.kind}` as const)}</span>
              {entry.channel && <ChannelLabel channel={entry.channel} />}
              <span className="muted timeline-time">
                <DateTime iso={entry.occurred_at} />
              </span>
            </div>
            <div className="timeline-summary">
              {entry.case_id ? <Link to={`/desk/cases/${entry.case_id}`}>{entry.summary}</Link> : entry.summary}
            </div>
          </li>
        ))}
        {timeline.isSuccess && entries.length === 0 && <li className="muted">{t('customer.timelineEmpty')}</li>}
        {hasNextPage && <li ref={sentinel} className="timeline-sentinel" aria-hidden="true" />}
      </ol>
      {(timeline.isPending || isFetchingNextPage) && <Loader role="status" size="xs" aria-label={t('common.loading')} />}
      {hasNextPage && !isFetchingNextPage && (
        <Button variant="subtle" size="xs" onClick={() => fetchNextPage()}>
          {t('common.loadMore')}
        </Button>
      )}
    </section>
  );
}
