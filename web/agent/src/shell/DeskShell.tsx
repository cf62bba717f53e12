import { ActionIcon, Alert, Button, Center, Loader, Tooltip } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { NavLink, Outlet } from 'react-router';
import { type Agent, unwrap } from '../api/client';
import { STAFF_ROLES, useMe, useSavedViews, useViewCounts } from '../api/queries';
import { clearToken } from '../auth/session';
import { useApi } from '../context';
import { TimeZoneProvider, useT } from '../i18n/locale';
import { LiveProvider, useLiveStatus } from '../live/LiveProvider';
import { AvailabilitySelect } from './AvailabilitySelect';
import { LanguageSelect } from './LanguageSelect';
import { VIEW_IDS, useViewLabel } from './views';

export function DeskShell() {
  const t = useT();
  const me = useMe();
  if (me.isPending) {
    return (
      <Center h="100vh">
        <Loader role="status" aria-label={t('common.loading')} />
      </Center>
    );
  }
  if (me.isError || !me.data) {
    return (
      <Center h="100vh" p="md">
        <Alert color="red" title={t('shell.loadFailed')} role="alert">
          <Button mt="sm" variant="default" onClick={() => clearToken()}>
            {t('shell.signOut')}
          </Button>
        </Alert>
      </Center>
    );
  }
  if (!(STAFF_ROLES as readonly string[]).includes(me.data.role ?? 'agent')) {
    return (
      <Center h="100vh" p="md">
        <Alert color="orange" title={t('shell.staffOnly')} role="alert">
          <Button mt="sm" variant="default" onClick={() => clearToken()}>
            {t('shell.signOut')}
          </Button>
        </Alert>
      </Center>
    );
  }
  return (
    <TimeZoneProvider timeZone={me.data.time_zone}>
      <LiveProvider>
        <div className="shell">
          <a className="skip-link" href="#main">
            {t('shell.skipToContent')}
          </a>
          <TopBar me={me.data} />
          <div className="shell-body">
            <div className="sidebar">
              <QueueNav />
              <SavedViewNav />
              {(me.data.role === 'admin' || me.data.role === 'supervisor') && <AdminNav />}
            </div>
            <main id="main" className="content" tabIndex={-1}>
              <Outlet />
            </main>
          </div>
        </div>
      </LiveProvider>
    </TimeZoneProvider>
  );
}

function TopBar({ me }: { me: Agent }) {
  const t = useT();
  const role = me.role ?? 'agent';
  const client = useQueryClient();
  return (
    <header className="topbar">
      <div className="brand" aria-hidden="true">
        <span className="brand-mark" />
        <span className="brand-name">Caseline</span>
      </div>
      <div className="topbar-spacer" />
      <LiveIndicator />
      <AvailabilitySelect me={me} />
      <LanguageSelect compact />
      <div className="user-block">
        <span className="user-name">{me.name}</span>
        <span className="user-role">{t(`role.${role}` as 'role.agent')}</span>
      </div>
      <Button
        variant="default"
        size="xs"
        onClick={() => {
          client.clear();
          clearToken();
        }}
      >
        {t('shell.signOut')}
      </Button>
    </header>
  );
}

function LiveIndicator() {
  const t = useT();
  const status = useLiveStatus();
  return (
    <span className={`live-indicator ${status}`}>
      <span className="live-dot" aria-hidden="true" />
      <span role="status">{status === 'live' ? t('shell.live') : t('shell.reconnecting')}</span>
    </span>
  );
}

function QueueNav() {
  const t = useT();
  const counts = useViewCounts();
  const label = useViewLabel();
  const byId = new Map((counts.data ?? []).map((view) => [view.id, view.count]));
  return (
    <nav aria-label={t('nav.queues')} className="nav-section">
      <h2 className="nav-heading">{t('nav.queues')}</h2>
      <ul>
        {VIEW_IDS.map((id) => (
          <li key={id}>
            <NavLink to={`/desk/views/${id}`} className="nav-link">
              <span className="nav-label">{label(id)}</span>
              <span className="nav-count" aria-hidden="true">
                {byId.has(id) ? byId.get(id) : ''}
              </span>
            </NavLink>
          </li>
        ))}
      </ul>
    </nav>
  );
}

function AdminNav() {
  const t = useT();
  return (
    <nav aria-label={t('nav.admin')} className="nav-section">
      <h2 className="nav-heading">{t('nav.admin')}</h2>
      <ul>
        <li>
          <NavLink to="/desk/admin/rules" className="nav-link">
            <span className="nav-label">{t('nav.rules')}</span>
          </NavLink>
        </li>
      </ul>
    </nav>
  );
}

function SavedViewNav() {
  const t = useT();
  const api = useApi();
  const client = useQueryClient();
  const saved = useSavedViews();
  const remove = useMutation({
    mutationFn: async (id: string) => {
      const result = await api.DELETE('/saved-views/{view_id}', { params: { path: { view_id: id } } });
      if (!result.response.ok) unwrap(result);
    },
    onSuccess: () => client.invalidateQueries({ queryKey: ['saved-views'] }),
  });
  return (
    <nav aria-label={t('nav.savedViews')} className="nav-section">
      <h2 className="nav-heading">{t('nav.savedViews')}</h2>
      {saved.data && saved.data.length === 0 && <p className="nav-empty">{t('nav.noSavedViews')}</p>}
      <ul>
        {(saved.data ?? []).map((view) => (
          <li key={view.id} className="saved-item">
            <NavLink to={`/desk/saved/${view.id}`} className="nav-link">
              <span className="nav-label">{view.name}</span>
            </NavLink>
            <Tooltip label={t('nav.deleteSaved', { name: view.name })}>
              <ActionIcon
                variant="subtle"
                color="gray"
                size="sm"
                aria-label={t('nav.deleteSaved', { name: view.name })}
                onClick={() => remove.mutate(view.id)}
              >
                <span aria-hidden="true">×</span>
              </ActionIcon>
            </Tooltip>
          </li>
        ))}
      </ul>
    </nav>
  );
}
