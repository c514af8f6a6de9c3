"""Regenerate tests/golden/<policy>/ from examples/policies/*.yml (all but the generated one).

Run `make golden` (or `.venv/bin/python tools/regen-golden.py`), then review `git diff
tests/golden`: the diff is exactly what the template change does to real policies."""
import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "build", "collections"))

from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.engine import (  # noqa: E402
    check_policy_file)
from ansible_collections.netpolicy.vpn_passthrough.plugins.module_utils.render import (  # noqa: E402
    render_policy)

EXAMPLES = os.path.join(ROOT, "examples", "policies")
GOLDEN = os.path.join(ROOT, "tests", "golden")
SKIP = ("large-generated.yml",)
DOCS = os.path.join(ROOT, "docs", "rendering.md")
DOCS_EXAMPLE = "branch-office"
BEGIN, END = "<!-- BEGIN rendered %s -->", "<!-- END rendered %s -->"


def example_policies():
    return sorted(name for name in os.listdir(EXAMPLES)
                  if name.endswith((".yml", ".yaml")) and name not in SKIP)


def rendered(name):
    result = check_policy_file(os.path.join(EXAMPLES, name))
    if result.policy is None:
        raise SystemExit("%s does not pass the schema: %s" % (
            name, "; ".join(f.message for f in result.findings)))
    return render_policy(result.policy)


def docs_block(files):
    """The Markdown that docs/rendering.md embeds between its markers."""
    parts = []
    for filename in ("nftables.nft", "sysctl.conf", "modules-load.conf"):
        parts.append("`%s`:\n\n```\n%s```\n" % (filename, files[filename]))
    return "\n".join(parts)


def docs_with_example(text, stem, files):
    """docs text with the block between the example's markers replaced."""
    begin, end = BEGIN % stem, END % stem
    head, sep, rest = text.partition(begin)
    _block, sep2, tail = rest.partition(end)
    if not (sep and sep2):
        raise SystemExit("docs/rendering.md lacks the markers %s ... %s" % (begin, end))
    return "%s%s\n%s%s%s" % (head, begin, docs_block(files), end, tail)


def main():
    wanted = set()
    for name in example_policies():
        stem = os.path.splitext(name)[0]
        wanted.add(stem)
        target = os.path.join(GOLDEN, stem)
        os.makedirs(target, exist_ok=True)
        for filename, text in sorted(rendered(name).items()):
            with open(os.path.join(target, filename), "w") as handle:
                handle.write(text)
        print("wrote tests/golden/%s/" % stem)
    with open(DOCS) as handle:
        docs = handle.read()
    updated = docs_with_example(docs, DOCS_EXAMPLE, rendered(DOCS_EXAMPLE + ".yml"))
    if updated != docs:
        with open(DOCS, "w") as handle:
            handle.write(updated)
        print("updated docs/rendering.md")
    for stale in sorted(set(os.listdir(GOLDEN)) - wanted):
        path = os.path.join(GOLDEN, stale)
        if os.path.isdir(path):
            shutil.rmtree(path)
            print("removed stale tests/golden/%s/" % stale)
    return 0


if __name__ == "__main__":
    sys.exit(main())
