import { Checkbox } from '@mantine/core';
import {
  type ColumnDef,
  type SortingState,
  flexRender,
  getCoreRowModel,
  getSortedRowModel,
  useReactTable,
} from '@tanstack/react-table';
import { useEffect, useMemo, useState } from 'react';
import { Link } from 'react-router';
import type { Case } from '../api/client';
import { useT } from '../i18n/locale';
import { ChannelLabel, DateTime, PriorityBadge, SlaDue, StatusBadge } from '../shell/bits';

const PRIORITY_RANK = { low: 0, normal: 1, high: 2, urgent: 3 } as const;
const STATUS_RANK = { new: 0, open: 1, pending: 2, on_hold: 3, solved: 4, closed: 5 } as const;

export interface CaseRowsProps {
  label: string;
  items: Case[];
  selected: Map<string, Case>;
  onToggle: (item: Case) => void;
  onTogglePage: (items: Case[], on: boolean) => void;
  agentNames: Map<string, string>;
  focused: number;
  setFocused: (index: number) => void;
  rowRefs: Map<number, HTMLElement>;
  /** The rows in the order shown, for keyboard navigation. */
  onRows: (rows: Case[]) => void;
}

export function CaseTable(props: CaseRowsProps) {
  const { label, items, selected, onToggle, onTogglePage, agentNames, focused, setFocused, rowRefs, onRows } = props;
  const t = useT();
  const [sorting, setSorting] = useState<SortingState>([]);

  const columns = useMemo<ColumnDef<Case>[]>(
    () => [
      { id: 'number', header: t('col.number'), accessorKey: 'number' },
      { id: 'subject', header: t('col.subject'), accessorKey: 'subject' },
      { id: 'customer', header: t('col.customer'), accessorFn: (row) => row.requester_name ?? '' },
      { id: 'priority', header: t('col.priority'), accessorFn: (row) => PRIORITY_RANK[row.priority ?? 'normal'] },
      { id: 'status', header: t('col.status'), accessorFn: (row) => STATUS_RANK[row.status ?? 'new'] },
      {
        id: 'assignee',
        header: t('col.assignee'),
        accessorFn: (row) => (row.assignee_id ? (agentNames.get(row.assignee_id) ?? '') : ''),
      },
      { id: 'channel', header: t('col.channel'), accessorKey: 'channel' },
      {
        id: 'due',
        header: t('col.slaDue'),
        accessorFn: (row) => (row.due_at ? Date.parse(row.due_at) : Number.MAX_SAFE_INTEGER),
      },
      { id: 'updated', header: t('col.updated'), accessorFn: (row) => Date.parse(row.updated_at) },
    ],
    [t, agentNames],
  );

  const table = useReactTable({
    data: items,
    columns,
    state: { sorting },
    onSortingChange: setSorting,
    getRowId: (row) => row.id,
    getCoreRowModel: getCoreRowModel(),
    getSortedRowModel: getSortedRowModel(),
  });
  const rows = table.getRowModel().rows;
  const shown = useMemo(() => rows.map((row) => row.original), [rows]);
  useEffect(() => onRows(shown), [shown, onRows]);

  const allOnPage = items.length > 0 && items.every((item) => selected.has(item.id));
  const someOnPage = items.some((item) => selected.has(item.id));

  return (
    <div className="table-wrap">
      <table className="case-table" aria-label={label}>
        <thead>
          {table.getHeaderGroups().map((group) => (
            <tr key={group.id}>
              <th scope="col" className="col-select">
                <Checkbox
                  size="xs"
                  aria-label={t('queue.selectAll')}
                  checked={allOnPage}
                  indeterminate={!allOnPage && someOnPage}
                  onChange={(event) => onTogglePage(items, event.currentTarget.checked)}
                />
              </th>
              {group.headers.map((header) => {
                const sorted = header.column.getIsSorted();
                return (
                  <th
                    key={header.id}
                    scope="col"
                    className={`col-${header.id}`}
                    aria-sort={sorted === 'asc' ? 'ascending' : sorted === 'desc' ? 'descending' : undefined}
                  >
                    <button type="button" className="sort-button" onClick={header.column.getToggleSortingHandler()}>
                      {flexRender(header.column.columnDef.header, header.getContext())}
                      <span className="sort-mark" aria-hidden="true">
                        {sorted === 'asc' ? '▲' : sorted === 'desc' ? '▼' : ''}
                      </span>
                    </button>
                  </th>
                );
              })}
            </tr>
          ))}
        </thead>
        <tbody>
          {rows.map((row, index) => {
            const item = row.original;
            const isSelected = selected.has(item.id);
            return (
              <tr
                key={row.id}
                ref={(element) => {
                  if (element) rowRefs.set(index, element);
                  else rowRefs.delete(index);
                }}
                tabIndex={focused === index || (focused < 0 && index === 0) ? 0 : -1}
                aria-selected={focused === index}
                className={[focused === index ? 'row-focused' : '', isSelected ? 'row-selected' : ''].join(' ')}
                onFocus={() => {
                  if (focused !== index) setFocused(index);
                }}
              >
                <td className="col-select">
                  <Checkbox
                    size="xs"
                    aria-label={t('queue.selectCase', { number: item.number })}
                    checked={isSelected}
                    onChange={() => onToggle(item)}
                  />
                </td>
                <td className="col-number">
                  <Link to={`/desk/cases/${item.id}`} className="case-link">
                    #{item.number}
                  </Link>
                </td>
                <td className="col-subject">
                  <span className="subject">{item.subject}</span>
                </td>
                <td className="col-customer">{item.requester_name ?? ''}</td>
                <td>
                  <PriorityBadge priority={item.priority} />
                </td>
                <td>
                  <StatusBadge status={item.status} />
                </td>
                <td className="col-assignee">
                  {item.assignee_id ? (agentNames.get(item.assignee_id) ?? '…') : <span className="muted">{t('queue.unassigned')}</span>}
                </td>
                <td>
                  <ChannelLabel channel={item.channel} />
                </td>
                <td className="col-due">
                  <SlaDue dueAt={item.due_at} />
                </td>
                <td className="col-updated">
                  <DateTime iso={item.updated_at} />
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
