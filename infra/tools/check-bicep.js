#!/usr/bin/env node
// Offline syntax check of .bicep and .bicepparam files with tree-sitter-bicep (no Bicep compiler can be
// installed on this machine: the CLI is a download from downloads.bicep.azure.com and the Azure.Bicep.*
// NuGet packages are not in the feed). This is syntax only, plus three structural rules the compiler
// would not give us either:
//   - every `param` in a .bicep file carries @description(...);
//   - a .bicepparam `using` target exists, every param it assigns is declared there, and every param the
//     target requires (no default, not nullable) is assigned;
//   - no ERROR or MISSING node anywhere (printed as file:line:col).
// Type checking, API versions and resource properties are left to `az bicep build` / what-if in a
// connected pipeline (.github/workflows/deploy.yml).
//
// Usage: node check-bicep.js PATH... (files or directories; directories are searched recursively)
// Needs: tree-sitter@0.22.4 and tree-sitter-bicep@1.1.0 resolvable (NODE_PATH or a local node_modules).
'use strict';

const fs = require('fs');
const path = require('path');

let Parser;
let Bicep;
try {
  Parser = require('tree-sitter');
  Bicep = require('tree-sitter-bicep');
} catch (e) {
  console.error('error: tree-sitter / tree-sitter-bicep not found (' + e.message + '). ' +
    'Install: npm install --no-save tree-sitter@0.22.4 tree-sitter-bicep@1.1.0 and set NODE_PATH to its node_modules.');
  process.exit(2);
}

const parser = new Parser();
parser.setLanguage(Bicep);

function collect(target, out) {
  const stat = fs.statSync(target);
  if (stat.isDirectory()) {
    for (const entry of fs.readdirSync(target).sort()) {
      if (entry === 'node_modules' || entry.startsWith('.')) continue;
      collect(path.join(target, entry), out);
    }
  } else if (target.endsWith('.bicep') || target.endsWith('.bicepparam')) {
    out.push(target);
  }
}

// tree-sitter's Node.js binding reads a string in chunks; a callback keeps large files intact.
function parse(text) {
  return parser.parse((index) => (index < text.length ? text.slice(index, index + 8192) : null));
}

function syntaxProblems(file, tree, text) {
  const problems = [];
  const walk = (node) => {
    if (node.isMissing) {
      problems.push(`${file}:${node.startPosition.row + 1}:${node.startPosition.column + 1}: missing ${node.type}`);
      return;
    }
    if (node.type === 'ERROR') {
      const snippet = text.slice(node.startIndex, Math.min(node.endIndex, node.startIndex + 40)).replace(/\s+/g, ' ');
      problems.push(`${file}:${node.startPosition.row + 1}:${node.startPosition.column + 1}: syntax error near '${snippet}'`);
      return;
    }
    if (!node.hasError) return;
    for (const child of node.children) walk(child);
  };
  walk(tree.rootNode);
  if (tree.rootNode.hasError && problems.length === 0) {
    problems.push(`${file}:1:1: syntax error`);
  }
  return problems;
}

function decoratorNames(decoratorsNode) {
  const names = [];
  if (!decoratorsNode || decoratorsNode.type !== 'decorators') return names;
  for (const decorator of decoratorsNode.namedChildren) {
    const call = decorator.namedChildren[0];
    if (!call) continue;
    const fn = call.childForFieldName ? call.childForFieldName('function') : null;
    const name = (fn || call).text;
    names.push(name.replace(/^sys\./, ''));
  }
  return names;
}

// Parameters of a .bicep file: name -> { required, line }.
function parameters(tree) {
  const result = new Map();
  for (const node of tree.rootNode.namedChildren) {
    if (node.type !== 'parameter_declaration') continue;
    const named = node.namedChildren;
    const name = named[0] ? named[0].text : '?';
    const type = named.find((n) => n.type === 'type');
    const nullable = !!type && type.namedChildren.some((n) => n.type === 'nullable_type');
    const hasDefault = named.length > 2;
    result.set(name, { required: !nullable && !hasDefault, line: node.startPosition.row + 1, node });
  }
  return result;
}

function checkBicep(file) {
  const text = fs.readFileSync(file, 'utf8');
  const tree = parse(text);
  const problems = syntaxProblems(file, tree, text);
  if (problems.length > 0) return problems;
  for (const [name, info] of parameters(tree)) {
    const previous = info.node.previousNamedSibling;
    if (!decoratorNames(previous).includes('description')) {
      problems.push(`${file}:${info.line}:1: param '${name}' has no @description`);
    }
  }
  return problems;
}

// .bicepparam: `param x = value` is not in the tree-sitter grammar. Rewriting the keyword `param` to
// `var  ` (same length, so line and column numbers stay true) turns each assignment into a variable
// declaration the grammar knows; `using` is already in the grammar.
function checkBicepParam(file) {
  const original = fs.readFileSync(file, 'utf8');
  const assigned = new Map();
  const rewritten = original.split('\n').map((line, index) => {
    const match = /^(\s*)param(\s+)([A-Za-z_][A-Za-z0-9_]*)(\s*=)/.exec(line);
    if (!match) return line;
    assigned.set(match[3], index + 1);
    return match[1] + 'var  ' + match[2] + line.slice(match[1].length + 5 + match[2].length);
  }).join('\n');
  const tree = parse(rewritten);
  const problems = syntaxProblems(file, tree, rewritten);
  if (problems.length > 0) return problems;

  const using = tree.rootNode.namedChildren.find((n) => n.type === 'using_statement');
  if (!using) return [`${file}:1:1: missing 'using' statement`];
  const stringNode = using.namedChildren.find((n) => n.type === 'string');
  const target = stringNode ? stringNode.text.replace(/^'|'$/g, '') : '';
  const targetPath = path.resolve(path.dirname(file), target);
  const line = using.startPosition.row + 1;
  if (!fs.existsSync(targetPath)) return [`${file}:${line}:1: using target '${target}' does not exist`];

  const targetText = fs.readFileSync(targetPath, 'utf8');
  const targetTree = parse(targetText);
  if (targetTree.rootNode.hasError) return [`${file}:${line}:1: using target '${target}' has syntax errors`];
  const declared = parameters(targetTree);
  for (const [name, at] of assigned) {
    if (!declared.has(name)) problems.push(`${file}:${at}:1: param '${name}' is not declared in ${target}`);
  }
  for (const [name, info] of declared) {
    if (info.required && !assigned.has(name)) {
      problems.push(`${file}:${line}:1: required param '${name}' of ${target} is not assigned`);
    }
  }
  return problems;
}

const targets = process.argv.slice(2);
if (targets.length === 0) {
  console.error('usage: check-bicep.js PATH...');
  process.exit(2);
}
const files = [];
for (const t of targets) {
  if (!fs.existsSync(t)) {
    console.error(`error: ${t} does not exist`);
    process.exit(2);
  }
  collect(t, files);
}
if (files.length === 0) {
  console.error('error: no .bicep or .bicepparam file found in ' + targets.join(' '));
  process.exit(2);
}
let failed = 0;
for (const file of files) {
  const problems = file.endsWith('.bicepparam') ? checkBicepParam(file) : checkBicep(file);
  if (problems.length > 0) {
    failed++;
    for (const p of problems) console.log(p);
  } else {
    console.log(`ok ${file}`);
  }
}
console.log(`${files.length - failed} of ${files.length} file(s) clean`);
process.exit(failed > 0 ? 1 : 0);
