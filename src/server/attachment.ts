/**
 * A Content-Disposition header that offers a download under `fileName`: a plain ASCII fallback for
 * old clients and the exact name in RFC 5987 encoding, so no name can break out of the header.
 */
export function attachment(fileName: string): string {
  const fallback = [...fileName]
    .map((ch) => (/[\x20-\x7e]/.test(ch) && ch !== '"' && ch !== "\\" ? ch : "_"))
    .join("");
  const exact = encodeURIComponent(fileName).replace(
    /['()*]/g,
    (ch) => `%${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase()}`,
  );
  return `attachment; filename="${fallback}"; filename*=UTF-8''${exact}`;
}
