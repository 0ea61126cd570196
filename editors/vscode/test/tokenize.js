// Tokenizes .evo files with the TextMate grammar the way VS Code does (vscode-textmate with the
// Oniguruma regex engine) and fails on any token with an `invalid` scope.
//   node tokenize.js GRAMMAR FILE...   (NODE_PATH must find vscode-textmate and vscode-oniguruma)
"use strict";

const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

async function main() {
  const [grammarPath, ...files] = process.argv.slice(2);
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve("vscode-oniguruma")), "onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) =>
      scope === "source.evo" ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath) : null,
  });
  const grammar = await registry.loadGrammar("source.evo");
  let invalid = 0;
  let tokens = 0;
  const scopes = new Set();
  for (const file of files) {
    let stack = vsctm.INITIAL;
    fs.readFileSync(file, "utf8")
      .split(/\r?\n/)
      .forEach((line, i) => {
        const result = grammar.tokenizeLine(line, stack);
        for (const t of result.tokens) {
          tokens += 1;
          t.scopes.forEach((s) => scopes.add(s.replace(/\.evo$/, "")));
          if (t.scopes.some((s) => s.startsWith("invalid"))) {
            invalid += 1;
            console.log(`${file}:${i + 1}:${t.startIndex + 1}: invalid token \`${line.slice(t.startIndex, t.endIndex)}\``);
          }
        }
        stack = result.ruleStack;
      });
  }
  console.log(`${files.length} files, ${tokens} tokens, ${invalid} invalid; scopes: ${[...scopes].sort().join(" ")}`);
  process.exit(invalid === 0 ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(2);
});
