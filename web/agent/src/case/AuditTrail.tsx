import { Alert, Button, Loader } from '@mantine/core';
import { useInfiniteQuery } from '@tanstack/react-query';
import { unwrap } from '../api/client';
import { nameIndex, useAgents, useTeams } from '../api/queries';
import { useApi } from '../context';
import { useT } from '../i18n/locale';
import { DateTime } from '../shell/bits';

function show(value: unknown): string {
  if (value === null || value === undefined || value === '') return '—';
  if (Array.isArray(value)) return value.join(', ') || '—';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

type Changes = Record<string, { before?: unknown; after?: unknown }>;
const ID = /\b[0-9A-HJKMNP-TV-Z]{26}\b/g;

/** Routing explains itself with agent and team ids; people read names. */
export function withNames(text: string, names: Map<string, string>): string {
  return text.replace(ID, (id) => names.get(id) ?? id);
}

/** A routing decision in words: who got the case (or why nobody did), how, and each reason routing gave. */
export function RoutingDecision({ changes, names }: { changes: Changes; names: Map<string, string> }) {
  const t = useT();
  const after = (field: string) => changes[field]?.after;
  const agentId = after('assignee_id');
  const agent = typeof agentId === 'string' ? (names.get(agentId) ?? agentId) : '';
  const reasons = Array.isArray(after('reasons')) ? (after('reasons') as unknown[]).map(String) : [];
  const recheck = after('recheck_at');
  const label = (prefix: string, value: unknown) =>
    t(`${prefix}.${String(value)}` as 'routing.outcome.assigned', { agent });
  return (
    <div className="routing-decision">
      <p>
        <strong>{label('routing.outcome', after('outcome'))}</strong>
        <span className="muted">
          {' · '}
          {label('routing.method', after('method'))} · {label('routing.trigger', after('trigger'))}
        </span>
      </p>
      <p className="muted">{t('routing.reasons')}</p>
      <ol className="routing-reasons" aria-label={t('routing.reasons')}>
        {reasons.map((reason, index) => (
          <li key={index}>{withNames(reason, names)}</li>
        ))}
      </ol>
      {typeof recheck === 'string' && (
        <p className="muted">
          {t('routing.recheck')}: <DateTime iso={recheck} />
        </p>
      )}
    </div>
  );
}

interface RuleTraceView {
  rule_id: string;
  outcome: string;
  decided_by?: string | null;
  detail?: string;
}
interface RuleActionView {
  rule_id: string;
  type?: string;
  result?: string;
}

/** A rules evaluation in words: what happened, which rules matched and why, what their actions did. */
export function RulesEvaluated({ changes, names }: { changes: Changes; names: Map<string, string> }) {
  const t = useT();
  const run = (changes.rules?.after ?? {}) as {
    event?: { trigger?: string };
    matched?: string[];
    rules?: RuleTraceView[];
    actions?: RuleActionView[];
  };
  const matched = run.matched ?? [];
  const considered = (run.rules ?? []).filter((r) => r.outcome === 'matched' || r.outcome === 'not_matched');
  const trigger = run.event?.trigger ?? 'case_opened';
  return (
    <div className="rules-evaluated">
      <p>
        <strong>
          {matched.length ? t('rules.audit.matched', { rules: matched.join(', ') }) : t('rules.audit.none')}
        </strong>
        <span className="muted"> · {t(`rules.trigger.${trigger}` as 'rules.trigger.timer')}</span>
      </p>
      <ul aria-label={t('routing.reasons')}>
        {considered.map((trace) => (
          <li key={trace.rule_id}>
            <code>{trace.rule_id}</code>: {withNames(trace.detail ?? '', names)}
          </li>
        ))}
      </ul>
      {(run.actions ?? []).length > 0 && (
        <>
          <p className="muted">{t('rules.audit.did')}</p>
          <ul>
            {(run.actions ?? []).map((action, index) => (
              <li key={index}>
                <code>{action.rule_id}</code> {action.type}: {action.result}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** Who changed what and when (supervisors and admins). Loaded only when the tab is opened. */
export default function AuditTrail({ caseId }: { caseId: string }) {
  const t = useT();
  const api = useApi();
  const agents = useAgents();
  const teams = useTeams();
  const names = new Map([...nameIndex(teams.data), ...nameIndex(agents.data)]);
  const audit = useInfiniteQuery({
    queryKey: ['audit', caseId],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET('/cases/{case_id}/audit', {
          params: { path: { case_id: caseId }, query: { limit: 100, cursor: pageParam } },
        }),
      ),
    getNextPageParam: (page) => page.next_cursor ?? undefined,
  });
  if (audit.isPending) return <Loader role="status" size="sm" aria-label={t('common.loading')} />;
  if (audit.isError) return <Alert color="red" role="alert" title={t('audit.failed')} />;
  const records = audit.data.pages.flatMap((page) => page.items);
  return (
    <div className="audit">
      <table className="audit-table" aria-label={t('audit.title')}>
        <thead>
          <tr>
            <th scope="col">{t('audit.when')}</th>
            <th scope="col">{t('audit.who')}</th>
            <th scope="col">{t('audit.action')}</th>
            <th scope="col">{t('audit.changes')}</th>
          </tr>
        </thead>
        <tbody>
          {records.map((record) => (
            <tr key={record.id}>
              <td>
                <DateTime iso={record.time} />
              </td>
              <td>
                {names.get(record.actor_id) ?? record.actor_id}
                <span className="muted"> · {record.actor_role}</span>
              </td>
              <td>
                <code>{record.action}</code>
              </td>
              <td>
                {record.action === 'routing.decided' ? (
                  <RoutingDecision changes={record.changes ?? {}} names={names} />
                ) : record.action === 'rules.evaluated' ? (
                  <RulesEvaluated changes={record.changes ?? {}} names={names} />
                ) : (
                  <ul className="audit-changes">
                    {Object.entries(record.changes ?? {}).map(([field, change]) => (
                      <li key={field}>
                        <strong>{field}</strong>: {show(change.before)} → {show(change.after)}
                      </li>
                    ))}
                  </ul>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {records.length === 0 && <p className="muted">{t('audit.empty')}</p>}
      {audit.hasNextPage && (
        <Button variant="default" size="xs" mt="sm" loading={audit.isFetchingNextPage} onClick={() => audit.fetchNextPage()}>
          {t('common.loadMore')}
        </Button>
      )}
    </div>
  );
}
