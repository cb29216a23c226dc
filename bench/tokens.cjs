// Count o200k_base tokens with the npm package gpt-tokenizer (a real BPE tokenizer, not an estimate).
// stdin: a JSON object {key: text, ...}; stdout: {"encoding": ..., "version": ..., "counts": {key: n, ...}}.
// The package is resolved from the directory given in GPT_TOKENIZER_DIR (bench/tokenizer.py installs it there).
"use strict";
const path = require("path");
const { createRequire } = require("module");

const dir = process.env.GPT_TOKENIZER_DIR;
if (!dir) {
  process.stderr.write("GPT_TOKENIZER_DIR is not set\n");
  process.exit(2);
}
const req = createRequire(path.join(path.resolve(dir), "package.json"));
const enc = req("gpt-tokenizer/encoding/o200k_base");
const version = req("gpt-tokenizer/package.json").version;

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const texts = JSON.parse(input);
  const counts = {};
  for (const [key, text] of Object.entries(texts)) {
    // encode() rather than countTokens(): special-token text is counted as plain text, as an API would.
    counts[key] = enc.encode(text, { allowedSpecial: new Set(), disallowedSpecial: new Set() }).length;
  }
  process.stdout.write(JSON.stringify({ encoding: "o200k_base", package: "gpt-tokenizer", version, counts }));
});
