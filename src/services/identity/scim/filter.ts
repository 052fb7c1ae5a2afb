import { InvalidFilterError } from "./errors.js";
import { describeToken, tokenize, type Token } from "./filter-lexer.js";

export type CompareOperator = "eq" | "ne" | "co" | "sw" | "ew" | "gt" | "ge" | "lt" | "le";
export type FilterLiteral = string | number | boolean | null;

/** An attribute path as the client wrote it; names keep the client's case and compare case-insensitively (RFC 7643 §2.1). */
export interface AttributePath {
  /** The schema URN prefix, e.g. "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", when one was written. */
  readonly schema?: string;
  readonly attribute: string;
  readonly subAttribute?: string;
}

/** A parsed filter. `position` is the 0-based offset of the term in the filter text, for error messages. */
export type Filter =
  | { readonly kind: "compare"; readonly path: AttributePath; readonly op: CompareOperator; readonly value: FilterLiteral; readonly position: number }
  | { readonly kind: "present"; readonly path: AttributePath; readonly position: number }
  | { readonly kind: "and" | "or"; readonly left: Filter; readonly right: Filter }
  | { readonly kind: "not"; readonly filter: Filter }
  /** `emails[type eq "work"]`: paths inside `filter` are relative to one element of the multi-valued attribute. */
  | { readonly kind: "valuePath"; readonly path: AttributePath; readonly filter: Filter; readonly position: number };

/** A PATCH `path` (RFC 7644 §3.5.2): an attribute path, or a value path with an optional `.subAttr` after `]`. */
export interface PatchPath {
  readonly path: AttributePath;
  readonly filter?: Filter;
  /** The sub-attribute after `]`, as in `emails[type eq "work"].value`. */
  readonly subAttribute?: string;
}

export interface FilterLimits {
  readonly maxLength: number;
  /** Parentheses, `not(` and `[` each add one level. */
  readonly maxDepth: number;
  /** Attribute expressions (`userName eq "x"`, `title pr`, `emails[...]`). */
  readonly maxTerms: number;
}

export const DEFAULT_FILTER_LIMITS: FilterLimits = { maxLength: 4096, maxDepth: 32, maxTerms: 256 };

const COMPARE_OPERATORS = new Set<string>(["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"]);
const NAME = "[A-Za-z$][A-Za-z0-9_$-]*";
const PLAIN_PATH = new RegExp(`^(${NAME})(?:\\.(${NAME}))?$`);
// Greedy on the URN so that the split falls on its last colon: "urn:…:2.0:User:name.familyName".
const URN_PATH = new RegExp(`^(urn:\\S+):(${NAME})(?:\\.(${NAME}))?$`, "i");
const SUB_ATTRIBUTE = new RegExp(`^\\.(${NAME})$`);
const JSON_NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/** Parses a `filter` query parameter. Throws InvalidFilterError saying what is wrong and where. */
export function parseFilter(text: string, limits: FilterLimits = DEFAULT_FILTER_LIMITS): Filter {
  const parser = createParser(text, limits);
  const filter = parser.expression(0, false);
  parser.expectEnd();
  return filter;
}

/** Parses a PATCH operation's `path`. Throws InvalidFilterError; the PATCH logic reports it as `invalidPath`. */
export function parsePatchPath(text: string, limits: FilterLimits = DEFAULT_FILTER_LIMITS): PatchPath {
  const parser = createParser(text, limits);
  const { path, filter } = parser.attributeOrValuePath();
  let subAttribute: string | undefined;
  const next = parser.peek();
  if (filter && next.kind === "word") {
    const m = SUB_ATTRIBUTE.exec(next.text);
    if (!m) throw fault(`expected ".subAttribute" or the end of the path after "]", found ${describeToken(next)}`, next);
    if (path.subAttribute) throw fault(`"${path.attribute}.${path.subAttribute}" cannot take a filter: filter the multi-valued attribute, then name the sub-attribute after "]"`, next);
    subAttribute = m[1];
    parser.advance();
  }
  parser.expectEnd();
  return { path, ...(filter ? { filter } : {}), ...(subAttribute ? { subAttribute } : {}) };
}

/** Parses one attribute path such as `name.familyName` or `urn:…:User:userName`; throws InvalidFilterError. */
export function parseAttributePath(text: string): AttributePath {
  const path = toAttributePath(text);
  if (!path) throw new InvalidFilterError(`"${text.slice(0, 80)}" is not an attribute path (like userName, name.familyName or urn:…:User:userName)`, 0);
  return path;
}

function toAttributePath(text: string): AttributePath | undefined {
  const urn = URN_PATH.exec(text);
  if (urn) return { schema: urn[1] as string, attribute: urn[2] as string, ...(urn[3] ? { subAttribute: urn[3] } : {}) };
  const plain = PLAIN_PATH.exec(text);
  if (plain) return { attribute: plain[1] as string, ...(plain[2] ? { subAttribute: plain[2] } : {}) };
  return undefined;
}

function fault(message: string, token: Token): InvalidFilterError {
  return new InvalidFilterError(`${message} (at position ${token.pos})`, token.pos);
}

function isKeyword(token: Token, keyword: string): boolean {
  return token.kind === "word" && token.text.toLowerCase() === keyword;
}

