#!/usr/bin/env python3
"""Run the Dockerfile's builder stage from exactly the files a docker build gives it.

The container test cannot run the builder stage itself (no image can be
pulled here), so it swaps that stage for a binary with
`podman build --build-context builder=DIR`. A host build from the checkout
would hide a builder that cannot build (a file the COPY lines or
.dockerignore leave out), so this script does what `docker build` would do,
on the host:

1. reads the build context as docker does: every file under the context
   directory, minus what .dockerignore excludes (docker's rules: `#`
   comments, `!` exceptions, the last matching line wins, a pattern also
   covers everything under a matching directory, `*` and `?` stop at `/`,
   `**` crosses directories);
2. replays the builder stage from its first COPY on, in order, in a fresh
   directory standing in for the stage's filesystem root: WORKDIR, ARG, ENV,
   COPY (docker's rules for files, directories, wildcards and trailing
   slashes; a source missing from the context is an error, as in docker) and
   RUN (with /bin/sh -c, or the stage's SHELL). The steps before the first
   COPY install the toolchain: the host provides it instead.
   In a RUN, absolute paths under the stage's own directories (WORKDIR's, and
   the paths later stages copy from it) are rewritten into that root; the
   cache mount on WORKDIR/target is the project's own target/ (also set as
   CARGO_TARGET_DIR), so dependencies compiled before are reused; other cache
   mounts are the host's own (cargo's registry). The build is offline
   (CARGO_NET_OFFLINE=true, cargo's --offline): run `cargo fetch --locked` in
   the project first. TARGETARCH and the other platform arguments are this
   machine's;
3. checks that every path a later stage copies `--from=` this stage exists,
   and with --export DIR copies them there, at the same paths: DIR is then
   what `--build-context builder=DIR` needs.

    python3 tests/container/builder_context.py --export DIR
    python3 tests/container/builder_context.py --list-context

Exit status: 0 when the stage built and produced what later stages copy,
1 otherwise (the failing step and its output are shown), 2 for a Dockerfile
this script cannot replay faithfully.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import platform
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path


class Unsupported(Exception):
    """The Dockerfile uses something this script cannot replay faithfully."""


class BuildError(Exception):
    """The replayed stage fails, as docker build would."""


# --------------------------------------------------------------------------
# .dockerignore (moby/patternmatcher semantics)
# --------------------------------------------------------------------------


def go_clean(path: str) -> str:
    """Go's path.Clean: no double slashes, no `.`, `..` resolved, no trailing `/`."""
    if path == "":
        return "."
    cleaned = posixpath.normpath(path)
    if cleaned.startswith("//"):
        cleaned = "/" + cleaned.lstrip("/")
    return cleaned


class IgnorePattern:
    """One .dockerignore line, as patternmatcher's Pattern: compiled to an
    exact, prefix (`dir/**`), suffix (`**/name`) or regexp match."""

    def __init__(self, text: str, exclusion: bool):
        self.text = ("!" if exclusion else "") + text
        self.exclusion = exclusion
        self.cleaned = text
        self.kind, self.regex = compile_ignore_pattern(text)

    def match(self, path: str) -> bool:
        p = self.cleaned
        if self.kind == "exact":
            return path == p
        if self.kind == "prefix":  # strip the trailing **
            return path.startswith(p[:-2])
        if self.kind == "suffix":  # strip the leading **; **/foo matches foo
            suffix = p[2:]
            return path.endswith(suffix) or (suffix.startswith("/") and path == suffix[1:])
        return self.regex.match(path) is not None


def compile_ignore_pattern(pattern: str) -> tuple[str, re.Pattern | None]:
    """patternmatcher's Pattern.compile: `*` and `?` stop at `/`, `**` does not."""
    out = "^"
    kind = "exact"
    i = 0
    n = len(pattern)
    while i < n:
        ch = pattern[i]
        first = i == 0
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":  # some flavour of **
                i += 1
                if i < n and pattern[i] == "/":  # `**/` is `**`
                    i += 1
                if i >= n:  # `**` at the end accepts all
                    if kind == "exact":
                        kind = "prefix"
                    else:
                        out += ".*"
                        kind = "regexp"
                else:
                    out += "(.*/)?"
                    kind = "regexp"
                if first:
                    kind = "suffix"
            else:
                out += "[^/]*"
                kind = "regexp"
        elif ch == "?":
            out += "[^/]"
            kind = "regexp"
        elif ch in ".+()|{}$":
            out += "\\" + ch
        elif ch == "\\":
            if i < n:
                out += "\\" + pattern[i]
                i += 1
                kind = "regexp"
            else:
                out += "\\\\"
        elif ch in "[]":
            out += ch
            kind = "regexp"
        else:
            out += ch
    return kind, (re.compile(out + "$") if kind == "regexp" else None)


