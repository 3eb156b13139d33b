#!/usr/bin/env python3
"""Checks that each C file includes exactly the project headers it uses.

    scripts/check-includes.py [--fix] FILE...

A project header is one of tools/lib/*.h.  What a header declares: the
functions and extern variables it declares, the structs and enums it defines
(not the ones it only names ahead, "struct mig_db;"), their constants, and
its macros.  A file uses a header when its code (comments and string literals
left out) names one of those.  Two findings, each "file: what" on stderr:

- "includes X.h but uses none of its names" (the include can go);
- "uses NAME of X.h without including it" (it leans on another header to
  bring X.h in, so removing that include would break it).

A module's own header (foo.h for foo.c) always counts as used.  Exit status:
0 clean, 1 with findings, 2 for bad usage.  --fix rewrites the first block of
project includes of each file to the exact list (own header first, then the
rest by name), for the split's mechanical work; the check is what a test runs.
"""
import os
import re
import sys

LIB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools", "lib")

COMMENT_OR_STRING = re.compile(
    r'//[^\n]*|/\*.*?\*/|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
INCLUDE = re.compile(r'^#include "([^"]+)"[^\n]*\n', re.M)


def code_of(text):
    """The text with comments and literals blanked (includes are kept apart)."""
    return COMMENT_OR_STRING.sub(lambda m: '""' if m.group(0)[0] == '"' else " ", text)


def declared_names(text):
    """The names a header gives its includers, and the ones it names ahead."""
    code = code_of(text)
    names, ahead = set(), set()
    guard = None
    for m in re.finditer(r"^#ifndef (\w+)\n#define \1\b", code, re.M):
        guard = m.group(1)
    for m in re.finditer(r"^#define (\w+)", code, re.M):
        if m.group(1) != guard:
            names.add(m.group(1))
    for m in re.finditer(r"^(struct|enum|union) (\w+) \{([^{}]*)\};", code, re.M):
        names.add(m.group(2))
        if m.group(1) == "enum":
            names.update(re.findall(r"(?:^|[{,])\s*([A-Z_][A-Z0-9_]*)\s*(?=[,=}]|$)",
                                    "{" + m.group(3) + "}", re.M))
    for m in re.finditer(r"^(struct|union) (\w+);", code, re.M):
        ahead.add(m.group(2))
    # Top-level declarations: a line at column 0 that is not a preprocessor
    # line or a struct body; the name is the word before the first '(' of a
    # function, or the last word before ';' of an extern variable.
    depth = 0
    statement = ""
    for line in code.split("\n"):
        if depth == 0 and not line.startswith("#"):
            statement += line + "\n"
            if ";" in line or "{" in line:
                s = statement
                statement = ""
                if "{" in s:
                    depth += s.count("{") - s.count("}")
                    continue
                if s.lstrip().startswith(("typedef", "struct", "enum", "union")) and "(" not in s:
                    continue
                m = re.match(r"[^(]*?\b(\w+)\s*\(", s, re.S)
                if m and not s.lstrip().startswith("extern"):
                    names.add(m.group(1))
                elif s.lstrip().startswith("extern"):
                    m = re.search(r"(\w+)\s*(\[[^\]]*\])?\s*;", s)
                    if m:
                        names.add(m.group(1))
        else:
            depth += line.count("{") - line.count("}")
            if depth < 0:
                depth = 0
    return names, ahead


def load_headers():
    headers = {}
    for name in sorted(os.listdir(LIB)):
        if name.endswith(".h"):
            with open(os.path.join(LIB, name), encoding="utf-8") as f:
                headers[name] = declared_names(f.read())
    owner = {}
    for h, (names, _) in headers.items():
        for n in names:
            owner.setdefault(n, set()).add(h)
    return headers, owner


def check(path, headers, owner, fix):
    with open(path, encoding="utf-8") as f:
        text = f.read()
    base = os.path.basename(path)
    own = base[:-2] + ".h"
    included = [h for h in INCLUDE.findall(text) if h in headers]
    body = INCLUDE.sub("", text)
    used_words = set(WORD.findall(code_of(body)))
    ahead = headers[base][1] if base in headers else set()
    needed = set()
    first_user = {}
    for w in sorted(used_words):
        for h in owner.get(w, ()):
            if h == base or w in ahead:
                continue
            needed.add(h)
            first_user.setdefault(h, w)
    if own in headers and base != own:
        needed.add(own)
    if fix:
        want = ([own] if own in needed else []) + sorted(needed - {own})
        lines = "".join(f'#include "{h}"\n' for h in want)
        m = re.search(r'(^#include "[^"]+"[^\n]*\n)+', text, re.M)
        if m:
            kept = [line + "\n" for line in m.group(0).splitlines()
                    if INCLUDE.match(line + "\n").group(1) not in headers]
            text = text[:m.start()] + lines + "".join(kept) + text[m.end():]
        else:
            m = re.search(r"^#(?:ifndef \w+\n#define \w+\n|define _\w+ .*\n)", text, re.M)
            at = m.end() if m else 0
            text = text[:at] + ("\n" if m and text[:at].startswith("#ifndef") else "") + lines + text[at:]
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return []
    problems = []
    for h in included:
        if h not in needed:
            problems.append(f"{path}: includes {h} but uses none of its names")
    for h in sorted(needed - set(included)):
        problems.append(f"{path}: uses {first_user.get(h, h[:-2])} of {h} without including it")
    return problems


def main(argv):
    fix = False
    files = []
    for a in argv:
        if a == "--fix":
            fix = True
        elif a.startswith("-"):
            print(f"check-includes: unknown option {a}", file=sys.stderr)
            return 2
        else:
            files.append(a)
    if not files:
        print(__doc__.split("\n\n")[1].strip(), file=sys.stderr)
        return 2
    headers, owner = load_headers()
    problems = []
    for path in files:
        problems += check(path, headers, owner, fix)
        if fix:
            headers, owner = load_headers()
    for p in problems:
        print(p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