/**
 * Recursive descent with the RFC's precedence: `not`/parentheses bind tightest, then `and`, then `or`
 * (`a or b and c` is `a or (b and c)`). `and`/`or` chains loop rather than recurse, and every level of
 * nesting is counted before descending, so a depth bomb fails at `maxDepth` instead of exhausting the stack.
 */
function createParser(text: string, limits: FilterLimits) {
  if (text.length > limits.maxLength) {
    throw new InvalidFilterError(`filter is ${text.length} characters long; the limit is ${limits.maxLength}`, limits.maxLength);
  }
  const tokens = tokenize(text);
  let index = 0;
  let terms = 0;
  const peek = (): Token => tokens[index] as Token;
  const advance = (): Token => tokens[index++] as Token;

  function expect(kind: Token["kind"], context: string): Token {
    const token = peek();
    if (token.kind !== kind) throw fault(`expected "${kind}" ${context}, found ${describeToken(token)}`, token);
    return advance();
  }

  function enter(depth: number, token: Token): void {
    if (depth > limits.maxDepth) throw fault(`filter is nested deeper than ${limits.maxDepth} levels`, token);
  }

  function expression(depth: number, inBrackets: boolean): Filter {
    let left = conjunction(depth, inBrackets);
    while (isKeyword(peek(), "or")) {
      advance();
      left = { kind: "or", left, right: conjunction(depth, inBrackets) };
    }
    return left;
  }

  function conjunction(depth: number, inBrackets: boolean): Filter {
    let left = unary(depth, inBrackets);
    while (isKeyword(peek(), "and")) {
      advance();
      left = { kind: "and", left, right: unary(depth, inBrackets) };
    }
    return left;
  }

  function unary(depth: number, inBrackets: boolean): Filter {
    const token = peek();
    if (isKeyword(token, "not") && tokens[index + 1]?.kind === "(") {
      advance();
      return { kind: "not", filter: group(depth + 1, inBrackets) };
    }
    if (token.kind === "(") return group(depth + 1, inBrackets);
    if (isKeyword(token, "not")) throw fault(`"not" takes a parenthesised filter: not (…)`, token);
    return attributeExpression(depth, inBrackets);
  }

  function group(depth: number, inBrackets: boolean): Filter {
    const open = expect("(", "to open a group");
    enter(depth, open);
    const inner = expression(depth, inBrackets);
    expect(")", `to close the "(" at position ${open.pos}`);
    return inner;
  }

  function attributeOrValuePath(depth = 0, inBrackets = false): { path: AttributePath; filter?: Filter; position: number } {
    const token = peek();
    const path = token.kind === "word" ? toAttributePath(token.text) : undefined;
    if (!path) throw fault(`expected an attribute path (like userName or emails.value), found ${describeToken(token)}`, token);
    advance();
    if (++terms > limits.maxTerms) throw fault(`filter has more than ${limits.maxTerms} terms`, token);
    const open = peek();
    if (open.kind !== "[") return { path, position: token.pos };
    if (inBrackets) throw fault(`a "[...]" filter cannot be nested in another`, open);
    if (path.subAttribute) throw fault(`"[" must follow a multi-valued attribute, not the sub-attribute "${path.subAttribute}"`, open);
    advance();
    enter(depth + 1, open);
    const filter = expression(depth + 1, true);
    expect("]", `to close the "[" at position ${open.pos}`);
    return { path, filter, position: token.pos };
  }

  function attributeExpression(depth: number, inBrackets: boolean): Filter {
    const { path, filter, position } = attributeOrValuePath(depth, inBrackets);
    if (filter) return { kind: "valuePath", path, filter, position };
    const opToken = peek();
    const op = opToken.kind === "word" ? opToken.text.toLowerCase() : "";
    if (op === "pr") {
      advance();
      return { kind: "present", path, position };
    }
    if (!COMPARE_OPERATORS.has(op)) {
      throw fault(`expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le or pr) after the attribute, found ${describeToken(opToken)}`, opToken);
    }
    advance();
    const value = literal(op as CompareOperator);
    return { kind: "compare", path, op: op as CompareOperator, value, position };
  }

  function literal(op: CompareOperator): FilterLiteral {
    const token = advance();
    let value: FilterLiteral;
    if (token.kind === "string") value = token.value;
    else if (token.kind === "word" && /^(true|false|null)$/i.test(token.text)) value = JSON.parse(token.text.toLowerCase()) as FilterLiteral;
    else if (token.kind === "word" && JSON_NUMBER.test(token.text)) value = Number(token.text);
    else throw fault(`expected a value (a "quoted string", true, false, null or a number) after "${op}", found ${describeToken(token)}`, token);
    // RFC 7644 §3.4.2.2: co/sw/ew are string operators, and ordering a boolean or null is an invalidFilter.
    if ((op === "co" || op === "sw" || op === "ew") && typeof value !== "string") throw fault(`"${op}" needs a string value`, token);
    if (op !== "eq" && op !== "ne" && (value === null || typeof value === "boolean")) throw fault(`"${op}" cannot compare with ${String(value)}`, token);
    return value;
  }

  function expectEnd(): void {
    const token = peek();
    if (token.kind === ")") throw fault(`unbalanced ")": no "(" is open`, token);
    if (token.kind !== "end") throw fault(`expected "and", "or" or the end of the filter, found ${describeToken(token)}`, token);
  }

  return { expression, attributeOrValuePath, peek, advance, expectEnd };
}