def read_dockerignore(path: Path) -> list[IgnorePattern]:
    """ignorefile.ReadAll, then NewPatternMatcher."""
    patterns: list[IgnorePattern] = []
    if not path.exists():
        return patterns
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
        if n == 0:
            line = line.removeprefix("\ufeff")
        if line.startswith("#"):
            continue
        line = line.strip()
        if not line:
            continue
        exclusion = line.startswith("!")
        if exclusion:
            line = line[1:].strip()
            if not line:
                raise Unsupported(f"{path}: illegal exclusion pattern '!'")
        line = go_clean(line)
        if len(line) > 1 and line.startswith("/"):
            line = line[1:]
        patterns.append(IgnorePattern(line, exclusion))
    return patterns


def ignored(rel: str, patterns: list[IgnorePattern]) -> bool:
    """MatchesOrParentMatches: a pattern matching the path or one of its
    parent directories decides; the last deciding pattern wins."""
    parents = rel.split("/")[:-1]
    matched = False
    for p in patterns:
        if p.exclusion != matched:
            continue
        hit = p.match(rel) or any(p.match("/".join(parents[: i + 1])) for i in range(len(parents)))
        if hit:
            matched = not p.exclusion
    return matched


def may_hold_exceptions(rel_dir: str, patterns: list[IgnorePattern]) -> bool:
    """Whether an excluded directory must still be walked, as BuildKit's
    walker decides: an exception pattern names something under it (or has a
    wildcard, to be safe)."""
    for p in patterns:
        if p.exclusion:
            text = p.text[1:]
            if (text + "/").startswith(rel_dir + "/") or any(c in text for c in "*?[\\"):
                return True
    return False


def context_files(context: Path, patterns: list[IgnorePattern]) -> list[str]:
    """Every file (and symlink) docker would send, as context-relative paths."""
    files = []
    for dirpath, dirnames, filenames in os.walk(context):
        rel_dir = os.path.relpath(dirpath, context)
        rel_dir = "" if rel_dir == "." else rel_dir + "/"
        for name in filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]:
            rel = rel_dir + name
            if not ignored(rel, patterns):
                files.append(rel)
        dirnames[:] = [
            d for d in dirnames
            if not os.path.islink(os.path.join(dirpath, d))
            and (not ignored(rel_dir + d, patterns) or may_hold_exceptions(rel_dir + d, patterns))
        ]
    return sorted(files)


