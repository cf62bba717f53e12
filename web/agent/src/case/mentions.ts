/** @mention suggestions for internal notes: which handle is being typed and what choosing one does. */
import type { Agent } from '../api/client';

export interface MentionQuery {
  /** Index of the "@" in the text. */
  start: number;
  /** What follows the "@" up to the caret. */
  query: string;
}

/** The mention being typed at the caret, if any: "@" at the start or after whitespace, then handle characters. */
export function mentionAt(text: string, caret: number): MentionQuery | null {
  const before = text.slice(0, caret);
  const match = before.match(/(^|\s)@([a-z0-9._-]{0,39})$/i);
  if (!match) return null;
  const query = match[2];
  return { start: caret - query.length - 1, query: query.toLowerCase() };
}

export function suggestAgents(agents: Agent[], query: string, limit = 6): Agent[] {
  const scored = agents
    .map((agent) => {
      const handle = agent.handle.toLowerCase();
      const name = agent.name.toLowerCase();
      if (handle.startsWith(query)) return { agent, score: 0 };
      if (name.split(/\s+/).some((part) => part.startsWith(query))) return { agent, score: 1 };
      if (handle.includes(query) || name.includes(query)) return { agent, score: 2 };
      return null;
    })
    .filter((entry): entry is { agent: Agent; score: number } => entry !== null);
  scored.sort((a, b) => a.score - b.score || a.agent.handle.localeCompare(b.agent.handle));
  return scored.slice(0, limit).map((entry) => entry.agent);
}

/** The text with the typed mention replaced by the full handle and a space, and where the caret goes. */
export function insertMention(text: string, mention: MentionQuery, caret: number, handle: string) {
  const inserted = `@${handle} `;
  const next = text.slice(0, mention.start) + inserted + text.slice(caret);
  return { text: next, caret: mention.start + inserted.length };
}
