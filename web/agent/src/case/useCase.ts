import { useQuery } from '@tanstack/react-query';
import { type Api, type Case, type Interaction, unwrap } from '../api/client';
import { useApi } from '../context';
import { CASE_KEY, type CaseDetailData } from '../live/cache';

export interface CaseDetail extends CaseDetailData {
  interactions: Interaction[];
}

/** Interactions load in pages of this size; long conversations follow next_cursor. */
const PAGE = 200;

export async function fetchCase(api: Api, caseId: string): Promise<CaseDetail> {
  const first = await api.GET('/cases/{case_id}', { params: { path: { case_id: caseId }, query: { limit: PAGE } } });
  const body = unwrap(first);
  const interactions = [...body.interactions];
  let cursor = body.next_cursor ?? undefined;
  while (cursor) {
    const page = unwrap(
      await api.GET('/cases/{case_id}', { params: { path: { case_id: caseId }, query: { limit: PAGE, cursor } } }),
    );
    interactions.push(...page.interactions);
    cursor = page.next_cursor ?? undefined;
  }
  const etag = first.response.headers.get('ETag') ?? `"${body.case.version ?? 1}"`;
  return { case: body.case, etag, interactions, next_cursor: null };
}

export function useCase(caseId: string) {
  const api = useApi();
  return useQuery({ queryKey: [CASE_KEY, caseId], queryFn: () => fetchCase(api, caseId) });
}

/** A merged-away case points at its survivor; the notice needs the survivor's number. */
export function useCaseSummary(caseId: string | null | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: ['case-summary', caseId],
    enabled: Boolean(caseId),
    queryFn: async (): Promise<Case> =>
      unwrap(await api.GET('/cases/{case_id}', { params: { path: { case_id: caseId as string }, query: { limit: 1 } } }))
        .case,
  });
}
