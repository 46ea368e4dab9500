#!/usr/bin/env node
// `prepare`: compiles src/ to dist/, so the package works once installed.
//
// npm runs it on `npm install` / `npm ci` in this folder, and in this folder
// when another project installs it from a checkout
// (`npm install path/to/clients/typescript`). In that second case npm
// (11.x) links, or with --install-links packs, this folder but installs none
// of its dependencies here, so the compiler is missing: install them first,
// exactly as package-lock.json pins them, then compile.
"use strict";
const { execFileSync } = require("node:child_process");
const fs = require("node:fs");
const path = require("node:path");

const here = path.resolve(__dirname, "..");
const tsc = path.join(here, "node_modules", "typescript", "bin", "tsc");

if (!fs.existsSync(tsc)) {
  console.error(`@giropops/senhas-client: installing its build dependencies in ${here} (npm ci)`);
  // The installing project's settings (its prefix, --omit=dev, --save…)
  // describe that project, not this folder: drop them, keep the rest
  // (registry, cache, proxy, certificates).
  const project = /^npm_config_(local_prefix|prefix|global|location|omit|include|production|dev|only|also|workspaces?|include_workspace_root|save.*|package_lock.*|dry_run|install_links|install_strategy|global_style|legacy_bundling|allow_scripts)$/i;
  const env = Object.fromEntries(Object.entries(process.env).filter(([key]) => !project.test(key)));
  const npm = process.env.npm_execpath;
  const args = ["ci", "--include=dev", "--ignore-scripts", "--no-audit", "--no-fund"];
  if (npm && /\.[cm]?js$/.test(npm)) {
    execFileSync(process.execPath, [npm, ...args], { cwd: here, env, stdio: "inherit" });
  } else {
    execFileSync("npm", args, { cwd: here, env, stdio: "inherit", shell: process.platform === "win32" });
  }
}

execFileSync(process.execPath, [tsc, "-p", here], { cwd: here, stdio: "inherit" });
