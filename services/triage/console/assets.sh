#!/bin/sh
# Build the duty-officer console's front-end assets from npm (run by `make install`).
#
#   services/triage/console/assets.sh [NODE_DIR]
#
# Installs govuk-frontend@5, sass and axe-core into NODE_DIR (default: var/node, git-ignored), compiles
# GOV.UK Frontend with the partnership's settings (system font: the GDS Transport font and the crown are for
# gov.uk services only; assets served from /static/govuk/assets/) into services/triage/console/static/govuk/
# (git-ignored), and copies its JavaScript, images and manifest beside it. axe-core stays in NODE_DIR for
# the browser tests (NODE_DIR/node_modules/axe-core/axe.min.js).
#
# Best effort: without node/npm or the registry this prints a note and exits 0; the console then serves
# its fallback stylesheet and logs `console_assets_missing` at start-up.
set -u

ROOT=$(CDPATH= cd -- "$(dirname -- "$0")/../../.." && pwd)
NODE_DIR=${1:-$ROOT/var/node}
DEST=$ROOT/services/triage/console/static/govuk
STAMP=$DEST/.built-from

note() { echo "console assets: $*" >&2; }

if ! command -v npm >/dev/null 2>&1 || ! command -v node >/dev/null 2>&1; then
  note "node/npm not found; the console will use its fallback stylesheet"
  exit 0
fi

mkdir -p "$NODE_DIR" || exit 0
[ -f "$NODE_DIR/package.json" ] || echo '{"name": "sosafe-console-assets", "private": true}' > "$NODE_DIR/package.json"

if ! npm install --prefix "$NODE_DIR" --no-audit --no-fund --ignore-scripts --loglevel=error --fetch-retries=1 --fetch-timeout=30000 \
    govuk-frontend@5 sass@1 axe-core@4 >"$NODE_DIR/npm-install.log" 2>&1; then
  note "npm install failed (registry unreachable? see $NODE_DIR/npm-install.log); the console will use its fallback stylesheet"
  exit 0
fi

GOVUK=$NODE_DIR/node_modules/govuk-frontend/dist/govuk
VERSION=$(node -p "require('$NODE_DIR/node_modules/govuk-frontend/package.json').version" 2>/dev/null || echo unknown)
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "govuk-frontend@$VERSION" ] && [ -f "$DEST/govuk-frontend.min.css" ]; then
  note "govuk-frontend@$VERSION already built"
  exit 0
fi

WORK=$(mktemp -d) || exit 0
trap 'rm -rf "$WORK"' EXIT
cat > "$WORK/console.scss" <<'SCSS'
$govuk-font-family: arial, sans-serif;
$govuk-include-default-font-face: false;
$govuk-assets-path: "/static/govuk/assets/";
@import "govuk-frontend/dist/govuk/index";
SCSS

if ! "$NODE_DIR/node_modules/.bin/sass" --load-path="$NODE_DIR/node_modules" --style=compressed \
    --no-source-map --quiet --quiet-deps "$WORK/console.scss" "$WORK/govuk-frontend.min.css"; then
  note "sass could not compile govuk-frontend; the console will use its fallback stylesheet"
  exit 0
fi

rm -rf "$DEST.tmp" && mkdir -p "$DEST.tmp/assets" || exit 0
cp "$WORK/govuk-frontend.min.css" "$DEST.tmp/" &&
  cp "$GOVUK/govuk-frontend.min.js" "$DEST.tmp/" &&
  cp -R "$GOVUK/assets/images" "$DEST.tmp/assets/" &&
  cp "$GOVUK/assets/manifest.json" "$DEST.tmp/assets/" &&
  echo "govuk-frontend@$VERSION" > "$DEST.tmp/.built-from" || { note "copy failed"; rm -rf "$DEST.tmp"; exit 0; }
rm -rf "$DEST" && mv "$DEST.tmp" "$DEST"
note "built govuk-frontend@$VERSION into $DEST"
