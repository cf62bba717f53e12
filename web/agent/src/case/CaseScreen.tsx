import { Alert, Anchor, Center, Loader, Tabs, Title } from '@mantine/core';
import { Suspense, lazy, useState } from 'react';
import { Link, useLocation, useParams } from 'react-router';
import { ApiError } from '../api/client';
import { nameIndex, useAgents, useMe, useTeams } from '../api/queries';
import { useT } from '../i18n/locale';
import { ChannelLabel, DateTime, PriorityBadge, SlaDue, StatusBadge } from '../shell/bits';
import { Conversation } from './Conversation';
import { MergeControls } from './MergeDialog';
import { NoteBox } from './NoteBox';
import { PropertiesForm } from './PropertiesForm';
import { ReplyBox } from './ReplyBox';
import { SlaClocks } from './SlaClocks';
import { useCase, useCaseSummary } from './useCase';

const Customer360 = lazy(() => import('../customer/Customer360'));
const AuditTrail = lazy(() => import('./AuditTrail'));

const AUDIT_ROLES = new Set(['supervisor', 'admin']);

export default function CaseScreen() {
  const { caseId = '' } = useParams();
  const t = useT();
  const location = useLocation();
  const detail = useCase(caseId);
  const me = useMe();
  const agents = useAgents();
  const teams = useTeams();
  const [tab, setTab] = useState<string | null>('conversation');
  const replyFirst = Boolean((location.state as { reply?: boolean } | null)?.reply);

  if (detail.isPending) {
    return (
      <Center p="xl">
        <Loader role="status" aria-label={t('common.loading')} />
      </Center>
    );
  }
  if (detail.isError) {
    const missing = detail.error instanceof ApiError && detail.error.status === 404;
    return (
      <Alert color="red" role="alert" title={missing ? t('case.notFound') : t('case.loadFailed')}>
        <Anchor component={Link} to="/desk/views/mine">
          {t('case.backToQueue')}
        </Anchor>
      </Alert>
    );
  }
  const item = detail.data.case;
  const canAudit = AUDIT_ROLES.has(me.data?.role ?? 'agent');
  const agentName = item.assignee_id ? nameIndex(agents.data).get(item.assignee_id) : undefined;
  const teamName = item.team_id ? nameIndex(teams.data).get(item.team_id) : undefined;

  return (
    <div className="case-screen">
      <div className="case-main">
        <header className="case-header">
          <div className="case-title-row">
            <Title order={1} size="h3" className="case-title">
              #{item.number} {item.subject}
            </Title>
            <MergeControls item={item} />
          </div>
          <div className="case-meta">
            <StatusBadge status={item.status} />
            <PriorityBadge priority={item.priority} />
            <ChannelLabel channel={item.channel} />
            <span>
              {t('case.requester')}: <strong>{item.requester_name ?? '—'}</strong>
            </span>
            <span>
              {t('case.assignee')}: <strong>{agentName ?? t('queue.unassigned')}</strong>
              {teamName ? ` · ${teamName}` : ''}
            </span>
            <span>
              {t('case.opened')} <DateTime iso={item.created_at} />
            </span>
            {item.due_at && <SlaDue dueAt={item.due_at} withLabel />}
          </div>
          {item.merged_into && <MergedNotice survivorId={item.merged_into} />}
        </header>

        <Tabs value={tab} onChange={setTab} keepMounted={false} className="case-tabs">
          <Tabs.List aria-label={t('case.sections')}>
            <Tabs.Tab value="conversation">{t('case.conversationTab')}</Tabs.Tab>
            {canAudit && <Tabs.Tab value="audit">{t('case.auditTab')}</Tabs.Tab>}
          </Tabs.List>
          <Tabs.Panel value="conversation" pt="md">
            <Conversation caseId={item.id} interactions={detail.data.interactions} />
            <div className="composers" id="reply">
              <ReplyBox key={`reply-${item.id}`} item={item} autoFocus={replyFirst} />
              <NoteBox key={`note-${item.id}`} item={item} />
            </div>
          </Tabs.Panel>
          {canAudit && (
            <Tabs.Panel value="audit" pt="md">
              <Suspense fallback={<Loader role="status" size="sm" aria-label={t('common.loading')} />}>
                <AuditTrail caseId={item.id} />
              </Suspense>
            </Tabs.Panel>
          )}
        </Tabs>
      </div>
      <div className="case-side">
        <SlaClocks item={item} />
        <PropertiesForm key={item.id} item={item} etag={detail.data.etag} />
        <Suspense fallback={<Loader role="status" size="sm" aria-label={t('common.loading')} />}>
          <Customer360 customerId={item.requester_id} currentCaseId={item.id} />
        </Suspense>
      </div>
    </div>
  );
}

function MergedNotice({ survivorId }: { survivorId: string }) {
  const t = useT();
  const survivor = useCaseSummary(survivorId);
  const number = survivor.data?.number;
  return (
    <Alert color="orange" className="merged-notice">
      {number !== undefined ? (
        <>
          {t('merge.mergedInto')}{' '}
          <Link to={`/desk/cases/${survivorId}`} className="case-link">
            #{number}
          </Link>
        </>
      ) : (
        t('merge.mergedIntoUnknown')
      )}
    </Alert>
  );
}
