import { Checkbox } from '@mantine/core';
import { useEffect } from 'react';
import { Link } from 'react-router';
import { useT } from '../i18n/locale';
import { PriorityBadge, SlaDue, StatusBadge } from '../shell/bits';
import type { CaseRowsProps } from './CaseTable';

/** The phone layout of a queue: one card per case, the same selection and keyboard model as the table. */
export function CaseList(props: CaseRowsProps) {
  const { label, items, selected, onToggle, onTogglePage, agentNames, focused, setFocused, rowRefs, onRows } = props;
  const t = useT();
  useEffect(() => onRows(items), [items, onRows]);
  const allOnPage = items.length > 0 && items.every((item) => selected.has(item.id));
  return (
    <>
      <Checkbox
        className="list-select-all"
        size="sm"
        label={t('queue.selectAll')}
        checked={allOnPage}
        onChange={(event) => onTogglePage(items, event.currentTarget.checked)}
      />
      <ul className="case-list" aria-label={label}>
        {items.map((item, index) => (
          <li
            key={item.id}
            ref={(element) => {
              if (element) rowRefs.set(index, element);
              else rowRefs.delete(index);
            }}
            tabIndex={focused === index ? 0 : -1}
            className={focused === index ? 'row-focused' : ''}
            onFocus={() => focused !== index && setFocused(index)}
          >
            <Checkbox
              size="sm"
              aria-label={t('queue.selectCase', { number: item.number })}
              checked={selected.has(item.id)}
              onChange={() => onToggle(item)}
            />
            <div className="case-card">
              <div className="case-card-top">
                <Link to={`/desk/cases/${item.id}`} className="case-link">
                  #{item.number}
                </Link>
                <StatusBadge status={item.status} />
                <PriorityBadge priority={item.priority} />
              </div>
              <div className="subject">{item.subject}</div>
              <div className="case-card-meta">
                <span>{item.requester_name ?? ''}</span>
                <span>{item.assignee_id ? agentNames.get(item.assignee_id) : t('queue.unassigned')}</span>
                <SlaDue dueAt={item.due_at} />
              </div>
            </div>
          </li>
        ))}
      </ul>
    </>
  );
}
