// NUL, which neither text nor jsonb can hold, and a UTF-16 surrogate without its pair: jsonb
// refuses its escape, and text would silently hold U+FFFD instead.
const UNSTORABLE = /\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Whether Postgres can store `text` as it is (in a text or a jsonb column). */
export function isStorableText(text: string): boolean {
  return !UNSTORABLE.test(text);
}
