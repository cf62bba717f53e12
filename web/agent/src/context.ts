import { createContext, useContext } from 'react';
import type { Api } from './api/client';
import type { RuntimeConfig } from './config';

export interface AppServices {
  config: RuntimeConfig;
  api: Api;
}

export const AppContext = createContext<AppServices | null>(null);

export function useServices(): AppServices {
  const services = useContext(AppContext);
  if (!services) throw new Error('AppContext is missing');
  return services;
}

export function useApi(): Api {
  return useServices().api;
}
