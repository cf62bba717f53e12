import { useQueryClient } from '@tanstack/react-query';
import { type ReactNode, createContext, useContext, useEffect, useRef, useState } from 'react';
import { getToken } from '../auth/session';
import { useServices } from '../context';
import { CASE_KEY, VIEW_COUNTS_KEY, VIEW_KEY, applyCaseChange } from './cache';
import type { LiveMessage } from './messages';
import { LiveSocket, type LiveStatus } from './socket';

const LiveStatusContext = createContext<LiveStatus>('reconnecting');
/** How long a burst of changes may pile up before counts and lists are fetched again. */
const REFETCH_AFTER_MS = 1_000;

export function LiveProvider({ children }: { children: ReactNode }) {
  const { config } = useServices();
  const client = useQueryClient();
  const [status, setStatus] = useState<LiveStatus>('reconnecting');
  const refetchTimer = useRef<ReturnType<typeof setTimeout> | null>(null);

  useEffect(() => {
    const refetchSoon = () => {
      if (refetchTimer.current) return;
      refetchTimer.current = setTimeout(() => {
        refetchTimer.current = null;
        // Rows already changed in place; this brings in cases that newly match and fixes the counts.
        void client.invalidateQueries({ queryKey: [VIEW_COUNTS_KEY] });
        void client.invalidateQueries({ queryKey: [VIEW_KEY] });
      }, REFETCH_AFTER_MS);
    };
    const onMessage = (message: LiveMessage) => {
      if (message.type !== 'case.changed') return;
      applyCaseChange(client, message.case);
      void client.invalidateQueries({ queryKey: [CASE_KEY, message.case.id] });
      refetchSoon();
    };
    const socket = new LiveSocket({
      url: config.ws_url,
      getToken,
      onMessage,
      onStatus: setStatus,
      onUnauthorized: () => void client.invalidateQueries({ queryKey: ['me'] }),
      onReconnected: refetchSoon,
    });
    socket.start();
    return () => {
      socket.stop();
      if (refetchTimer.current) clearTimeout(refetchTimer.current);
    };
  }, [client, config.ws_url]);

  return <LiveStatusContext.Provider value={status}>{children}</LiveStatusContext.Provider>;
}

export function useLiveStatus(): LiveStatus {
  return useContext(LiveStatusContext);
}
