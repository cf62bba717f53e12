import { Alert, Button, Center, Loader, Paper, Stack, Text, Title } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { useNavigate } from 'react-router';
import { useServices } from '../context';
import { useT } from '../i18n/locale';
import { LanguageSelect } from '../shell/LanguageSelect';
import { authorizeUrl, exchangeCode } from './pkce';
import { setToken, takeReturnTo } from './session';

interface DevUser {
  email: string;
  name: string;
  role: 'agent' | 'supervisor' | 'admin' | 'customer';
}

const STAFF_ROLES = new Set(['agent', 'supervisor', 'admin']);

export function SignIn() {
  const t = useT();
  const { config } = useServices();
  return (
    <div className="signin-page">
      <main className="signin-main">
        <Paper withBorder shadow="xs" radius="md" p="xl" className="signin-card">
          <Stack gap="md">
            <div className="brand brand-large" aria-hidden="true">
              <span className="brand-mark" />
              Caseline
            </div>
            <Title order={1} size="h2">
              {t('signIn.heading')}
            </Title>
            {config.auth.mode === 'cognito' ? <CognitoSignIn /> : <LocalSignIn />}
            <LanguageSelect />
          </Stack>
        </Paper>
      </main>
    </div>
  );
}

function CognitoSignIn() {
  const t = useT();
  const { config } = useServices();
  const [busy, setBusy] = useState(false);
  if (config.auth.mode !== 'cognito') return null;
  const auth = config.auth;
  return (
    <Stack gap="sm">
      <Text>{t('signIn.companyHint')}</Text>
      <Button
        size="md"
        loading={busy}
        onClick={async () => {
          setBusy(true);
          window.location.assign(await authorizeUrl(auth));
        }}
      >
        {t('signIn.company')}
      </Button>
    </Stack>
  );
}

function LocalSignIn() {
  const t = useT();
  const navigate = useNavigate();
  const { config } = useServices();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState<string | null>(null);
  const users = useQuery({
    queryKey: ['dev-users'],
    queryFn: async (): Promise<DevUser[]> => {
      const response = await fetch(`${config.api_base}/auth/dev-users`, { headers: { Accept: 'application/json' } });
      if (!response.ok) throw new Error(String(response.status));
      const body = (await response.json()) as { items: DevUser[] };
      return body.items.filter((user) => STAFF_ROLES.has(user.role));
    },
  });

  const signIn = async (email: string) => {
    setPending(email);
    setError(null);
    try {
      const response = await fetch(`${config.api_base}/auth/dev-login`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ email }),
      });
      if (!response.ok) throw new Error(String(response.status));
      const body = (await response.json()) as { token: string; expires_at?: string };
      setToken(body.token, body.expires_at);
      navigate(takeReturnTo(), { replace: true });
    } catch {
      setError(t('signIn.failed'));
      setPending(null);
    }
  };

  if (users.isPending) {
    return (
      <Center py="md">
        <Loader role="status" size="sm" aria-label={t('common.loading')} />
      </Center>
    );
  }
  if (users.isError) return <Alert color="red" title={t('signIn.devUsersFailed')}>{t('signIn.localHint')}</Alert>;
  return (
    <Stack gap="xs">
      <Text>{t('signIn.localHint')}</Text>
      {error && (
        <Alert color="red" role="alert">
          {error}
        </Alert>
      )}
      <ul className="devuser-list" aria-label={t('signIn.devUsers')}>
        {users.data.map((user) => (
          <li key={user.email}>
            <span className="avatar" aria-hidden="true">
              {user.name
                .split(/\s+/)
                .slice(0, 2)
                .map((part) => part[0])
                .join('')}
            </span>
            <span className="devuser-who">
              <span className="devuser-name">{user.name}</span>
              <span className="role-chip">{t(`role.${user.role}` as const)}</span>
            </span>
            <Button size="xs" variant="default" loading={pending === user.email} onClick={() => signIn(user.email)}>
              {t('signIn.as', { email: user.email })}
            </Button>
          </li>
        ))}
      </ul>
    </Stack>
  );
}

/** Handles the hosted UI's redirect back (…/?code=…&state=…) before anything else routes. */
export function useCognitoCallback(onDone: (path: string) => void): { busy: boolean; error: string | null } {
  const { config } = useServices();
  const params = new URLSearchParams(window.location.search);
  const code = params.get('code');
  const returnedState = params.get('state');
  const active = Boolean(code) && config.auth.mode === 'cognito';
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    if (!code || config.auth.mode !== 'cognito') return undefined;
    let cancelled = false;
    exchangeCode(config.auth, code, returnedState)
      .then((result) => {
        if (cancelled) return;
        setToken(result.token, result.expiresAt);
        onDone(takeReturnTo());
      })
      .catch((failure: Error) => {
        if (!cancelled) setError(failure.message);
      });
    return () => {
      cancelled = true;
    };
  }, [code, returnedState, config.auth, onDone]);
  return { busy: active && !error, error };
}
