import type { ComparisonOp, Condition, ScalarValue } from "./types.ts";

/**
 * The string shorthand for conditions, parsed into the same structure as the long form:
 *
 *     args.amount > 1000
 *     args.to matches '@example\.com$'
 *     args.table in ['users', 'orders']
 *     args.force exists
 *     args.amount > 1000 and not (args.currency == 'EUR' or agent_id starts_with 'ops-')
 *
 * Literals: numbers, `true`, `false`, `null`, strings in single or double quotes, lists `[a, b]`.
 * Inside quotes a doubled quote stands for one (`'it''s'`); backslashes are kept as they are, so
 * regular expressions need no extra escaping. `and` binds tighter than `or`; `not` applies to the
 * next comparison or parenthesised group. Keywords are lower case.
 */

const WORD_OPS = new Set<string>([
  "in",
  "not_in",
  "matches",
  "contains",
  "starts_with",
  "ends_with",
  "exists",
  "not_exists",
]);
const SYMBOL_OPS = ["==", "!=", ">=", "<=", ">", "<"] as const;

type Token =
  | { kind: "word"; text: string; at: number }
  | { kind: "symbol"; text: string; at: number }
  | { kind: "string"; value: string; at: number }
  | { kind: "number"; value: number; at: number }
  | { kind: "end"; at: number };

export class ShorthandError extends Error {}

function fail(message: string, at: number): never {
  throw new ShorthandError(`${message} at character ${at + 1}`);
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "'" || c === '"') {
      let value = "";
      i++;
      for (;;) {
        if (i >= src.length) fail("unterminated string", at);
        const d = src[i] as string;
        if (d === c) {
          if (src[i + 1] === c) {
            value += c;
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += d;
        i++;
      }
      tokens.push({ kind: "string", value, at });
      continue;
    }
    const num = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?(?![A-Za-z0-9_.])/.exec(src.slice(i));
    if (num) {
      tokens.push({ kind: "number", value: Number(num[0]), at });
      i += num[0].length;
      continue;
    }
    const sym = SYMBOL_OPS.find((s) => src.startsWith(s, i)) ?? (/[()[\],]/.test(c) ? c : undefined);
    if (sym !== undefined) {
      tokens.push({ kind: "symbol", text: sym, at });
      i += sym.length;
      continue;
    }
    // A word: a keyword, or a field path with its `.name`, `[0]` and `["key"]` segments attached.
    const word =
      /^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_-]+|\[\d+\]|\["(?:[^"\\]|\\.)*"\]|\['(?:[^']|'')*'\])*/.exec(
        src.slice(i),
      );
    if (!word) fail(`unexpected ${JSON.stringify(c)}`, at);
    tokens.push({ kind: "word", text: word[0], at });
    i += word[0].length;
  }
  tokens.push({ kind: "end", at: src.length });
  return tokens;
}

class Parser {
  private pos = 0;
  private readonly tokens: Token[];
  constructor(tokens: Token[]) {
    this.tokens = tokens;
  }

  private peek(): Token {
    return this.tokens[this.pos] as Token;
  }
  private next(): Token {
    return this.tokens[this.pos++] as Token;
  }
  private isWord(text: string): boolean {
    const t = this.peek();
    return t.kind === "word" && t.text === text;
  }
  private isSymbol(text: string): boolean {
    const t = this.peek();
    return t.kind === "symbol" && t.text === text;
  }
  private expectSymbol(text: string): void {
    if (!this.isSymbol(text)) fail(`expected "${text}"`, this.peek().at);
    this.pos++;
  }

  parse(): Condition {
    const cond = this.or();
    const t = this.peek();
    if (t.kind !== "end") fail("unexpected text after the condition", t.at);
    return cond;
  }

  private or(): Condition {
    const parts = [this.and()];
    while (this.isWord("or")) {
      this.pos++;
      parts.push(this.and());
    }
    return parts.length === 1 ? (parts[0] as Condition) : { any: parts };
  }

  private and(): Condition {
    const parts = [this.unary()];
    while (this.isWord("and")) {
      this.pos++;
      parts.push(this.unary());
    }
    return parts.length === 1 ? (parts[0] as Condition) : { all: parts };
  }

  private unary(): Condition {
    if (this.isWord("not")) {
      this.pos++;
      return { not: this.unary() };
    }
    if (this.isSymbol("(")) {
      this.pos++;
      const inner = this.or();
      this.expectSymbol(")");
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Condition {
    const fieldToken = this.next();
    if (fieldToken.kind !== "word" || WORD_OPS.has(fieldToken.text)) {
      fail("expected a field such as args.amount", fieldToken.at);
    }
    const field = fieldToken.text;
    const opToken = this.next();
    let op: ComparisonOp;
    if (opToken.kind === "symbol" && (SYMBOL_OPS as readonly string[]).includes(opToken.text)) {
      op = opToken.text as ComparisonOp;
    } else if (opToken.kind === "word" && opToken.text === "not" && this.isWord("in")) {
      this.pos++;
      op = "not_in";
    } else if (opToken.kind === "word" && WORD_OPS.has(opToken.text)) {
      op = opToken.text as ComparisonOp;
    } else {
      fail(`expected an operator after ${field}`, opToken.at);
    }
    if (op === "exists" || op === "not_exists") return { field, op };
    return { field, op, value: this.literal(true) };
  }

  private literal(allowList: boolean): ScalarValue | ScalarValue[] {
    const t = this.next();
    if (t.kind === "string" || t.kind === "number") return t.value;
    if (t.kind === "word" && t.text === "true") return true;
    if (t.kind === "word" && t.text === "false") return false;
    if (t.kind === "word" && t.text === "null") return null;
    if (allowList && t.kind === "symbol" && t.text === "[") {
      const items: ScalarValue[] = [];
      if (this.isSymbol("]")) {
        this.pos++;
        return items;
      }
      for (;;) {
        items.push(this.literal(false) as ScalarValue);
        if (this.isSymbol(",")) {
          this.pos++;
          continue;
        }
        this.expectSymbol("]");
        return items;
      }
    }
    return fail("expected a value (a number, a quoted string, true, false, null or a list)", t.at);
  }
}

/** Parses the shorthand; throws ShorthandError with the character position on a syntax error. */
export function parseConditionShorthand(text: string): Condition {
  return new Parser(tokenize(text)).parse();
}
