#!/usr/bin/env bash
# Builds the HTML documentation site into $1 (default docs/_build); see docs/development.md.
# Runs with .venv-docs/bin first on PATH (the Makefile's docs-site target).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$REPO/docs/_build}
cd "$REPO"
read -r NS NAME VERSION < <(python -c 'import yaml; d = yaml.safe_load(open("galaxy.yml")); print(d["namespace"], d["name"], d["version"])')
start=$(date +%s)
rm -rf "$OUT"; mkdir -p "$OUT"
SPHINX=$OUT/sphinx; RST=$SPHINX/rst
# Outside the repository: a symlink to the repository inside it would loop for tools that walk it.
WORK=$(mktemp -d "${TMPDIR:-/tmp}/$NS-$NAME-docs.XXXXXX"); trap 'rm -rf "$WORK"' EXIT

# The collection as ansible-doc sees it: a symlink tree for the reference pages, a copy (tracked and
# untracked, non-ignored files) for antsibull-changelog, which writes into the collection it runs in.
mkdir -p "$WORK/tree/ansible_collections/$NS" "$WORK/copy"
ln -s "$REPO" "$WORK/tree/ansible_collections/$NS/$NAME"
git ls-files -z -co --exclude-standard | tar --null --ignore-failed-read -T - -cf - | tar -xf - -C "$WORK/copy"
export ANSIBLE_COLLECTIONS_PATH=$WORK/tree

mkdir -p "$SPHINX"; chmod 755 "$SPHINX"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$SPHINX" \
  --index-rst-source docs/site/index.rst --project "$NS.$NAME" --copyright "$NS.$NAME developers" \
  --title "$NS.$NAME $VERSION" "$NS.$NAME" > "$OUT/sphinx-init.log" || { cat "$OUT/sphinx-init.log" >&2; exit 1; }
# No inventories of docs.ansible.com/python.org offline: no intersphinx; guides are Markdown (MyST).
cat docs/site/conf_extra.py.in >> "$SPHINX/conf.py"

# Module and role reference pages, from the same DOCUMENTATION/argument_specs as ansible-doc.
chmod og-w "$RST"
antsibull-docs --config-file "$SPHINX/antsibull-docs.cfg" collection --use-current --fail-on-error \
  --dest-dir "$RST" "$NS.$NAME"

# Guides and the repository's documents, copied to the same places as in the repository, so that their relative
# links (which plain Markdown readers follow in the repository and the installed collection) resolve here too.
mkdir -p "$RST/docs/guides"
cp docs/guides/*.md "$RST/docs/guides/"
cp docs/*.md "$RST/docs/"
cp docs/*.png "$RST/docs/" 2>/dev/null || true   # figures of generated pages (performance.md)
cp README.md COPYING "$RST/"
cp docs/site/ansible_refs.rst "$RST/"
for r in roles/*/; do mkdir -p "$RST/$r"; cp "$r/README.md" "$RST/$r/README.md"; done
python docs/site/error_codes.py "$WORK/tree" --check docs/guides/troubleshooting.md

# Changelog: antsibull-changelog releases the fragments in the copy (the repository is untouched).
# A version already in changelogs/changelog.yaml gets any newer fragments added to it (its date kept).
(cd "$WORK/copy" && antsibull-changelog release --version "$VERSION" --date "$(date +%F)" > /dev/null)
cp "$WORK/copy/CHANGELOG.rst" "$RST/changelog.rst"

# -W: warnings are errors; -n: every cross-reference must resolve.
sphinx-build -q -W --keep-going -n -b html -c "$SPHINX" "$RST" "$OUT/html" 2> "$OUT/sphinx-warnings.log" || {
  cat "$OUT/sphinx-warnings.log" >&2; exit 1; }
pages=$(find "$OUT/html" -name '*.html' | wc -l)
echo "docs-site: $pages HTML pages in $OUT/html, 0 warnings, $(( $(date +%s) - start )) s"
python docs/site/linkcheck.py "$OUT/html"
