import fc from "fast-check";

/*
 * Test support (not exported from the package): a random JSON value together with a changed copy
 * of it, changed somewhere at random (a leaf altered, an element or member added or removed, a
 * type swapped), for properties of the form "what binds `a` never accepts the mutation of `a`".
 */

export const jsonArgs: fc.Arbitrary<unknown> = fc.jsonValue({ maxDepth: 4, stringUnit: "binary" });

/** Tool arguments are a JSON object (absent arguments hash as `{}`, so `null` and `{}` are one). */
export const toolArgs: fc.Arbitrary<Record<string, unknown>> = fc.dictionary(
  fc.string({ unit: "binary" }),
  jsonArgs,
  {
    maxKeys: 6,
  },
);

/** `[original, mutated]` tool arguments, where the two always have different canonical JSON. */
export const toolArgsAndMutation: fc.Arbitrary<[Record<string, unknown>, unknown]> = toolArgs.chain(
  (original) =>
    mutationOf(original).map((mutated): [Record<string, unknown>, unknown] => [original, mutated]),
);

export function mutationOf(value: unknown): fc.Arbitrary<unknown> {
  if (value === null) return fc.constantFrom<unknown>(0, false, "", {}, []);
  if (typeof value === "boolean") return fc.constantFrom<unknown>(!value, null);
  if (typeof value === "number") {
    // -0 and 0 canonicalise alike, so compare by their JSON text rather than by value.
    const other = fc
      .double({ noNaN: true, noDefaultInfinity: true })
      .filter((n) => JSON.stringify(n) !== JSON.stringify(value));
    return fc.oneof(other, fc.constant(String(value)));
  }
  if (typeof value === "string") {
    return fc.oneof(
      fc.constant<unknown>(`${value}x`),
      fc.constant<unknown>(null),
      fc.string({ unit: "binary", minLength: 1 }).map((extra) => `${extra}${value}`),
    );
  }
  if (Array.isArray(value)) {
    const choices: fc.Arbitrary<unknown>[] = [jsonArgs.map((extra) => [...value, extra])];
    if (value.length > 0) {
      choices.push(
        fc.nat(value.length - 1).map((i) => value.filter((_, j) => j !== i)),
        fc
          .nat(value.length - 1)
          .chain((i) =>
            mutationOf(value[i]).map((changed) => value.map((item, j) => (j === i ? changed : item))),
          ),
      );
    }
    return fc.oneof(...choices);
  }
  if (typeof value === "object") {
    const record = value as Record<string, unknown>;
    const keys = Object.keys(record);
    const choices: fc.Arbitrary<unknown>[] = [
      fc
        .tuple(fc.string({ unit: "binary" }), jsonArgs)
        .filter(([key]) => !Object.hasOwn(record, key))
        // A computed key makes an own property even for "__proto__".
        .map(([key, extra]) => ({ ...record, [key]: extra })),
    ];
    if (keys.length > 0) {
      choices.push(
        fc.constantFrom(...keys).map((key) => withoutKey(record, key)),
        fc
          .constantFrom(...keys)
          .chain((key) => mutationOf(record[key]).map((changed) => ({ ...record, [key]: changed }))),
      );
    }
    return fc.oneof(...choices);
  }
  throw new Error(`not a JSON value: ${String(value)}`);
}

function withoutKey(record: Record<string, unknown>, key: string): Record<string, unknown> {
  const copy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(record))
    if (k !== key)
      Object.defineProperty(copy, k, { value: v, enumerable: true, writable: true, configurable: true });
  return copy;
}
