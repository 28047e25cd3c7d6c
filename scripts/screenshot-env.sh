# screenshot-env.sh — what scripts/*-screenshot.sh share, sourced (not run): the repository as the working directory,
# LC_ALL=C, a scratch directory $tmp removed at exit, the browser tier's playwright-core installed when missing, and
# png_finish, which makes the photographed PNG smaller (pngquant, else optipng, when there) and moves it into place.
export LC_ALL=C
cd "$(dirname "${BASH_SOURCE[0]}")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if [ ! -d tests/browser/node_modules/playwright-core ]; then
    (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
fi

png_finish() { # PNG OUT
    if command -v pngquant >/dev/null 2>&1; then
        pngquant --force --quality 70-95 --output "$tmp/q.png" "$1" && mv "$tmp/q.png" "$1"
    elif command -v optipng >/dev/null 2>&1; then
        optipng -quiet -o2 "$1"
    fi
    mv "$1" "$2"
    echo "$2: $(wc -c <"$2") bytes"
}
