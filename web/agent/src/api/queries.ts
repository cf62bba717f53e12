/** The shared reads, one hook each, so every screen caches them under the same keys. */
import { useQuery } from '@tanstack/react-query';
import { useApi } from '../context';
import { VIEW_COUNTS_KEY } from '../live/cache';
import { type Agent, type Api, type Team, unwrap } from './client';

export const STAFF_ROLES = ['agent', 'supervisor', 'admin'] as const;

export function useMe() {
  const api = useApi();
  return useQuery({
    queryKey: ['me'],
    queryFn: async () => unwrap(await api.GET('/agents/me')),
    staleTime: 5 * 60_000,
  });
}

export function useViewCounts() {
  const api = useApi();
  return useQuery({
    queryKey: [VIEW_COUNTS_KEY],
    queryFn: async () => unwrap(await api.GET('/views')).items,
    refetchInterval: 60_000,
  });
}

export function useSavedViews() {
  const api = useApi();
  return useQuery({
    queryKey: ['saved-views'],
    queryFn: async () => unwrap(await api.GET('/saved-views')).items,
  });
}

async function allAgents(api: Api): Promise<Agent[]> {
  const agents: Agent[] = [];
  let cursor: string | undefined;
  do {
    const page = unwrap(await api.GET('/agents', { params: { query: { limit: 200, cursor } } }));
    agents.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return agents.sort((a, b) => a.name.localeCompare(b.name));
}

async function allTeams(api: Api): Promise<Team[]> {
  const teams: Team[] = [];
  let cursor: string | undefined;
  do {
    const page = unwrap(await api.GET('/teams', { params: { query: { limit: 200, cursor } } }));
    teams.push(...page.items);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return teams.sort((a, b) => a.name.localeCompare(b.name));
}

export function useAgents() {
  const api = useApi();
  return useQuery({ queryKey: ['agents'], queryFn: () => allAgents(api), staleTime: 5 * 60_000 });
}

export function useTeams() {
  const api = useApi();
  return useQuery({ queryKey: ['teams'], queryFn: () => allTeams(api), staleTime: 5 * 60_000 });
}

/** id → name lookups for rows and selects. */
export function nameIndex<T extends { id: string; name: string }>(items: T[] | undefined): Map<string, string> {
  return new Map((items ?? []).map((item) => [item.id, item.name]));
}
