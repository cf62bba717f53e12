import { Alert, Button, Group, Loader, NativeSelect, Text, Title } from '@mantine/core';
import { useMediaQuery } from '@mantine/hooks';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Navigate, useNavigate, useParams } from 'react-router';
import { CHANNELS, type Case, type Channel, PRIORITIES, type Priority, type ViewId, unwrap } from '../api/client';
import { nameIndex, useAgents, useSavedViews } from '../api/queries';
import { useApi } from '../context';
import { useT } from '../i18n/locale';
import { VIEW_KEY } from '../live/cache';
import { isViewId, useViewLabel } from '../shell/views';
import { BulkBar, BulkResultsDialog } from './BulkBar';
import type { BulkSummary } from './bulkSummary';
import { CaseList } from './CaseList';
import { CaseTable } from './CaseTable';
import { useQueueKeys } from './keys';
import { SaveViewButton } from './SaveViewDialog';

export const PAGE_SIZES = [25, 50, 100, 200];

export interface QueueSource {
  viewId: ViewId;
  title: string;
  channel: Channel | '';
  priority: Priority | '';
  /** Key that resets the screen's state when the source changes. */
  key: string;
}

/** /desk/views/:viewId and /desk/saved/:savedId both land here. */
export function QueueRoute() {
  const { viewId, savedId } = useParams();
  const label = useViewLabel();
  const t = useT();
  const saved = useSavedViews();
  if (savedId) {
    if (saved.isPending) return <Loader role="status" aria-label={t('common.loading')} />;
    const view = saved.data?.find((item) => item.id === savedId);
    if (!view) return <Alert color="orange" title={t('queue.savedMissing')} />;
    const source: QueueSource = {
      viewId: view.view_id,
      title: view.name,
      channel: view.filters?.channel ?? '',
      priority: (view.filters?.priority as Priority | null | undefined) ?? '',
      key: `saved:${view.id}`,
    };
    return <QueueScreen key={source.key} source={source} />;
  }
  if (!isViewId(viewId)) return <Navigate to="/desk/views/mine" replace />;
  const source: QueueSource = { viewId, title: label(viewId), channel: '', priority: '', key: `view:${viewId}` };
  return <QueueScreen key={source.key} source={source} />;
}

