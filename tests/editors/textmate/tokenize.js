// Tokenizes files with the TextMate grammar of a VS Code extension folder, using the engine
// VS Code uses (vscode-textmate + vscode-oniguruma). Used by tests/editors/test_textmate.py.
//
//   node tokenize.js <extension-folder> < request.json > tokens.json
//
// request.json: {"files": ["a.ndx", ...]}
// tokens.json:  {"scopeName": "source.ndx",
//                "files": {"a.ndx": {"lines": [[[start, end, [scope, ...]], ...], ...],
//                                    "finalDepth": 1}}}
// Columns count Unicode code points (as Python does), not UTF-16 units.
"use strict";
const fs = require("fs");
const path = require("path");
const vsctm = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

function codePointColumns(line) {
  // columns[utf16Index] = code point index, for every index up to line.length.
  const columns = new Array(line.length + 2);
  let point = 0;
  for (let unit = 0; unit < line.length; point++) {
    const width = line.codePointAt(unit) > 0xffff ? 2 : 1;
    for (let k = 0; k < width; k++) columns[unit + k] = point;
    unit += width;
  }
  columns[line.length] = point;
  columns[line.length + 1] = point;
  return columns;
}

async function main() {
  const extensionDir = process.argv[2];
  const manifest = JSON.parse(fs.readFileSync(path.join(extensionDir, "package.json"), "utf8"));
  const contributed = manifest.contributes.grammars[0];
  const grammarPath = path.join(extensionDir, contributed.path);
  const request = JSON.parse(fs.readFileSync(0, "utf8"));

  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm"));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (text) => new oniguruma.OnigString(text),
    }),
    loadGrammar: async (scopeName) => scopeName === contributed.scopeName
      ? vsctm.parseRawGrammar(fs.readFileSync(grammarPath, "utf8"), grammarPath)
      : null,
  });
  const grammar = await registry.loadGrammar(contributed.scopeName);
  if (!grammar) throw new Error(`no grammar for ${contributed.scopeName} in ${grammarPath}`);

  const result = { scopeName: contributed.scopeName, files: {} };
  for (const file of request.files) {
    const lines = fs.readFileSync(file, "utf8").split(/\r\n|\n/);
    let state = vsctm.INITIAL;
    const tokenLines = [];
    for (const line of lines) {
      const tokenized = grammar.tokenizeLine(line, state);
      if (tokenized.stoppedEarly) throw new Error(`${file}: tokenizing stopped early`);
      const columns = codePointColumns(line);
      tokenLines.push(tokenized.tokens.map((token) => [
        columns[Math.min(token.startIndex, line.length)],
        columns[Math.min(token.endIndex, line.length)],
        token.scopes,
      ]));
      state = tokenized.ruleStack;
    }
    result.files[file] = { lines: tokenLines, finalDepth: state.depth };
  }
  process.stdout.write(JSON.stringify(result));
}

main().catch((error) => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
