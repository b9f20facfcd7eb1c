// `terraform fmt` without terraform: HashiCorp's formatter (hclwrite.Format, the code terraform
// fmt runs) compiled to WebAssembly in the npm package @cdktf/hcl-tools.
// Usage: node tools/terraform/fmt.mjs [--write] FILE.tf...
// Without --write it exits 1 listing the files that differ (terraform fmt -check).
import { readFile, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";

const { format } = createRequire(import.meta.url)("@cdktf/hcl-tools");

const write = process.argv[2] === "--write";
const files = process.argv.slice(write ? 3 : 2);
if (files.length === 0) {
  console.error("usage: node tools/terraform/fmt.mjs [--write] FILE.tf...");
  process.exit(2);
}
const unformatted = [];
for (const file of files) {
  const text = await readFile(file, "utf8");
  const formatted = await format(text);
  if (formatted === text) continue;
  unformatted.push(file);
  if (write) await writeFile(file, formatted);
}
if (write) {
  for (const file of unformatted) console.log(`formatted ${file}`);
} else if (unformatted.length > 0) {
  for (const file of unformatted) console.error(`not formatted: ${file}`);
  console.error("`make tf-format` formats them");
  process.exit(1);
} else {
  console.log(`${files.length} files formatted as terraform fmt would (hcl-tools)`);
}
