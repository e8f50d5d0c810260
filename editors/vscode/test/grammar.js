// Tokenizes every example `.camp` file with the TextMate grammar (as VS Code
// would) and checks the scopes of a few tokens: `npm test`.
"use strict";
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
const onigLib = oniguruma.loadWASM(wasm).then(() => ({
  createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
  createOnigString: (s) => new oniguruma.OnigString(s),
}));
const registry = new vsctm.Registry({
  onigLib,
  loadGrammar: async () => {
    const file = path.join(__dirname, "../syntaxes/camp.tmLanguage.json");
    return vsctm.parseRawGrammar(fs.readFileSync(file, "utf8"), file);
  },
});

function campFiles(dir) {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? campFiles(p) : p.endsWith(".camp") ? [p] : [];
  });
}

/// Every token of a text as [text, scopes].
function tokens(grammar, text) {
  let stack = vsctm.INITIAL;
  const out = [];
  for (const line of text.split("\n")) {
    const r = grammar.tokenizeLine(line, stack);
    for (const t of r.tokens) out.push([line.slice(t.startIndex, t.endIndex), t.scopes]);
    stack = r.ruleStack;
  }
  return out;
}

/// Some token equal to `text` (or starting with it, for `text...`) has `scope`.
function expectScope(all, text, scope, file) {
  const prefix = text.endsWith("...") ? text.slice(0, -3) : null;
  const same = (t) => (prefix === null ? t.trim() === text : t.trim().startsWith(prefix));
  const hit = all.find(([t, scopes]) => same(t) && scopes.some((s) => s.startsWith(scope)));
  if (!hit) {
    const seen = all.filter(([t]) => same(t)).map(([, s]) => s.join(" "));
    throw new Error(`${file}: \`${text}\` is not ${scope} (seen: ${JSON.stringify(seen)})`);
  }
}

(async () => {
  const grammar = await registry.loadGrammar("source.camp");
  const root = path.join(__dirname, "../../../examples/shop");
  const files = campFiles(root);
  if (files.length < 10) throw new Error(`examples not found under ${root}`);
  for (const file of files) {
    const all = tokens(grammar, fs.readFileSync(file, "utf8"));
    if (all.length === 0) throw new Error(`${file}: no tokens`);
  }
  const cart = tokens(grammar, fs.readFileSync(path.join(root, "campaigns/cart.camp"), "utf8"));
  expectScope(cart, "campaign", "storage.type", "cart.camp");
  expectScope(cart, "cart_reminder", "entity.name.type", "cart.camp");
  expectScope(cart, "audience", "keyword.control", "cart.camp");
  expectScope(cart, "and", "keyword.operator", "cart.camp");
  expectScope(cart, "24h", "constant.numeric", "cart.camp");
  expectScope(cart, "21:00", "constant.numeric", "cart.camp");
  expectScope(cart, "(광고)", "markup.bold.ad-prefix", "cart.camp");
  expectScope(cart, "sender", "variable.language", "cart.camp");
  expectScope(cart, "won", "entity.name.function.filter", "cart.camp");
  expectScope(cart, "/// 1만원...", "comment.line.documentation", "cart.camp");
  const schema = tokens(grammar, fs.readFileSync(path.join(root, "schema.camp"), "utf8"));
  expectScope(schema, "text", "support.type", "schema.camp");
  expectScope(schema, "// 주문을 뺀...", "comment.line.double-slash", "schema.camp");
  console.log(`grammar ok: ${files.length} example files tokenized`);
})().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
