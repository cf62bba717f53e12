import { Center, Loader, MantineProvider, createTheme } from '@mantine/core';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { Suspense, lazy, useCallback, useMemo, useSyncExternalStore } from 'react';
import { BrowserRouter, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router';
import { ApiError, createApi } from './api/client';
import { SignIn, useCognitoCallback } from './auth/SignIn';
import { clearToken, getToken, onTokenChange, rememberReturnTo } from './auth/session';
import type { RuntimeConfig } from './config';
import { AppContext } from './context';
import { LocaleProvider, useT } from './i18n/locale';
import { QueueRoute } from './queue/QueueScreen';
import { DeskShell } from './shell/DeskShell';

const CaseScreen = lazy(() => import('./case/CaseScreen'));
const RulesScreen = lazy(() => import('./admin/RulesScreen'));

export const theme = createTheme({
  primaryColor: 'blue',
  // Shade 8 keeps white text on filled buttons above 4.5:1.
  primaryShade: { light: 8, dark: 8 },
  fontFamily: 'Inter, "Segoe UI", system-ui, -apple-system, Roboto, "Helvetica Neue", Arial, sans-serif',
  defaultRadius: 'sm',
  headings: { fontWeight: '650' },
});

export function makeQueryClient(): QueryClient {
  return new QueryClient({
    defaultOptions: {
      queries: {
        staleTime: 15_000,
        retry: (failures, error) => !(error instanceof ApiError && error.status < 500) && failures < 2,
        refetchOnWindowFocus: true,
      },
      mutations: { retry: false },
    },
  });
}

function useToken(): string | null {
  return useSyncExternalStore(onTokenChange, getToken, getToken);
}

function RequireAuth({ children }: { children: React.ReactNode }) {
  const token = useToken();
  const location = useLocation();
  if (!token) {
    rememberReturnTo(location.pathname);
    return <Navigate to="/sign-in" replace />;
  }
  return children;
}

/** "/" is where the hosted UI sends people back with ?code=…; otherwise it opens "My cases". */
function Home() {
  const navigate = useNavigate();
  const t = useT();
  const done = useCallback((path: string) => navigate(path, { replace: true }), [navigate]);
  const callback = useCognitoCallback(done);
  if (callback.busy) {
    return (
      <Center h="100vh">
        <Loader role="status" aria-label={t('signIn.finishing')} />
      </Center>
    );
  }
  if (callback.error) return <Navigate to="/sign-in" replace />;
  return <Navigate to="/desk/views/mine" replace />;
}

function CaseFallback() {
  const t = useT();
  return (
    <Center p="xl">
      <Loader role="status" aria-label={t('common.loading')} />
    </Center>
  );
}

export function AppRoutes() {
  return (
    <Routes>
      <Route path="/sign-in" element={<SignIn />} />
      <Route
        path="/desk"
        element={
          <RequireAuth>
            <DeskShell />
          </RequireAuth>
        }
      >
        <Route index element={<Navigate to="/desk/views/mine" replace />} />
        <Route path="views/:viewId" element={<QueueRoute />} />
        <Route path="saved/:savedId" element={<QueueRoute />} />
        <Route
          path="cases/:caseId"
          element={
            <Suspense fallback={<CaseFallback />}>
              <CaseScreen />
            </Suspense>
          }
        />
        <Route
          path="admin/rules"
          element={
            <Suspense fallback={<CaseFallback />}>
              <RulesScreen />
            </Suspense>
          }
        />
        <Route path="*" element={<Navigate to="/desk/views/mine" replace />} />
      </Route>
      <Route path="/" element={<Home />} />
      <Route path="*" element={<Navigate to="/desk/views/mine" replace />} />
    </Routes>
  );
}

export function App({ config }: { config: RuntimeConfig }) {
  const queryClient = useMemo(makeQueryClient, []);
  const services = useMemo(
    () => ({
      config,
      api: createApi({
        baseUrl: config.api_base,
        apiKey: config.api_key,
        getToken,
        onUnauthorized: () => {
          rememberReturnTo(window.location.pathname);
          queryClient.clear();
          clearToken();
        },
      }),
    }),
    [config, queryClient],
  );
  return (
    <AppContext.Provider value={services}>
      <QueryClientProvider client={queryClient}>
        <MantineProvider theme={theme} defaultColorScheme="light">
          <LocaleProvider defaultLocale={config.default_locale}>
            <BrowserRouter>
              <AppRoutes />
            </BrowserRouter>
          </LocaleProvider>
        </MantineProvider>
      </QueryClientProvider>
    </AppContext.Provider>
  );
}
