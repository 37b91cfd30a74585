/**
 * A tool name as Countersign accepts it (a letter, digit or `_`, then letters, digits and
 * `_ . : / -`, at most 200 characters): anything else in a framework's name becomes `_`, so a
 * name that policies match stays recognisable.
 */
export function countersignToolName(name: string): string {
  const clean = name.replace(/[^A-Za-z0-9_.:/-]/g, "_");
  return (/^[A-Za-z0-9_]/.test(clean) ? clean : `_${clean}`).slice(0, 200);
}
