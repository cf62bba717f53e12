/** Attaching a file: hash it, ask for a signed upload URL, PUT the bytes, keep the returned reference. */
import type { AttachmentRef } from '../api/client';
import { type UploadTicket, requestJson } from '../api/raw';

export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', data);
  return [...new Uint8Array(digest)].map((byte) => byte.toString(16).padStart(2, '0')).join('');
}

export async function uploadAttachment(baseUrl: string, caseId: string, file: File): Promise<AttachmentRef> {
  const bytes = await file.arrayBuffer();
  const contentType = file.type || 'application/octet-stream';
  const ticket = await requestJson<UploadTicket>(baseUrl, `/cases/${encodeURIComponent(caseId)}/attachments/uploads`, {
    method: 'POST',
    body: JSON.stringify({ filename: file.name, content_type: contentType, size: bytes.byteLength, sha256: await sha256Hex(bytes) }),
  });
  const put = await fetch(ticket.upload_url, { method: ticket.method || 'PUT', headers: ticket.headers, body: bytes });
  if (!put.ok) throw new Error(`upload of ${file.name} failed (${put.status})`);
  return ticket.attachment;
}