export function QueueScreen({ source }: { source: QueueSource }) {
  const t = useT();
  const api = useApi();
  const navigate = useNavigate();
  const phone = useMediaQuery('(max-width: 48em)') ?? false;
  const agents = useAgents();
  const agentNames = useMemo(() => nameIndex(agents.data), [agents.data]);

  const [channel, setChannel] = useState<Channel | ''>(source.channel);
  const [priority, setPriority] = useState<Priority | ''>(source.priority);
  const [limit, setLimit] = useState(25);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const cursor = cursors[cursors.length - 1];
  const [selected, setSelected] = useState<Map<string, Case>>(() => new Map());
  const [focused, setFocused] = useState(-1);
  const [rows, setRows] = useState<Case[]>([]);
  const [bulkSummary, setBulkSummary] = useState<BulkSummary | null>(null);

  const page = useQuery({
    queryKey: [VIEW_KEY, source.viewId, { channel, priority, limit, cursor }],
    queryFn: async () =>
      unwrap(
        await api.GET('/views/{view_id}', {
          params: {
            path: { view_id: source.viewId },
            query: { limit, cursor, channel: channel || undefined, priority: priority || undefined },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const items = useMemo(() => page.data?.items ?? [], [page.data]);

  // Keep selected snapshots fresh as rows change live, so the bulk dialog names the right numbers.
  useEffect(() => {
    setSelected((current) => {
      let changed = false;
      const next = new Map(current);
      for (const item of items) {
        if (next.has(item.id) && next.get(item.id) !== item) {
          next.set(item.id, item);
          changed = true;
        }
      }
      return changed ? next : current;
    });
  }, [items]);

  const resetPaging = () => {
    setCursors([undefined]);
    setFocused(-1);
  };

  const toggle = useCallback((item: Case) => {
    setSelected((current) => {
      const next = new Map(current);
      if (next.has(item.id)) next.delete(item.id);
      else next.set(item.id, item);
      return next;
    });
  }, []);

  const setPageSelection = useCallback((pageItems: Case[], on: boolean) => {
    setSelected((current) => {
      const next = new Map(current);
      for (const item of pageItems) {
        if (on) next.set(item.id, item);
        else next.delete(item.id);
      }
      return next;
    });
  }, []);

  const open = useCallback(
    (item: Case, reply = false) => navigate(`/desk/cases/${item.id}`, { state: reply ? { reply: true } : undefined }),
    [navigate],
  );

  const moveByKey = useRef(false);
  useQueueKeys(
    {
      count: rows.length,
      focused,
      setFocused: (index) => {
        moveByKey.current = true;
        setFocused(index);
      },
      open: (index) => open(rows[index]),
      reply: (index) => open(rows[index], true),
      toggle: (index) => toggle(rows[index]),
    },
    true,
  );

  const rowRefs = useRef(new Map<number, HTMLElement>());
  // Only j/k move DOM focus; focus that arrives by mouse or Tab just marks its row.
  useEffect(() => {
    if (moveByKey.current && focused >= 0) rowRefs.current.get(focused)?.focus();
    moveByKey.current = false;
  }, [focused]);

  return (
    <div className="queue-screen">
      <div className="screen-header">
        <div>
          <Title order={1} size="h2">
            {source.title}
          </Title>
          <Text size="sm" className="muted">
            {t('queue.keyboardHint')}
          </Text>
        </div>
        {page.isFetching && <Loader role="status" size="xs" aria-label={t('common.loading')} />}
      </div>

      <div className="toolbar" role="group" aria-label={t('queue.filters')}>
        <NativeSelect
          label={t('queue.channel')}
          size="xs"
          value={channel}
          onChange={(event) => {
            setChannel(event.currentTarget.value as Channel | '');
            resetPaging();
          }}
          data={[
            { value: '', label: t('queue.anyChannel') },
            ...CHANNELS.map((value) => ({ value, label: t(`channel.${value}` as const) })),
          ]}
        />
        <NativeSelect
          label={t('queue.priority')}
          size="xs"
          value={priority}
          onChange={(event) => {
            setPriority(event.currentTarget.value as Priority | '');
            resetPaging();
          }}
          data={[
            { value: '', label: t('queue.anyPriority') },
            ...PRIORITIES.map((value) => ({ value, label: t(`priority.${value}` as const) })),
          ]}
        />
        <NativeSelect
          label={t('queue.rowsPerPage')}
          size="xs"
          value={String(limit)}
          onChange={(event) => {
            setLimit(Number(event.currentTarget.value));
            resetPaging();
          }}
          data={PAGE_SIZES.map((size) => ({ value: String(size), label: String(size) }))}
        />
        <div className="toolbar-spacer" />
        <SaveViewButton viewId={source.viewId} channel={channel} priority={priority} />
      </div>

      {selected.size > 0 && (
        <BulkBar
          selected={selected}
          onClear={() => setSelected(new Map())}
          onDone={(summary) => {
            setBulkSummary(summary);
            setSelected((current) => {
              const next = new Map(current);
              summary.succeededIds.forEach((id) => next.delete(id));
              return next;
            });
          }}
        />
      )}
      <BulkResultsDialog summary={bulkSummary} onClose={() => setBulkSummary(null)} />

      {page.isError && (
        <Alert color="red" role="alert" title={t('queue.loadFailed')}>
          {(page.error as Error).message}
        </Alert>
      )}

      {phone ? (
        <CaseList
          label={source.title}
          items={items}
          selected={selected}
          onToggle={toggle}
          onTogglePage={setPageSelection}
          agentNames={agentNames}
          focused={focused}
          setFocused={setFocused}
          rowRefs={rowRefs.current}
          onRows={setRows}
        />
      ) : (
        <CaseTable
          label={source.title}
          items={items}
          selected={selected}
          onToggle={toggle}
          onTogglePage={setPageSelection}
          agentNames={agentNames}
          focused={focused}
          setFocused={setFocused}
          rowRefs={rowRefs.current}
          onRows={setRows}
        />
      )}
      {page.isSuccess && items.length === 0 && <p className="empty">{t('queue.empty')}</p>}

      <Group justify="space-between" className="pager">
        <Text size="sm" className="muted">
          {t('queue.page', { page: cursors.length })}
        </Text>
        <Group gap="xs">
          <Button
            variant="default"
            size="xs"
            disabled={cursors.length <= 1}
            onClick={() => {
              setCursors((stack) => stack.slice(0, -1));
              setFocused(-1);
            }}
          >
            {t('queue.previousPage')}
          </Button>
          <Button
            variant="default"
            size="xs"
            disabled={!page.data?.next_cursor}
            onClick={() => {
              const next = page.data?.next_cursor;
              if (next) setCursors((stack) => [...stack, next]);
              setFocused(-1);
            }}
          >
            {t('queue.nextPage')}
          </Button>
        </Group>
      </Group>
    </div>
  );
}
