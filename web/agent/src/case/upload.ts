/** Attaching a file: hash it, ask for a signed upload URL, PUT the bytes, keep the returned reference. */
import { type Api, type AttachmentRef, unwrap } from '../api/client';

export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

/** The API wants a bare lower-case type/subtype. */
export function contentTypeOf(file: Pick<File, 'type'>): string {
  const bare = file.type.split(';')[0].trim().toLowerCase();
  return bare || 'application/octet-stream';
}

export async function uploadAttachment(api: Api, caseId: string, file: File): Promise<AttachmentRef> {
  const bytes = await file.arrayBuffer();
  const ticket = unwrap(
    await api.POST('/cases/{case_id}/attachments/uploads', {
      params: { path: { case_id: caseId } },
      body: { filename: file.name, content_type: contentTypeOf(file), size: bytes.byteLength, sha256: await sha256Hex(bytes) },
    }),
  );
  // A signed URL carries its own authorisation: no bearer token goes to the blob store.
  const put = await fetch(ticket.upload_url, { method: ticket.method, headers: ticket.headers, body: bytes });
  if (!put.ok) throw new Error(`upload of ${file.name} failed (${put.status})`);
  return ticket.attachment;
}