# moby/patternmatcher's own TestMatches table (MatchesOrParentMatches), and
# the rules this project's .dockerignore relies on.
SELF_TEST = [
    (["**"], "file", True), (["**"], "file/", True), (["**/"], "file", True),
    (["**/"], "file/", True), (["**"], "/", True), (["**/"], "/", True),
    (["**"], "dir/file", True), (["**/"], "dir/file", True), (["**"], "dir/file/", True),
    (["**/"], "dir/file/", True), (["**/**"], "dir/file", True), (["**/**"], "dir/file/", True),
    (["dir/**"], "dir/file", True), (["dir/**"], "dir/file/", True),
    (["dir/**"], "dir/dir2/file", True), (["dir/**"], "dir/dir2/file/", True),
    (["**/dir"], "dir", True), (["**/dir"], "dir/file", True),
    (["**/dir2/*"], "dir/dir2/file", True), (["**/dir2/*"], "dir/dir2/file/", True),
    (["**/dir2/**"], "dir/dir2/dir3/file", True), (["**/dir2/**"], "dir/dir2/dir3/file/", True),
    (["**file"], "file", True), (["**file"], "dir/file", True), (["**/file"], "dir/file", True),
    (["**file"], "dir/dir/file", True), (["**/file"], "dir/dir/file", True),
    (["**/file*"], "dir/dir/file", True), (["**/file*"], "dir/dir/file.txt", True),
    (["**/file*txt"], "dir/dir/file.txt", True), (["**/file*.txt"], "dir/dir/file.txt", True),
    (["**/file*.txt*"], "dir/dir/file.txt", True), (["**/**/*.txt"], "dir/dir/file.txt", True),
    (["**/**/*.txt2"], "dir/dir/file.txt", False), (["**/*.txt"], "file.txt", True),
    (["**/**/*.txt"], "file.txt", True), (["a**/*.txt"], "a/file.txt", True),
    (["a**/*.txt"], "a/dir/file.txt", True), (["a**/*.txt"], "a/dir/dir/file.txt", True),
    (["a/*.txt"], "a/dir/file.txt", False), (["a/*.txt"], "a/file.txt", True),
    (["a/*.txt**"], "a/file.txt", True), (["a[b-d]e"], "ae", False), (["a[b-d]e"], "ace", True),
    (["a[b-d]e"], "aae", False), (["a[^b-d]e"], "aze", True), ([".*"], ".foo", True),
    ([".*"], "foo", False), (["abc.def"], "abcdef", False), (["abc.def"], "abc.def", True),
    (["abc.def"], "abcZdef", False), (["abc?def"], "abcZdef", True), (["abc?def"], "abcdef", False),
    (["a\\\\"], "a\\", True), (["**/foo/bar"], "foo/bar", True), (["**/foo/bar"], "dir/foo/bar", True),
    (["**/foo/bar"], "dir/dir2/foo/bar", True), (["abc/**"], "abc", False),
    (["abc/**"], "abc/def", True), (["abc/**"], "abc/def/ghi", True), (["**/.foo"], ".foo", True),
    (["**/.foo"], "bar.foo", False), (["a(b)c/def"], "a(b)c/def", True),
    (["a(b)c/def"], "a(b)c/xyz", False), (["a.|)$(}+{bc"], "a.|)$(}+{bc", True),
    (["dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", True),
    (["a\\*b"], "a*b", True),
    (["**", "!util/docker/web"], "util/docker/web/foo", False),
    (["**", "!util/docker/web", "util/docker/web/foo"], "util/docker/web/foo", True),
    (["**", "!dist/*.whl"], "dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl", False),
    # `*` is the top level only (then covers what is under a match)
    (["*.md"], "README.md", True), (["*.md"], "clients/rust/README.md", False),
    (["*"], "src/main.rs", True), (["*", "!src/"], "src/main.rs", False),
    # exceptions: the last matching line wins
    (["clients/", "!clients/rust"], "clients/rust/Cargo.toml", False),
    (["clients/", "!clients/rust"], "clients/go/go.mod", True),
    (["!clients/rust", "clients/"], "clients/rust/Cargo.toml", True),
    (["*", "!clients/rust/", "**/target/"], "clients/rust/target/debug/x", True),
    (["*", "!clients/rust/", "**/target/"], "clients/rust/src/lib.rs", False),
    (["*", "!benches/**/*.rs"], "benches/generator.rs", False),
    (["*", "!benches/**/*.rs"], "benches/generator/main.rs", False),
    (["*", "!benches/**/*.rs"], "benches/load.sh", True),
    (["*", "!benches/**/*.rs"], "benches/.tools/bin/ghz", True),
]


def self_test() -> int:
    failed = 0
    for lines, path, want in SELF_TEST:
        patterns = []
        for line in lines:
            exclusion = line.startswith("!")
            patterns.append(IgnorePattern(go_clean(line[1:] if exclusion else line), exclusion))
        got = ignored(path, patterns)
        if got != want:
            failed += 1
            print(f"FAIL: {lines} on {path!r}: ignored={got}, docker says {want}")
    print(f"dockerignore matcher: {len(SELF_TEST) - failed}/{len(SELF_TEST)} cases as docker")
    return 1 if failed else 0


# --------------------------------------------------------------------------
# Dockerfile
# --------------------------------------------------------------------------


@dataclass
class Instruction:
    line: int
    cmd: str  # upper case
    args: str  # raw, continuation lines joined


@dataclass
class Stage:
    name: str | None
    base: str
    instructions: list[Instruction] = field(default_factory=list)


def parse_dockerfile(text: str) -> tuple[list[Instruction], list[Stage]]:
    """Logical instructions (comment lines dropped, continuations joined),
    split into the global part (before the first FROM) and stages."""
    lines = text.splitlines()
    escape = "\\"
    for line in lines:  # parser directives, at the very top only
        m = re.match(r"^#\s*([a-zA-Z]+)\s*=\s*(\S+)\s*$", line)
        if not m:
            break
        if m.group(1).lower() == "escape":
            escape = m.group(2)
    instructions: list[Instruction] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        start = i + 1
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        parts = []
        while True:
            stripped = line.rstrip()
            if stripped.endswith(escape):
                parts.append(stripped[: -len(escape)])
                # the next non-comment, non-empty line continues it
                while i < len(lines) and (not lines[i].strip() or lines[i].lstrip().startswith("#")):
                    i += 1
                if i >= len(lines):
                    break
                line = lines[i]
                i += 1
                continue
            parts.append(line)
            break
        joined = "".join(parts).strip()
        cmd, _, args = joined.partition(" ")
        instructions.append(Instruction(start, cmd.upper(), args.strip()))
        if re.search(r"<<-?\s*['\"]?[A-Za-z_]\w*['\"]?\s*$", joined) and cmd.upper() in ("RUN", "COPY", "ADD"):
            raise Unsupported(f"line {start}: heredocs are not supported")
    global_part: list[Instruction] = []
    stages: list[Stage] = []
    for ins in instructions:
        if ins.cmd == "FROM":
            words = [w for w in ins.args.split() if not w.startswith("--")]
            name = words[2] if len(words) >= 3 and words[1].lower() == "as" else None
            stages.append(Stage(name, words[0]))
        elif stages:
            stages[-1].instructions.append(ins)
        else:
            global_part.append(ins)
    return global_part, stages


VAR = re.compile(r"\$(?:\{(\w+)(?::([-+])([^}]*))?\}|(\w+))")


def expand(word: str, env: dict[str, str]) -> str:
    """Dockerfile variable substitution: $VAR, ${VAR}, ${VAR:-word}, ${VAR:+word}."""

    def sub(m: re.Match) -> str:
        name = m.group(1) or m.group(4)
        value = env.get(name, "")
        if m.group(2) == "-":
            return value or m.group(3)
        if m.group(2) == "+":
            return m.group(3) if value else ""
        return value

    return VAR.sub(sub, word)


def split_flags(args: str) -> tuple[dict[str, list[str]], str]:
    """Leading --flag=value options of an instruction, and the rest."""
    flags: dict[str, list[str]] = {}
    rest = args
    while True:
        m = re.match(r"--([a-z-]+)(?:=(\S*))?\s+", rest)
        if not m:
            return flags, rest.strip()
        flags.setdefault(m.group(1), []).append(m.group(2) or "")
        rest = rest[m.end():]


def parse_kv_list(args: str) -> list[tuple[str, str | None]]:
    """ARG/ENV/LABEL operands: key=value pairs (shell-quoted) or the legacy `ENV key value`."""
    words = shlex.split(args, posix=True)
    if len(words) >= 2 and "=" not in words[0]:  # ENV key value with spaces
        return [(words[0], " ".join(words[1:]))]
    out: list[tuple[str, str | None]] = []
    for w in words:
        k, eq, v = w.partition("=")
        out.append((k, v if eq else None))
    return out


def json_or_words(rest: str) -> list[str]:
    if rest.startswith("["):
        return json.loads(rest)
    return shlex.split(rest, posix=True)


# --------------------------------------------------------------------------
# the replay
# --------------------------------------------------------------------------


def machine_arch() -> str:
    m = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(m, m)


def platform_args(arch: str) -> dict[str, str]:
    args = {}
    for prefix in ("TARGET", "BUILD"):
        args[prefix + "PLATFORM"] = f"linux/{arch}"
        args[prefix + "OS"] = "linux"
        args[prefix + "ARCH"] = arch
        args[prefix + "VARIANT"] = ""
    return args


def has_glob(s: str) -> bool:
    return any(c in s for c in "*?[")


class Replay:
    def __init__(self, context: Path, files: list[str], root: Path, target_dir: Path,
                 stage: Stage, build_args: dict[str, str], own_tops: set[str]):
        self.context = context
        self.files = files
        self.fileset = set(files)
        self.root = root
        self.target_dir = target_dir
        self.stage = stage
        self.build_args = build_args
        self.own_tops = own_tops
        self.workdir = "/"
        self.env: dict[str, str] = {}
        self.shell = ["/bin/sh", "-c"]
        self.copied: list[str] = []
        self.global_args: dict[str, str] = {}

    def host(self, abspath: str) -> Path:
        return self.root / abspath.lstrip("/")

    def abs_in_stage(self, path: str) -> str:
        return go_clean(path if path.startswith("/") else posixpath.join(self.workdir, path))

    # -- context lookups, as docker resolves COPY sources ------------------
    def sources(self, src: str) -> list[tuple[str, bool]]:
        """(context-relative path, is_dir) for one COPY source."""
        rel = go_clean(src.lstrip("/"))
        if rel.startswith(".."):
            raise BuildError(f"COPY {src}: outside the build context")
        if rel == ".":
            return [("", True)]
        if has_glob(rel):
            # filepath.Match, segment by segment: `*` does not cross `/`.
            pattern = rel.split("/")
            found = set()
            for f in self.files:
                parts = f.split("/")
                if len(parts) >= len(pattern) and all(
                    fnmatch.fnmatchcase(a, b) for a, b in zip(parts, pattern)
                ):
                    found.add(("/".join(parts[: len(pattern)]), len(parts) > len(pattern)))
            if not found:
                raise BuildError(f"COPY {src}: no source files were specified (nothing in the build context matches)")
            return sorted(found)
        if rel in self.fileset:
            return [(rel, False)]
        if any(f.startswith(rel + "/") for f in self.files):
            return [(rel, True)]
        reason = "excluded by .dockerignore" if (self.context / rel).exists() else "not in the build context"
        raise BuildError(f"COPY {src}: \"/{rel}\" not found ({reason})")

    def put(self, rel_file: str, dest: Path) -> None:
        dest.parent.mkdir(parents=True, exist_ok=True)
        srcp = self.context / rel_file
        if dest.exists() or dest.is_symlink():
            if dest.is_dir() and not dest.is_symlink():
                shutil.rmtree(dest)
            else:
                dest.unlink()
        if srcp.is_symlink():
            os.symlink(os.readlink(srcp), dest)
        else:
            shutil.copy2(srcp, dest)
        self.copied.append(str(dest.relative_to(self.root)))

    def copy(self, ins: Instruction) -> None:
        flags, rest = split_flags(ins.args)
        unknown = set(flags) - {"chown", "chmod", "link"}
        if unknown:
            raise Unsupported(f"line {ins.line}: COPY --{'/--'.join(sorted(unknown))} is not supported")
        words = [expand(w, self.env) for w in json_or_words(rest)]
        if len(words) < 2:
            raise BuildError(f"line {ins.line}: COPY needs a source and a destination")
        *srcs, dest = words
        dest_abs = self.abs_in_stage(dest)
        multi = len(srcs) > 1 or any(has_glob(s) for s in srcs)
        if multi and not dest.endswith("/"):
            raise BuildError(f"line {ins.line}: when using COPY with more than one source file, "
                             "the destination must be a directory and end with a /")
        dest_is_dir = dest.endswith("/") or dest in (".", "./") or multi or self.host(dest_abs).is_dir()
        for src in srcs:
            for rel, is_dir in self.sources(src):
                if is_dir:
                    prefix = rel + "/" if rel else ""
                    for f in self.files:
                        if f.startswith(prefix):
                            self.put(f, self.host(dest_abs) / f[len(prefix):])
                elif dest_is_dir:
                    self.put(rel, self.host(dest_abs) / posixpath.basename(rel))
                else:
                    self.put(rel, self.host(dest_abs))

    def rewrite_paths(self, script: str) -> str:
        """Absolute paths under the stage's own directories, into the root."""
        if not self.own_tops:
            return script
        tops = "|".join(re.escape(t) for t in sorted(self.own_tops))
        pattern = re.compile(r"(?<![\w.~/$}-])/(" + tops + r")(?![\w.-])")
        return pattern.sub(lambda m: str(self.root) + "/" + m.group(1), script)

    def run(self, ins: Instruction) -> None:
        flags, rest = split_flags(ins.args)
        env = dict(os.environ)
        env.update(self.env)
        for mount in flags.pop("mount", []):
            opts = dict(o.partition("=")[::2] for o in expand(mount, self.env).split(","))
            mtype = opts.get("type", "bind")
            target = opts.get("target") or opts.get("dst") or opts.get("destination") or ""
            if mtype == "cache":
                target_abs = self.abs_in_stage(target)
                if target_abs == self.abs_in_stage("target"):
                    # The workspace's target dir: the project's own.
                    link = self.host(target_abs)
                    link.parent.mkdir(parents=True, exist_ok=True)
                    if not link.is_symlink():
                        link.symlink_to(self.target_dir, target_is_directory=True)
                    env["CARGO_TARGET_DIR"] = str(self.target_dir)
                    print(f"  cache mount {target_abs} -> {self.target_dir}")
                elif target_abs.split("/")[1] in self.own_tops:
                    self.host(target_abs).mkdir(parents=True, exist_ok=True)
                    print(f"  cache mount {target_abs} -> an empty directory")
                else:
                    print(f"  cache mount {target_abs} -> the host's own (not replayed)")
            elif mtype == "tmpfs":
                self.host(self.abs_in_stage(target)).mkdir(parents=True, exist_ok=True)
            else:
                raise Unsupported(f"line {ins.line}: RUN --mount=type={mtype} is not supported")
        unknown = set(flags) - {"network", "security"}
        if unknown:
            raise Unsupported(f"line {ins.line}: RUN --{'/--'.join(sorted(unknown))} is not supported")
        env["CARGO_NET_OFFLINE"] = "true"  # cargo --offline
        if rest.startswith("["):
            argv = [self.rewrite_paths(a) for a in json.loads(rest)]
        else:
            argv = self.shell + [self.rewrite_paths(rest)]
        cwd = self.host(self.workdir)
        cwd.mkdir(parents=True, exist_ok=True)
        print(f"  RUN (line {ins.line}) in {cwd}, with CARGO_NET_OFFLINE=true"
              + "".join(f" {k}={self.env[k]}" for k in sorted(self.env)))
        print("  " + argv[-1])
        sys.stdout.flush()
        result = subprocess.run(argv, cwd=cwd, env=env)
        if result.returncode != 0:
            raise BuildError(f"line {ins.line}: RUN exited with {result.returncode}")

    def replay(self) -> None:
        started = False
        for ins in self.stage.instructions:
            if ins.cmd in ("ONBUILD",):
                raise Unsupported(f"line {ins.line}: {ins.cmd} is not supported")
            if ins.cmd == "ARG":
                for k, v in parse_kv_list(ins.args):
                    if k in self.build_args:
                        self.env[k] = self.build_args[k]
                    elif v is not None:
                        self.env[k] = expand(v, self.env)
                    elif k in self.global_args:
                        self.env[k] = self.global_args[k]
            elif ins.cmd == "ENV":
                for k, v in parse_kv_list(ins.args):
                    self.env[k] = expand(v or "", self.env)
            elif ins.cmd == "WORKDIR":
                self.workdir = self.abs_in_stage(expand(ins.args, self.env))
                self.host(self.workdir).mkdir(parents=True, exist_ok=True)
            elif ins.cmd == "SHELL":
                self.shell = json.loads(ins.args)
            elif ins.cmd in ("COPY", "ADD"):
                flags, _ = split_flags(ins.args)
                if "from" in flags:
                    raise Unsupported(f"line {ins.line}: COPY --from in the builder stage is not supported")
                if ins.cmd == "ADD" and re.search(r"(https?|git)://|git@", ins.args):
                    raise Unsupported(f"line {ins.line}: ADD from a URL is not supported")
                print(f"COPY (line {ins.line}) {ins.args}")
                before = len(self.copied)
                self.copy(ins)
                print(f"  {len(self.copied) - before} files")
                started = True
            elif ins.cmd == "RUN":
                if not started:
                    print(f"skipped (line {ins.line}, before the sources: the host's toolchain stands in): "
                          f"RUN {ins.args.splitlines()[0][:100]}")
                    continue
                self.run(ins)
            elif ins.cmd in ("LABEL", "EXPOSE", "USER", "VOLUME", "STOPSIGNAL", "HEALTHCHECK",
                             "CMD", "ENTRYPOINT", "MAINTAINER"):
                continue
            else:
                raise Unsupported(f"line {ins.line}: {ins.cmd} is not supported")


def copies_from(stages: list[Stage], name: str) -> list[str]:
    """Absolute source paths later stages copy `--from=name`."""
    paths = []
    for stage in stages:
        for ins in stage.instructions:
            if ins.cmd != "COPY":
                continue
            flags, rest = split_flags(ins.args)
            if flags.get("from", [None])[0] == name:
                paths += [go_clean(p) for p in json_or_words(rest)[:-1]]
    return paths


def main() -> int:
    here = Path(__file__).resolve().parent
    project = here.parent.parent
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--context", type=Path, default=project, help="build context (default: the project root)")
    ap.add_argument("--dockerfile", type=Path, help="default: CONTEXT/Dockerfile")
    ap.add_argument("--stage", default="builder", help="the stage to replay (default: builder)")
    ap.add_argument("--target-dir", type=Path, default=project / "target",
                    help="Cargo target dir standing in for the cache mount (default: the project's target/)")
    ap.add_argument("--build-arg", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--export", type=Path, metavar="DIR",
                    help="copy what later stages take from the stage into DIR (for --build-context builder=DIR)")
    ap.add_argument("--keep", type=Path, metavar="DIR", help="replay in DIR (kept) instead of a temporary directory")
    ap.add_argument("--list-context", action="store_true", help="print the build context's files and exit")
    ap.add_argument("--self-test", action="store_true", help="check the .dockerignore matcher against docker's cases")
    opts = ap.parse_args()
    if opts.self_test:
        return self_test()

    context = opts.context.resolve()
    dockerfile = (opts.dockerfile or context / "Dockerfile").resolve()
    try:
        patterns = read_dockerignore(context / ".dockerignore")
        files = context_files(context, patterns)
        if opts.list_context:
            print("\n".join(files))
            return 0
        global_part, stages = parse_dockerfile(dockerfile.read_text(encoding="utf-8"))
        stage = next((s for s in stages if s.name and s.name.lower() == opts.stage.lower()), None)
        if stage is None:
            raise Unsupported(f"{dockerfile}: no stage named {opts.stage}")
        build_args = platform_args(machine_arch())
        build_args.update(dict(a.partition("=")[::2] for a in opts.build_arg))
        wanted = copies_from(stages, stage.name)
        workdirs = [expand(i.args, {}) for i in stage.instructions if i.cmd == "WORKDIR"]
        own_tops = {p.split("/")[1] for p in wanted + [w for w in workdirs if w.startswith("/")] if p.startswith("/")}
        own_tops.discard("")
        print(f"# builder stage '{stage.name}' (FROM {stage.base}) of {dockerfile}, "
              f"context {context} ({len(files)} files after .dockerignore), TARGETARCH={build_args['TARGETARCH']}")

        tmp = None
        if opts.keep:
            root = opts.keep.resolve()
            if root.exists():
                shutil.rmtree(root)
            root.mkdir(parents=True)
        else:
            tmp = tempfile.TemporaryDirectory(prefix="builder-root.")
            root = Path(tmp.name)
        try:
            target_dir = opts.target_dir.resolve()
            target_dir.mkdir(parents=True, exist_ok=True)
            replay = Replay(context, files, root, target_dir, stage, build_args, own_tops)
            for ins in global_part:
                if ins.cmd == "ARG":
                    for k, v in parse_kv_list(ins.args):
                        replay.global_args[k] = build_args.get(k, v or "")
            replay.replay()
            missing = [p for p in wanted if not replay.host(p).exists()]
            if missing:
                raise BuildError(f"the stage does not produce {', '.join(missing)}, which later stages copy from it")
            for p in wanted:
                print(f"produced {p} ({replay.host(p).stat().st_size} bytes)")
                if opts.export:
                    dest = opts.export / p.lstrip("/")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    if replay.host(p).is_dir():
                        shutil.copytree(replay.host(p), dest, dirs_exist_ok=True)
                    else:
                        shutil.copy2(replay.host(p), dest)
        finally:
            if tmp:
                tmp.cleanup()
    except Unsupported as e:
        print(f"builder_context: cannot replay: {e}", file=sys.stderr)
        return 2
    except BuildError as e:
        print(f"builder_context: the builder stage fails: {e}", file=sys.stderr)
        return 1
    print("# the builder stage builds from its own context")
    return 0


if __name__ == "__main__":
    sys.exit(main())
